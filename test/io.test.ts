import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { compress } from '@mongodb-js/zstd';
import { readShard, readShardBatches, type ShardSpec, type ReadEvent } from '../src/io/readers.js';
import { ShardedWriter } from '../src/io/writers.js';
import { ParquetDocWriter } from '../src/io/parquet.js';
import { decodeBytes } from '../src/io/decode.js';
import { textKernels } from '../src/native/index.js';
import { withMeta, copyOwn, type DocumentMeta } from '../src/core/document.js';
import { htmlToText } from '../src/io/html.js';
import { makePlan } from '../src/factory/plan.js';
import { parseRecipe } from '../src/factory/recipe.js';
import { tmp, SHARED } from './helpers.js';
import { rng } from '../src/core/hash.js';

const opts = { textKey: 'text', idKey: 'id', maxRecordBytes: 1 << 20 };

async function collect(spec: Partial<ShardSpec> & { files: string[]; format: ShardSpec['format'] }, o = opts): Promise<ReadEvent[]> {
  const out: ReadEvent[] = [];
  const full: ShardSpec = { index: 0, keys: spec.files.map((f) => f.split('/').pop()!), bytes: 0, ...spec };
  for await (const e of readShard(full, o, { bytes: 0 })) out.push(e);
  return out;
}
const docs = (ev: ReadEvent[]) => ev.filter((e): e is { doc: import('../src/core/document.js').Document } => 'doc' in e).map((e) => e.doc);
const quarantined = (ev: ReadEvent[]) => ev.filter((e) => 'quarantine' in e).map((e) => (e as { quarantine: { reason: string; record: number; file: string } }).quarantine);

const LINES = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `document ${i} 中文 ${'x'.repeat(i)}`, meta: { n: i } })).join('\n') + '\n';

test('JSONL reads the same documents plain, gzip and zstd', async () => {
  const d = tmp();
  writeFileSync(join(d, 'a.jsonl'), LINES);
  writeFileSync(join(d, 'a.jsonl.gz'), gzipSync(LINES));
  writeFileSync(join(d, 'a.jsonl.zst'), await compress(Buffer.from(LINES), 3));
  const a = docs(await collect({ files: [join(d, 'a.jsonl')], format: 'jsonl' }));
  const b = docs(await collect({ files: [join(d, 'a.jsonl.gz')], format: 'jsonl' }));
  const c = docs(await collect({ files: [join(d, 'a.jsonl.zst')], format: 'jsonl' }));
  assert.equal(a.length, 50);
  assert.deepEqual(a.map((x) => x.text), b.map((x) => x.text));
  assert.deepEqual(a.map((x) => x.text), c.map((x) => x.text));
  assert.equal(a[7]!.id, 'r7');
  assert.equal(a[7]!.meta.n, 7);
  assert.equal(a[7]!.meta.record, 'a.jsonl:8');
});

test('byte-range shards of a plain JSONL file cover every line exactly once, with true line numbers', async () => {
  const d = tmp();
  const f = join(d, 'big.jsonl');
  writeFileSync(f, LINES);
  const recipe = parseRecipe({ input: { paths: [f], shardBytes: 300 }, output: { dir: join(d, 'out') }, steps: [{ type: 'normalize' }] }, 'test', d);
  const plan = makePlan(recipe);
  assert.ok(plan.shards.length > 3, `expected several shards, got ${plan.shards.length}`);
  const all: string[] = [];
  const records: string[] = [];
  for (const s of plan.shards) for await (const e of readShard(s, opts, { bytes: 0 })) if ('doc' in e) { all.push(e.doc.id); records.push(String(e.doc.meta.record)); }
  assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => `r${i}`));
  assert.deepEqual(records.map((r) => Number(r.split(':')[1])), Array.from({ length: 50 }, (_, i) => i + 1));
});

test('bad JSONL records are quarantined with file, line and reason; the rest is read', async () => {
  const d = tmp();
  const f = join(d, 'bad.jsonl');
  const lines = [
    JSON.stringify({ id: 'ok', text: 'fine' }),
    '{"id": "x", "text": "unterminated',
    JSON.stringify({ id: 'no-text', body: 'y' }),
    JSON.stringify({ id: 'num-text', text: 5 }),
    '"just a string"',
    JSON.stringify({ id: 'big', text: 'z'.repeat(5000) }),
    JSON.stringify({ id: 'ok2', text: 'fine too' }),
  ];
  writeFileSync(f, lines.join('\n') + '\n');
  const ev = await collect({ files: [f], format: 'jsonl' }, { ...opts, maxRecordBytes: 1000 });
  assert.deepEqual(docs(ev).map((x) => x.id), ['ok', 'ok2']);
  const q = quarantined(ev);
  assert.deepEqual(q.map((x) => [x.record, x.reason]), [[2, 'malformed-json'], [3, 'missing-text-field'], [4, 'missing-text-field'], [5, 'not-an-object'], [6, 'record-too-large']]);
  assert.ok(q.every((x) => x.file === f));
});

test('a truncated .gz yields its good records and one truncated-file quarantine; an empty file warns', async () => {
  const d = tmp();
  const gz = gzipSync(LINES);
  writeFileSync(join(d, 't.jsonl.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
  writeFileSync(join(d, 'e.jsonl'), '');
  const ev = await collect({ files: [join(d, 't.jsonl.gz')], format: 'jsonl' });
  assert.ok(docs(ev).length > 0 && docs(ev).length < 50);
  assert.deepEqual(quarantined(ev).map((x) => x.reason), ['truncated-file']);
  const ev2 = await collect({ files: [join(d, 'e.jsonl')], format: 'jsonl' });
  assert.equal(docs(ev2).length, 0);
  assert.ok(ev2.some((e) => 'warning' in e && /empty file/.test(e.warning)));
});

test('records come in batches of at most 32, in order; a truncated .gz still hands on every record read before its end, then the quarantine', async () => {
  const d = tmp();
  const many = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: `m${i}`, text: `record ${i} 中文` })).join('\n') + '\n';
  writeFileSync(join(d, 'm.jsonl'), many);
  const gz = gzipSync(many);
  writeFileSync(join(d, 'm.jsonl.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
  for (const [file, whole] of [['m.jsonl', true], ['m.jsonl.gz', false]] as const) {
    const batches: ReadEvent[][] = [];
    for await (const b of readShardBatches({ index: 0, format: 'jsonl', files: [join(d, file)], keys: [file], bytes: 0 }, opts, { bytes: 0 })) batches.push(b);
    assert.ok(batches.length > 10 && batches.every((b) => b.length >= 1 && b.length <= 32), `${file}: batch sizes ${batches.map((b) => b.length).join(',')}`);
    const ev = batches.flat();
    const ids = docs(ev).map((x) => x.id);
    // a prefix of the records, in order, none lost at a batch boundary
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => `m${i}`));
    if (whole) assert.equal(ids.length, 1000);
    else {
      // every complete line the truncated stream holds (zlib's partial output) is a record read
      const complete = gunzipSync(gz.subarray(0, Math.floor(gz.length * 0.6)), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString().split('\n').length - 1;
      assert.ok(complete > 300 && complete < 1000);
      assert.equal(ids.length, complete);
      assert.ok('quarantine' in ev[ev.length - 1]! && quarantined(ev).length === 1 && quarantined(ev)[0]!.reason === 'truncated-file');
    }
    // readShard hands on the same events one at a time
    assert.deepEqual(await collect({ files: [join(d, file)], format: 'jsonl' }), ev);
  }
});

test('a truncated .zst is reported as truncated', async () => {
  const d = tmp();
  const z = await compress(Buffer.from(LINES.repeat(20)), 3);
  writeFileSync(join(d, 't.jsonl.zst'), z.subarray(0, Math.floor(z.length / 2)));
  const ev = await collect({ files: [join(d, 't.jsonl.zst')], format: 'jsonl' });
  assert.deepEqual(quarantined(ev).map((x) => x.reason), ['truncated-file']);
});

test('an unreadable path is quarantined with its error, not thrown', async () => {
  const ev = await collect({ files: ['/nonexistent/file.jsonl'], format: 'jsonl' });
  const q = quarantined(ev);
  assert.equal(q.length, 1);
  assert.equal(q[0]!.reason, 'unreadable-file');
  assert.equal(q[0]!.file, '/nonexistent/file.jsonl');
});

test('a 200 MB single-line record is skipped with bounded memory', async () => {
  const d = tmp();
  const f = join(d, 'huge.jsonl');
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const fd = openSync(f, 'w');
  writeSync(fd, '{"id":"huge","text":"');
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < 200; i++) writeSync(fd, chunk);
  writeSync(fd, '"}\n' + JSON.stringify({ id: 'after', text: 'still read' }) + '\n');
  closeSync(fd);
  const before = process.memoryUsage().rss;
  const ev = await collect({ files: [f], format: 'jsonl' }, { ...opts, maxRecordBytes: 64 << 20 });
  const grew = process.memoryUsage().rss - before;
  assert.deepEqual(quarantined(ev).map((x) => x.reason), ['record-too-large']);
  assert.deepEqual(docs(ev).map((x) => x.id), ['after']);
  assert.ok(grew < 150 << 20, `RSS grew by ${(grew / 1e6).toFixed(0)} MB`);
});

test('text folders: GBK files are decoded, binary garbage is quarantined', async () => {
  const d = tmp();
  const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0xb2, 0xe2, 0xca, 0xd4]); // 中文测试 in GBK
  writeFileSync(join(d, 'gbk.txt'), gbk);
  writeFileSync(join(d, 'bin.txt'), Buffer.from([0, 1, 2, 3, 255, 0, 7, 8]));
  const ev = await collect({ files: [join(d, 'gbk.txt'), join(d, 'bin.txt')], format: 'text' });
  assert.equal(docs(ev)[0]!.text, '中文测试');
  assert.equal(docs(ev)[0]!.meta.encoding, 'gb18030');
  assert.deepEqual(quarantined(ev).map((x) => x.reason), ['binary-garbage']);
});

test('decodeBytes: invalid UTF-8 that is not GB18030 is decoded lossily and counted', () => {
  const r = decodeBytes(Buffer.from([0x61, 0xff, 0x62, 0xfe, 0x63]));
  assert.equal(r.encoding, 'utf-8-lossy');
  assert.equal(r.invalidBytes, 2);
});

test('Parquet: documents written are read back, row group by row group', async () => {
  const d = tmp();
  const f = join(d, 'x.parquet');
  const w = new ParquetDocWriter(f, 2000);
  for (let i = 0; i < 300; i++) w.write({ id: `p${i}`, text: `文本 ${i} text`, meta: { source: 's', k: i } as never });
  w.close();
  const ev = await collect({ files: [f], format: 'parquet' });
  const ds = docs(ev);
  assert.equal(ds.length, 300);
  assert.equal(ds[123]!.id, 'p123');
  assert.equal(ds[123]!.text, '文本 123 text');
  assert.equal(ds[123]!.meta.k, 123);
});

test('ShardedWriter rotates parts by size and leaves no temporary files', async () => {
  const d = tmp();
  for (const format of ['jsonl', 'jsonl.gz', 'jsonl.zst', 'parquet'] as const) {
    const w = new ShardedWriter(join(d, format, 'shard-00000'), format, 20_000);
    const r = rng(7);
    for (let i = 0; i < 400; i++) await w.write({ id: `w${i}`, text: Array.from({ length: 40 }, () => Math.floor(r() * 1e9).toString(36)).join(' '), meta: { source: 't' } });
    const files = await w.close();
    assert.ok(files.length > 1, `${format}: ${files.length} parts`);
    assert.ok(readdirSync(join(d, format)).every((f) => !f.endsWith('.tmp')));
    let n = 0;
    for (const f of files) for await (const e of readShard({ index: 0, format: format === 'parquet' ? 'parquet' : 'jsonl', files: [f], keys: ['k'], bytes: 0 }, opts, { bytes: 0 })) if ('doc' in e) n++;
    assert.equal(n, 400, format);
  }
});

test('WARC: response records become documents with URL; request and warcinfo records are skipped', async () => {
  const d = tmp();
  const html = '<html><body><article><p>' + 'The quick brown fox jumps over the lazy dog, again and again. '.repeat(5) + '</p></article><footer>Copyright</footer></body></html>';
  const http = `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}`;
  const rec = (type: string, block: string, n: number) => `WARC/1.0\r\nWARC-Type: ${type}\r\nWARC-Target-URI: http://x.test/${n}\r\nWARC-Record-ID: <urn:uuid:${n}>\r\nContent-Length: ${Buffer.byteLength(block)}\r\n\r\n${block}\r\n\r\n`;
  writeFileSync(join(d, 'a.warc.gz'), Buffer.concat([gzipSync(rec('warcinfo', 'software: t', 0)), gzipSync(rec('request', 'GET / HTTP/1.1\r\n\r\n', 1)), gzipSync(rec('response', http, 2)), Buffer.from('garbage that is not a record\r\n\r\n').subarray(0, 0)]));
  const ev = await collect({ files: [join(d, 'a.warc.gz')], format: 'warc' });
  const ds = docs(ev);
  assert.equal(ds.length, 1);
  assert.equal(ds[0]!.meta.url, 'http://x.test/2');
  assert.equal(ds[0]!.meta.contentType, 'text/html');
  assert.ok(htmlToText(ds[0]!.text).startsWith('The quick brown fox'));
});

test('WARC: a malformed record is quarantined and parsing resumes at the next record', async () => {
  const d = tmp();
  const good = (n: number) => `WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://x.test/${n}\r\nContent-Length: 11\r\n\r\nhello world\r\n\r\n`;
  writeFileSync(join(d, 'm.warc'), good(1) + 'NOT-A-WARC-HEADER\r\nfoo: bar\r\n\r\nxxxx\r\n' + good(2));
  const ev = await collect({ files: [join(d, 'm.warc')], format: 'warc' });
  assert.deepEqual(docs(ev).map((x) => x.meta.url), ['http://x.test/1', 'http://x.test/2']);
  assert.deepEqual(quarantined(ev).map((x) => x.reason), ['malformed-warc']);
});

test('shared WARC/WET samples: every file is read without throwing; WET text has zh and en records', { skip: !existsSync(join(SHARED, 'warc-samples')) && 'shared warc-samples absent' }, async () => {
  const dir = join(SHARED, 'warc-samples/test/data');
  for (const f of readdirSync(dir)) {
    if (!/\.(warc|warc\.gz|arc|arc\.gz|bad)$/.test(f)) continue;
    const ev = await collect({ files: [join(dir, f)], format: 'warc' });
    assert.ok(ev.length >= 0, f);
  }
  const ok = docs(await collect({ files: [join(dir, 'example.warc.gz')], format: 'warc' }));
  assert.ok(ok.length >= 1 && ok.every((x) => typeof x.meta.url === 'string'));
  const bad = await collect({ files: [join(dir, 'example-trunc.warc')], format: 'warc' });
  assert.ok(quarantined(bad).length >= 1, 'truncated WARC reported');
  const { identifyLanguage } = await import('../src/factory/preprocess/langid.js');
  const wet = docs(await collect({ files: [join(SHARED, 'warc-samples/tests/data/sample.warc.txt')], format: 'warc' }));
  const langs = new Set(wet.map((x) => identifyLanguage(x.text).language));
  assert.ok(langs.has('zh') && langs.has('en'), [...langs].join(','));
});

test('shared dolma WARC files yield HTML documents', { skip: !existsSync(join(SHARED, 'dolma-testdata')) && 'shared dolma-testdata absent' }, async () => {
  const ds = docs(await collect({ files: [join(SHARED, 'dolma-testdata/tests/data/warc/sample-0000.warc.gz')], format: 'warc' }));
  assert.ok(ds.length > 5, `${ds.length} docs`);
  assert.ok(ds.some((x) => x.meta.contentType === 'text/html'));
});

test('the native UTF-8 decoder gives what Buffer gives on valid UTF-8 and refuses everything else', { skip: !textKernels.native && 'native addon not built' }, () => {
  const nk = textKernels.native!;
  const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const valid = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  const cases: Uint8Array[] = [
    Buffer.from(''), Buffer.from('plain ascii, eight+ bytes long'), Buffer.from('\ufeffBOM kept'), Buffer.from('中文 and English 😀 \u{10ffff} é ’'),
    // overlong forms, surrogates, above U+10FFFF, stray and missing continuation bytes, truncated ends
    Buffer.from([0xc0, 0x80]), Buffer.from([0xc1, 0xbf]), Buffer.from([0xe0, 0x80, 0x80]), Buffer.from([0xe0, 0x9f, 0xbf]), Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xed, 0x9f, 0xbf]), Buffer.from([0xf0, 0x8f, 0xbf, 0xbf]), Buffer.from([0xf0, 0x90, 0x80, 0x80]), Buffer.from([0xf4, 0x8f, 0xbf, 0xbf]),
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xf5, 0x80, 0x80, 0x80]), Buffer.from([0x80]), Buffer.from([0x61, 0xe4, 0xb8]), Buffer.from([0xe4, 0xb8, 0xad, 0xe4]),
    Buffer.from([0xe4, 0x41, 0xad]), Buffer.from([0xff]), Buffer.from('\ufffd literal'),
  ];
  const r = (() => { let x = 3; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const pieces = [[0x61], [0x20], [0x7f], [0xc2, 0xa9], [0xdf, 0xbf], [0xe4, 0xb8, 0xad], [0xef, 0xbf, 0xbd], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0x80], [0xc3], [0xe4, 0xb8], [0xed, 0xa0, 0x80], [0xfe]];
  for (let k = 0; k < 20000; k++) {
    const bytes: number[] = [];
    const len = Math.floor(r() * 24);
    const clean = r() < 0.5; // half of them valid only, so that both answers are common
    for (let j = 0; j < len; j++) bytes.push(...pieces[Math.floor(r() * (clean ? 9 : pieces.length))]!);
    cases.push(Uint8Array.from(bytes));
  }
  let decoded = 0;
  for (const b of cases) {
    const got = nk.decodeUtf8(b);
    if (valid(b)) {
      assert.equal(got, Buffer.from(b).toString('utf8'), JSON.stringify([...b]));
      decoded++;
    } else assert.equal(got, null, JSON.stringify([...b]));
  }
  assert.ok(decoded > 5000 && decoded < cases.length - 5000, String(decoded));
});

test('the native UTF-8 decoder takes runs of three-byte sequences twelve bytes at a time, and refuses a bad one anywhere in them', { skip: !textKernels.native && 'native addon not built' }, () => {
  const nk = textKernels.native!;
  const zh = [...Buffer.from('中')]; // e4 b8 ad
  const bad = [[0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xe4, 0x41, 0xad], [0xe4, 0xb8, 0xc0], [0xe4, 0xb8, 0x2e], [0xf4, 0xb8, 0xad], [0xc4, 0xb8, 0xad]];
  // the edges of the three-byte range: the lowest and highest code points either side of the surrogates
  const edges = [[0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xef, 0xbf, 0xbf]];
  let checked = 0;
  for (let before = 0; before < 14; before++) {
    for (let after = 0; after < 6; after++) {
      for (const lead of [[], [0x61], [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]]) {
        // every bad sequence at every place in a run (the run spans several twelve-byte blocks)
        for (const b of bad) {
          const bytes = Buffer.from([...lead, ...Array.from({ length: before }, () => zh).flat(), ...b, ...Array.from({ length: after }, () => zh).flat()]);
          assert.equal(nk.decodeUtf8(bytes), null, JSON.stringify([...bytes]));
          checked++;
        }
        for (const e of edges) {
          const bytes = Buffer.from([...lead, ...Array.from({ length: before }, () => zh).flat(), ...e, ...Array.from({ length: after }, () => zh).flat()]);
          assert.equal(nk.decodeUtf8(bytes), bytes.toString('utf8'), JSON.stringify([...bytes]));
          checked++;
        }
      }
    }
  }
  assert.equal(checked, 14 * 6 * 3 * (bad.length + edges.length));
});

test('JSONL parts hold exactly the bytes of JSON.stringify, with and without the native line writer', async () => {
  const r = (() => { let x = 17; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const pieces = ['a', ' ', '"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'é', '中', '’', '\u2028', '😀', '\ud800', '\udfff', '\ud83d', '</script>', '\ufeff', '\uffff'];
  const docs = [];
  for (let k = 0; k < 3000; k++) {
    let text = '';
    const len = Math.floor(r() ** 2 * 200);
    for (let j = 0; j < len; j++) text += pieces[Math.floor(r() * pieces.length)];
    docs.push({ id: k % 7 ? `doc-${k}` : `"quoted" ${pieces[k % pieces.length]}`, text, meta: { source: k % 3 ? 'src' : '来源 😀', n: k, nested: { s: pieces[k % pieces.length]! } } });
  }
  // one long document, so that a line fills more than the part's buffer at once
  docs.push({ id: 'long', text: '长'.repeat(3_000_000), meta: { source: 'long' } });
  const expected = docs.map((d) => JSON.stringify({ id: d.id, text: d.text, meta: d.meta }) + '\n').join('');
  const saved = textKernels.native;
  const outputs: string[] = [];
  try {
    for (const kernels of saved ? [saved, null] : [null]) {
      textKernels.native = kernels;
      const dir = tmp();
      const w = new ShardedWriter(join(dir, 'out'), 'jsonl', 1 << 30);
      for (const d of docs) await w.write(d);
      const files = await w.close();
      assert.equal(files.length, 1);
      outputs.push(readFileSync(files[0]!).toString('latin1'));
    }
  } finally {
    textKernels.native = saved;
  }
  for (const o of outputs) assert.ok(o === Buffer.from(expected, 'utf8').toString('latin1'), 'bytes differ from JSON.stringify');
});

test('JSONL parts written while earlier buffers are still on their way to the file hold every line once, in order (plain and gzip)', async () => {
  // ~22 MB of lines: five or more buffer hand-overs, with the writer called as the executor calls it
  // (a promise only now and then), and parts rotated at ~9 MB while a write may be in flight
  const r = rng(11);
  const docs = Array.from({ length: 6000 }, (_, k) => ({ id: `d${k}`, text: Array.from({ length: Math.floor(r() * 1200) }, () => (k % 3 ? String.fromCharCode(0x4e00 + Math.floor(r() * 20000), 0x4e00 + Math.floor(r() * 20000)) : Math.floor(r() * 1e9).toString(36))).join(k % 3 ? '' : ' '), meta: { source: 's', k } }));
  const expected = docs.map((d) => JSON.stringify({ id: d.id, text: d.text, meta: d.meta }) + '\n').join('');
  assert.ok(Buffer.byteLength(expected) > 20e6, `${Buffer.byteLength(expected)} bytes`);
  for (const [format, maxBytes] of [['jsonl', 1 << 30], ['jsonl', 9e6], ['jsonl.gz', 1 << 30], ['jsonl.gz', 4e6]] as const) {
    const dir = tmp();
    const w = new ShardedWriter(join(dir, 'out'), format, maxBytes);
    for (const d of docs) {
      const p = w.write(d);
      if (p) await p;
    }
    const files = await w.close();
    assert.ok(maxBytes < 1 << 30 ? files.length > 1 : files.length === 1, `${format} ${maxBytes}: ${files.length} parts`);
    assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')));
    const got = files.map((f) => (format === 'jsonl.gz' ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('utf8')).join('');
    assert.ok(got === expected, `${format} ${maxBytes}: the parts' lines differ from JSON.stringify's`);
  }
});

test('a JSONL part whose writes fail reports the error (ENOSPC) instead of losing lines', { skip: (process.platform !== 'linux' || !existsSync('/dev/full')) && 'needs /dev/full' }, async () => {
  const dir = tmp();
  // the part's temporary file is a link to /dev/full: it opens, and every write fails
  symlinkSync('/dev/full', join(dir, 'out.part-0000.jsonl.tmp'));
  const w = new ShardedWriter(join(dir, 'out'), 'jsonl', 1 << 30);
  const err = await (async () => {
    try {
      for (let k = 0; k < 3000; k++) {
        const p = w.write({ id: `d${k}`, text: 'x'.repeat(4000), meta: { source: 's' } });
        if (p) await p;
      }
      await w.close();
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
    return null;
  })();
  assert.ok(err, 'no error');
  assert.equal(err.code, 'ENOSPC', String(err));
  assert.ok(!existsSync(join(dir, 'out.part-0000.jsonl')), 'a failed part was renamed into place');
});

test('decodeBytes: a literal U+FFFD in valid UTF-8 is text, with and without the native decoder', () => {
  const saved = textKernels.native;
  try {
    for (const kernels of saved ? [saved, null] : [null]) {
      textKernels.native = kernels;
      assert.deepEqual(decodeBytes(Buffer.from('a\ufffdb 中文')), { text: 'a\ufffdb 中文', encoding: 'utf-8', invalidBytes: 0 });
      assert.deepEqual(decodeBytes(Buffer.from('plain')), { text: 'plain', encoding: 'utf-8', invalidBytes: 0 });
      const lossy = decodeBytes(Buffer.from([0x61, 0xff, 0x62, 0xfe, 0x63]));
      assert.equal(lossy.encoding, 'utf-8-lossy');
      assert.equal(lossy.invalidBytes, 2);
    }
  } finally {
    textKernels.native = saved;
  }
});

test('withMeta and copyOwn give what a spread gives, own "__proto__" keys included', () => {
  const metas: DocumentMeta[] = [{ source: 's' }, { source: 's', language: 'en', extra: [1, 2] }, JSON.parse('{"source":"s","__proto__":{"x":1},"z":2}') as DocumentMeta];
  for (const m of metas) {
    for (const add of [{ language: 'zh', languageScore: 0.5 }, { source: 't' }, {}]) {
      const got = withMeta(m, add);
      const want = { ...m, ...add };
      assert.deepEqual(Object.keys(got), Object.keys(want));
      assert.equal(JSON.stringify(got), JSON.stringify(want));
      assert.equal(Object.getPrototypeOf(got), Object.prototype);
    }
    const c = copyOwn(m);
    assert.equal(JSON.stringify(c), JSON.stringify({ ...m }));
    assert.equal(Object.getPrototypeOf(c), Object.prototype);
  }
});
