import { readFileSync } from 'node:fs';
import { HashedModel } from '../dist/src/lm/hashed.js';
import { native } from '../dist/src/native/index.js';
const h = HashedModel.load('/tmp/ziya-bench-score/zh.bin');
const lines = readFileSync('/work/shared/data/uer-py-zh-corpora/corpora/CLUECorpusSmall_sampled.txt', 'utf8').split('\n').filter((l) => l.trim());
const bytes = lines.reduce((a, l) => a + Buffer.byteLength(l), 0);
let tn = 0; const orig = native.ngramScore; native.ngramScore = (...a) => { const t = performance.now(); const r = orig(...a); tn += performance.now() - t; return r; };
for (let k = 0; k < 2; k++) { tn = 0; const t0 = performance.now(); for (const l of lines) h.scoreChars(l); const dt = performance.now() - t0; console.log((bytes/1e6/(dt/1000)).toFixed(2), 'MB/s; native share', (tn/dt*100).toFixed(0) + '%', 'avg chars/line', (bytes/3/lines.length).toFixed(0)); }
