import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BloomFilter, normalizeUrl } from '../src/factory/dedup/bloom.js';
import { MinHashDedup } from '../src/factory/dedup/minhash.js';
import { SimHashDedup, hamming64, simhash64 } from '../src/factory/dedup/simhash.js';
import { jaccard, shingleHashes } from '../src/factory/dedup/shingles.js';
import { parseRecipe } from '../src/factory/recipe.js';
import { runFactory } from '../src/factory/executor.js';
import { tmp, outputDigest } from './helpers.js';
import { readChecked } from '../src/io/writers.js';
import type { Document } from '../src/core/document.js';

const d = (text: string, meta: Record<string, unknown> = {}): Document => ({ id: 'x', text, meta: { source: 't', ...meta } });

test('Bloom filter: sized from capacity and false-positive rate; no false negatives; saved with a checksum', () => {
  const f = BloomFilter.forCapacity(10_000, 0.001);
  assert.ok(f.m > 140_000 && f.m < 150_000, String(f.m));
  assert.equal(f.k, 10);
  for (let i = 0; i < 10_000; i++) f.add(`k${i}`);
  for (let i = 0; i < 10_000; i++) assert.ok(f.has(`k${i}`));
  let fp = 0;
  for (let i = 0; i < 20_000; i++) if (f.has(`other${i}`)) fp++;
  assert.ok(fp / 20_000 < 0.004, `false positives ${fp}`);
  assert.ok(Math.abs(f.falsePositiveRate() - 0.001) < 0.0005);
  const dir = tmp();
  const p = join(dir, 'f.bloom');
  writeFileSync(p, f.serialize());
  const g = BloomFilter.load(p);
  assert.ok(g.has('k42') && g.inserted === 10_000);
  const bytes = readFileSync(p);
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(p, bytes);
  assert.throws(() => BloomFilter.load(p), /checksum mismatch/);
  writeFileSync(p, bytes.subarray(0, 500));
  assert.throws(() => BloomFilter.load(p), /truncated Bloom filter/);
});

test('URL normalisation folds scheme, www, fragment, trailing slash, tracking and parameter order', () => {
  assert.equal(normalizeUrl('HTTPS://www.Example.com/a/?b=2&a=1&utm_source=x#top'), normalizeUrl('http://example.com/a?a=1&b=2'));
  assert.notEqual(normalizeUrl('http://example.com/a'), normalizeUrl('http://example.com/b'));
});

test('shingles: Chinese by characters, English by words; short and one-character documents still get a signature', () => {
  assert.equal(shingleHashes(d('天地玄黄宇宙洪荒', { language: 'zh' }), 5).length, 4);
  assert.equal(shingleHashes(d('the quick brown fox jumps over the lazy dog', { language: 'en' }), 5).length, 5);
  assert.equal(shingleHashes(d('你好', { language: 'zh' }), 5).length, 1);
  assert.equal(shingleHashes(d('哈哈哈哈哈哈哈哈哈哈', { language: 'zh' }), 5).length, 1);
  assert.equal(shingleHashes(d('   \n ', {}), 5).length, 0);
  const a = shingleHashes(d('the quick brown fox jumps over the lazy dog again', { language: 'en' }), 3);
  const b = shingleHashes(d('the quick brown fox jumps over the lazy cat again', { language: 'en' }), 3);
  assert.ok(jaccard(a, b) > 0.4 && jaccard(a, b) < 1);
});

test('MinHash signatures estimate Jaccard; SimHash puts near duplicates within a few bits', () => {
  const mh = new MinHashDedup('m', { shingle: 3, bands: 32, rows: 8, seed: 1 });
  const text = Array.from({ length: 300 }, (_, i) => `w${i % 97}x${i}`).join(' ');
  const near = text.replace('w5x5', 'changed');
  const sa = shingleHashes(d(text, { language: 'en' }), 3);
  const sb = shingleHashes(d(near, { language: 'en' }), 3);
  const A = mh.signature(sa);
  const B = mh.signature(sb);
  let eq = 0;
  for (let i = 0; i < A.length; i++) if (A[i] === B[i]) eq++;
  assert.ok(Math.abs(eq / A.length - jaccard(sa, sb)) < 0.08, `${eq / A.length} vs ${jaccard(sa, sb)}`);
  assert.ok(hamming64(simhash64(sa), simhash64(sb)) <= 3);
  const other = shingleHashes(d(Array.from({ length: 300 }, (_, i) => `z${i}`).join(' '), { language: 'en' }), 3);
  assert.ok(hamming64(simhash64(sa), simhash64(other)) > 10);
});

test('near-duplicate steps keep the first document of each cluster, the same with 1 or 2 workers, and count empty documents', async () => {
  const dir = tmp();
  const base = 'The river flooded the valley in the spring of that year, and the town rebuilt its bridge within a few months of hard work by everyone. ';
  const docs: object[] = [];
  for (let i = 0; i < 60; i++) docs.push({ id: `d${i}`, text: i % 3 === 0 ? base.repeat(3) + `Version ${i % 2}.` : `${base} unique ${i} ` + Array.from({ length: 40 }, (_, k) => `t${i}_${k}`).join(' ') });
  docs.push({ id: 'empty', text: '   ' });
  writeFileSync(join(dir, 'in.jsonl'), docs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const outs: string[] = [];
  for (const [k, workers] of [['a', 1], ['b', 2]] as const) {
    const r = parseRecipe({ input: { paths: [join(dir, 'in.jsonl')], shardBytes: 2000 }, output: { dir: join(dir, k), format: 'jsonl' }, steps: [{ type: 'minhash_dedup' }, { type: 'simhash_dedup' }] }, 't', '/');
    const res = await runFactory(r, { workers, quiet: true });
    assert.ok(res.plan.shards.length > 2);
    const kept = readFileSync(join(dir, k, 'data', (await import('node:fs')).readdirSync(join(dir, k, 'data')).sort()[0]!), 'utf8');
    assert.match(kept, /"id":"d0"/); // the first copy survives
    const dropped = res.stats.steps[0]!.rules['dedup.minhash_near_duplicate']!.docsDropped;
    assert.equal(dropped, 19, 'the 20 copies of the repeated text (two versions) collapse to one');
    outs.push(outputDigest(join(dir, k)));
    const g = readChecked(join(dir, k, '_run', 'pass-0', 'global.json')) as { empty: number; clusters: number };
    assert.equal(g.empty, 1);
    assert.equal(g.clusters, 1);
  }
  assert.equal(outs[0], outs[1]);
  void SimHashDedup;
});

test('bloom_dedup across runs: a saved filter removes what an earlier crawl already had', async () => {
  const dir = tmp();
  const bloom = join(dir, 'urls.bloom');
  const crawl = (name: string, urls: string[]) => {
    writeFileSync(join(dir, `${name}.jsonl`), urls.map((u, i) => JSON.stringify({ id: `${name}${i}`, text: `page ${u}`, url: u })).join('\n') + '\n');
    return parseRecipe({ input: { paths: [join(dir, `${name}.jsonl`)] }, output: { dir: join(dir, `out-${name}`), format: 'jsonl' }, steps: [{ type: 'bloom_dedup', key: 'url', expected: 1000, load: bloom, save: bloom }] }, name, '/');
  };
  const r1 = await runFactory(crawl('m1', ['http://a.test/1', 'http://a.test/2', 'https://www.a.test/1/', 'http://a.test/3']), { inProcess: true, quiet: true });
  assert.equal(r1.stats.kept, 3);
  const r2 = await runFactory(crawl('m2', ['http://a.test/2', 'http://a.test/4']), { inProcess: true, quiet: true });
  assert.equal(r2.stats.kept, 1);
  const g = readChecked(join(dir, 'out-m2', '_run', 'pass-0', 'global.json')) as { seenBefore: number; m: number; k: number };
  assert.equal(g.seenBefore, 3);
});

test('native MinHash kernel equals the TypeScript reference', async (t) => {
  const { native } = await import('../src/native/index.js');
  if (!native) {
    t.skip('native addon not built (npm install builds it where a C++ toolchain is present)');
    return;
  }
  const mh = new MinHashDedup('m', { shingle: 5, bands: 14, rows: 8, seed: 7 });
  const { rng } = await import('../src/core/hash.js');
  const r = rng(3);
  for (const n of [0, 1, 7, 100, 5000]) {
    const sh = Uint32Array.from({ length: n }, () => (r() * 4294967296) >>> 0);
    assert.deepEqual(mh.signature(sh), mh.signatureReference(sh), `${n} shingles`);
  }
  assert.match(native.simd, /^(avx512f|avx2|generic)$/);
});

test('native CJK shingling + MinHash equals shingles.ts + the reference signature', async (t) => {
  const { native } = await import('../src/native/index.js');
  if (!native) {
    t.skip('native addon not built');
    return;
  }
  const mh = new MinHashDedup('m', { shingle: 5, bands: 14, rows: 8, seed: 7 });
  const cases: [string, string][] = [['天地玄黄宇宙洪荒，日月盈昃辰宿列张。', 'zh'], ['你好', 'zh'], ['　 ', 'zh'], ['中文 with English 混合 text　全角空格', 'zh'], ['哈'.repeat(50), 'zh'],
    ['The Quick brown fox, jumped over the LAZY dog; again and again!', 'en'], ['Ünïcödé Straße ΣΊΣΥΦΟΣ naïve café 2024', 'en'], ['two words', 'en'], ['... --- ...', 'en'], ['', 'en']];
  for (const [text, language] of cases) {
    const doc = d(text, { language });
    const sh = shingleHashes(doc, 5);
    const ref = sh.length ? mh.signatureReference(sh) : null;
    assert.deepEqual(mh.docSignature(doc), ref, text);
  }
});

test('a corrupted or truncated intermediate file is reported with its path and recomputed, never used', async () => {
  const dir = tmp();
  const docs = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}`, text: `document number ${i % 10} with the same words repeated here and there ${i % 10}` }));
  writeFileSync(join(dir, 'in.jsonl'), docs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const recipe = parseRecipe({ input: { paths: [join(dir, 'in.jsonl')], shardBytes: 800 }, output: { dir: join(dir, 'out'), format: 'jsonl' }, steps: [{ type: 'minhash_dedup' }] }, 't', '/');
  await runFactory(recipe, { inProcess: true, quiet: true });
  const want = outputDigest(join(dir, 'out'));
  const passDir = join(dir, 'out', '_run', 'pass-0');
  const { rmSync } = await import('node:fs');
  const shardFile = join(passDir, 'shard-00000.json');
  writeFileSync(shardFile, readFileSync(shardFile, 'utf8').slice(0, 120)); // truncated summary
  const run = join(passDir, 'shard-00001.mh');
  const bytes = readFileSync(run);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x5a; // corrupted run file
  writeFileSync(run, bytes);
  const g = join(passDir, 'global.json');
  writeFileSync(g, readFileSync(g, 'utf8').replace(/\d(?=[^\d]*$)/, (x) => String((Number(x) + 1) % 10))); // one digit changed
  rmSync(join(dir, 'out', '_run', 'stats'), { recursive: true }); // force the decision pass again
  const logs: string[] = [];
  await runFactory(recipe, { inProcess: true, quiet: true, log: (m) => logs.push(m) });
  assert.ok(logs.some((l) => l.includes(shardFile) && /truncated/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes(g) && /checksum mismatch/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes(run) && /checksum mismatch/.test(l)), logs.join('\n'));
  assert.equal(outputDigest(join(dir, 'out')), want);
});

test('10 MB documents, documents of one repeated character, empty documents and missing URLs are handled and counted', async () => {
  const dir = tmp();
  const big = 'word '.repeat(2_000_000) + 'end';
  const docs = [
    { id: 'big', text: big, url: 'http://x.test/big' },
    { id: 'big2', text: big, url: 'http://x.test/big2' },
    { id: 'rep1', text: '啊'.repeat(1000) },
    { id: 'rep2', text: '啊'.repeat(999) },
    { id: 'empty', text: '  ' },
    { id: 'nourl', text: 'a short document without an address' },
  ];
  writeFileSync(join(dir, 'in.jsonl'), docs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const recipe = parseRecipe({ input: { paths: [join(dir, 'in.jsonl')], maxRecordBytes: '32MB' }, output: { dir: join(dir, 'out'), format: 'jsonl' }, steps: [{ type: 'bloom_dedup', key: 'url', expected: 100 }, { type: 'minhash_dedup' }, { type: 'simhash_dedup' }] }, 't', '/');
  const r = await runFactory(recipe, { inProcess: true, quiet: true });
  const stats = JSON.parse(readFileSync(r.statsFile, 'utf8')) as { corpusSteps: Record<string, { noKey?: number; emptyDocuments?: number; dropped?: number }> };
  assert.equal(stats.corpusSteps.bloom_dedup!.noKey, 4);
  assert.equal(stats.corpusSteps.minhash_dedup!.emptyDocuments, 1);
  assert.equal(stats.corpusSteps.minhash_dedup!.dropped, 2); // big2 and rep2
  assert.equal(r.stats.kept, 4);
});
