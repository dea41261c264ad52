/**
 * bench/langid: agreement of our language identifier with fastText lid.176.ftz
 * (../shared/data/fasttext-lid176, run through fasttext.wasm.js) on the shared
 * Chinese and English corpora and on the web-html pages, on the decision the
 * factory makes (zh / en / other), plus documents/s of both.
 *
 *   node dist/bench/langid.js
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { identifyLanguage } from '../src/factory/preprocess/langid.js';
import { htmlToText } from '../src/io/html.js';
import { sharedAvailable, sharedDocs, SHARED } from './corpus.js';

const bucket = (l: string) => (l === 'zh' || l === 'en' ? l : 'other');

async function main(): Promise<void> {
  const model = join(SHARED, 'fasttext-lid176/whatthelang/model/lid.176.ftz');
  if (!sharedAvailable() || !existsSync(model)) {
    process.stdout.write(`bench/langid: skipped: shared corpora or ${model} not found\n`);
    process.stdout.write(JSON.stringify({ name: 'langid_agreement', skipped: true }) + '\n');
    return;
  }
  const { getLIDModel } = await import('fasttext.wasm.js');
  const lid = await getLIDModel({ modelPath: pathToFileURL(model).href });
  await lid.load();
  const docs: { text: string; src: string }[] = [];
  for (const d of sharedDocs()) docs.push({ text: d.text, src: d.source });
  const web = join(SHARED, 'web-html');
  for (const sub of ['cache', 'eval']) {
    const dir = join(web, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) docs.push({ text: htmlToText(readFileSync(join(dir, f), 'utf8')), src: 'web-html' });
  }
  const ft = async (t: string) => {
    const r = await lid.identify(t.replace(/\n/g, ' ').slice(0, 4000));
    return r.alpha2 === 'zh' || (r as { alpha3?: string }).alpha3 === 'zho' || (r as { alpha3?: string }).alpha3 === 'cmn' ? 'zh' : (r.alpha2 ?? r.alpha3);
  };
  let agree = 0;
  const perSrc = new Map<string, { n: number; agree: number }>();
  const confusion = new Map<string, number>();
  const examples: string[] = [];
  let tOurs = 0;
  let tFt = 0;
  for (const d of docs) {
    if (!d.text.trim()) continue;
    let t0 = performance.now();
    const ours = bucket(identifyLanguage(d.text).language);
    tOurs += performance.now() - t0;
    t0 = performance.now();
    const theirs = bucket(await ft(d.text));
    tFt += performance.now() - t0;
    const s = perSrc.get(d.src) ?? { n: 0, agree: 0 };
    s.n++;
    if (ours === theirs) {
      agree++;
      s.agree++;
    } else {
      if (examples.length < 12) examples.push(`[${d.src}] ours=${ours} fastText=${theirs}: ${d.text.replace(/\s+/g, ' ').slice(0, 100)}`);
      confusion.set(`ours=${ours} fasttext=${theirs}`, (confusion.get(`ours=${ours} fasttext=${theirs}`) ?? 0) + 1);
    }
    perSrc.set(d.src, s);
  }
  const n = [...perSrc.values()].reduce((a, s) => a + s.n, 0);
  process.stdout.write(`documents ${n}; agreement on zh/en/other with fastText lid.176: ${(100 * agree / n).toFixed(2)}%\n`);
  for (const [src, s] of perSrc) process.stdout.write(`  ${src.padEnd(22)} ${String(s.n).padStart(6)}  ${(100 * s.agree / s.n).toFixed(2)}%\n`);
  process.stdout.write(`disagreements: ${[...confusion].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}\n`);
  if (process.argv.includes('--examples')) for (const e of examples) process.stdout.write(`  ${e}\n`);
  process.stdout.write(`speed: ours ${(n / (tOurs / 1000)).toFixed(0)} docs/s, fastText (wasm) ${(n / (tFt / 1000)).toFixed(0)} docs/s\n`);
  process.stdout.write(JSON.stringify({ name: 'langid_agreement_with_fasttext', value: Number((100 * agree / n).toFixed(2)), unit: '% documents (zh/en/other)', docs: n, ours_docs_per_s: Math.round(n / (tOurs / 1000)), peer: 'fastText lid.176.ftz (fasttext.wasm.js)', peer_value: Math.round(n / (tFt / 1000)), ratio: Number(((n / (tOurs / 1000)) / (n / (tFt / 1000))).toFixed(2)) }) + '\n');
}

await main();
