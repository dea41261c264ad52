import { readFileSync } from 'node:fs';
import { HashedModel } from '../dist/src/lm/hashed.js';
import { native } from '../dist/src/native/index.js';
const h = HashedModel.load('/tmp/ziya-bench-score/en.bin');
const docs = readFileSync('/work/shared/data/wikitext2/word_language_model/data/wikitext-2/test.txt', 'utf8').split(/\n \n/).filter((l) => l.trim());
const bytes = docs.reduce((a, l) => a + Buffer.byteLength(l), 0);
let tn = 0; const orig = native.ngramScore; native.ngramScore = (...a) => { const t = performance.now(); const r = orig(...a); tn += performance.now() - t; return r; };
for (let k = 0; k < 2; k++) { tn = 0; let ts = 0; const t0 = performance.now(); for (const d of docs) for (const line of d.split('\n')) { const t1 = performance.now(); const u = line.split(/\s+/).filter(Boolean); ts += performance.now() - t1; if (u.length) h.scoreUnits(u); } const dt = performance.now() - t0; console.log((bytes/1e6/(dt/1000)).toFixed(2), 'MB/s; native', (tn/dt*100).toFixed(0) + '%', 'split', (ts/dt*100).toFixed(0)+'%'); }
