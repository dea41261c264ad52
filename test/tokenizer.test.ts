import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SentencePieceBPE } from '../src/tokenizer/bpe.js';
import { readVocab, readVocabFile, serializeVocab, writeVocabFile, type TokenizerFormat } from '../src/tokenizer/load.js';
import { mergesFromScores } from '../src/tokenizer/formats/hf.js';
import { writeGgufVocab } from '../src/tokenizer/formats/gguf.js';
import { decodeUtf8Spm } from '../src/tokenizer/utf8.js';
import { HanCounter, extendVocab, tokensPer1000Chars } from '../src/tokenizer/extend.js';
import { BatchEncoder } from '../src/tokenizer/batch.js';
import { TokenizerFormatError } from '../src/tokenizer/vocab.js';
import { SHARED, tmp } from './helpers.js';

const MODEL = join(SHARED, 'llama2-tokenizer/tokenizer.model');
const GGUF = join(SHARED, 'llamacpp-vocab-gguf/models/ggml-vocab-llama-spm.gguf');
const HAVE = existsSync(MODEL) && existsSync(GGUF);
const skip = !HAVE && `LLaMA-2 tokenizer files absent under ${SHARED}`;

function goldenCases(): { text: string; ids: string }[] {
  const inp = readFileSync(`${GGUF}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  const out = readFileSync(`${GGUF}.out`, 'utf8').split('\n');
  return inp.map((t, i) => ({ text: i === inp.length - 1 && t.endsWith('\n') ? t.slice(0, -1) : t, ids: (out[i] ?? '').trim() }));
}

test('bit-exact on every llama.cpp golden case, from each of the four formats, and decoding restores the input', { skip }, () => {
  const files = [MODEL, join(SHARED, 'llama2-tokenizer/tokenizer.bin'), join(SHARED, 'llama2-tokenizer/tests/data/tokenizer/llama-test-tokenizer.json'), GGUF];
  const cases = goldenCases();
  assert.ok(cases.length >= 40);
  for (const f of files) {
    const tok = new SentencePieceBPE(readVocabFile(f));
    for (const c of cases) {
      assert.equal(tok.encode(c.text).join(' '), c.ids, `${f}: ${JSON.stringify(c.text)}`);
      assert.equal(tok.decode(tok.encode(c.text)), c.text, `${f}: decode ${JSON.stringify(c.text)}`);
    }
  }
});

test('ids and pieces equal spm_encode on the committed golden sample', { skip }, () => {
  const tok = new SentencePieceBPE(readVocabFile(MODEL));
  const lines = readFileSync('test/golden/llama2-sample.txt', 'utf8').split('\n').slice(0, -1);
  const ids = readFileSync('test/golden/llama2-sample.ids', 'utf8').split('\n');
  const pieces = readFileSync('test/golden/llama2-sample.pieces', 'utf8').split('\n');
  lines.forEach((l, i) => {
    assert.equal(tok.encode(l).join(' '), ids[i], l);
    assert.equal(tok.encodePieces(l).join(' '), pieces[i], l);
  });
});

test('formats round-trip: .model and .bin byte-identical; tokenizer.json merges equal the LLaMA-2 release', { skip }, () => {
  const orig = readFileSync(MODEL);
  const v = readVocab(orig, MODEL);
  assert.equal(Buffer.compare(Buffer.from(serializeVocab(v, 'spm') as Uint8Array), orig), 0);
  const bin = readFileSync(join(SHARED, 'llama2-tokenizer/tokenizer.bin'));
  assert.equal(Buffer.compare(Buffer.from(serializeVocab(readVocab(bin, 'tokenizer.bin'), 'llama2c') as Uint8Array), bin), 0);
  const release = JSON.parse(readFileSync(join(SHARED, 'llama2-tokenizer/tests/data/tokenizer/llama-test-tokenizer.json'), 'utf8')) as { model: { merges: (string | string[])[] } };
  const ours = mergesFromScores(v).map(([l, r]) => `${l} ${r}`);
  assert.deepEqual(ours, release.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)));
  const cases = goldenCases();
  for (const fmt of ['spm', 'hf', 'llama2c', 'gguf'] as TokenizerFormat[]) {
    const s = serializeVocab(v, fmt);
    const back = readVocab(typeof s === 'string' ? Buffer.from(s) : s, `x.${fmt}`, fmt);
    assert.deepEqual(back.pieces, v.pieces, fmt);
    const tok = new SentencePieceBPE(back);
    for (const c of cases) assert.equal(tok.encode(c.text).join(' '), c.ids, `${fmt}: ${JSON.stringify(c.text)}`);
  }
});

test('bad tokenizer files get a clear error saying what was expected', { skip }, () => {
  const orig = readFileSync(MODEL);
  assert.throws(() => readVocab(orig.subarray(0, 1000), 'cut.model', 'spm'), (e: Error) => e instanceof TokenizerFormatError && /cut\.model: .*(truncated|not a SentencePiece)/.test(e.message));
  assert.throws(() => readVocab(Buffer.from('hello, this is not a model'), 'x.model', 'spm'), (e: Error) => e instanceof TokenizerFormatError && /x\.model: /.test(e.message));
  assert.throws(() => readVocab(Buffer.from(JSON.stringify({ model: { type: 'WordPiece', vocab: {} } })), 't.json'), /model type "WordPiece" is not supported \(expected "BPE"/);
  const noVocab = Buffer.from(writeGgufVocab(readVocab(orig, MODEL))).subarray(0, 24);
  noVocab.writeBigUInt64LE(0n, 16); // zero key-values
  assert.throws(() => readVocab(noVocab, 'novocab.gguf'), /GGUF has no vocabulary/);
  assert.throws(() => readVocab(Buffer.from('GGUF\x09\x00\x00\x00', 'latin1'), 'v9.gguf'), /GGUF version 9 is not supported/);
  assert.throws(() => readVocabFile('/nonexistent/tokenizer.model'), /cannot read tokenizer/);
});

test('invalid UTF-8, NUL bytes and lone surrogates have defined behaviour, as SentencePiece', { skip }, () => {
  const tok = new SentencePieceBPE(readVocabFile(MODEL));
  // spm replaces each invalid byte by U+FFFD (piece 30140); "��" is piece 26308
  assert.equal(decodeUtf8Spm(Buffer.from([0x61, 0xe2, 0x96, 0x62])), 'a\ufffd\ufffdb');
  assert.equal(decodeUtf8Spm(Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62])), 'a\ufffd\ufffd\ufffdb');
  assert.equal(decodeUtf8Spm(Buffer.from('é中🦙', 'utf8')), 'é中🦙');
  assert.equal(tok.encode(decodeUtf8Spm(Buffer.from([0x61, 0xe2, 0x96, 0x62]))).join(' '), '263 26308 29890');
  assert.equal(tok.encode('a\u0000b').join(' '), '263 3 29890');
  assert.equal(tok.decode(tok.encode('a\u0000b')), 'a\u0000b');
  // a lone surrogate is encoded as U+FFFD (as UTF-8 encoding of the string does), never dropped
  const ids = tok.encode('x\ud800y');
  assert.equal(tok.decode(ids), 'x\ufffdy');
});

test('the CLI encodes and decodes exactly like spm_encode / spm_decode', { skip }, () => {
  const out = spawnSync(process.execPath, ['bin/ziya.js', 'tokenizer', 'encode', '--model', MODEL, '--input', 'test/golden/llama2-sample.txt'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, readFileSync('test/golden/llama2-sample.ids', 'utf8'));
  const pieces = spawnSync(process.execPath, ['bin/ziya.js', 'tokenizer', 'encode', '--model', MODEL, '--pieces', '--input', 'test/golden/llama2-sample.txt'], { encoding: 'utf8' });
  assert.equal(pieces.stdout, readFileSync('test/golden/llama2-sample.pieces', 'utf8'));
  const bos = spawnSync(process.execPath, ['bin/ziya.js', 'tokenizer', 'encode', '--model', MODEL, '--bos', '--eos'], { input: 'Hello world\n', encoding: 'utf8' });
  assert.equal(bos.stdout, '1 15043 3186 2\n');
  const dec = spawnSync(process.execPath, ['bin/ziya.js', 'tokenizer', 'decode', '--model', MODEL, '--input', 'test/golden/llama2-sample.ids'], { encoding: 'utf8' });
  assert.equal(dec.stdout, readFileSync('test/golden/llama2-sample.txt', 'utf8'));
  const bad = spawnSync(process.execPath, ['bin/ziya.js', 'tokenizer', 'decode', '--model', MODEL], { input: '1 2 99999\n', encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /line 1: "99999" is not a token id/);
});

test('extension adds Chinese characters spelled with bytes; spm_encode agrees with the extended model; every format is written', { skip }, () => {
  const base = readVocabFile(MODEL);
  const c = new HanCounter(base);
  const sample = readFileSync('test/golden/llama2-sample.txt', 'utf8');
  c.add(sample);
  const ext = extendVocab(base, c.top(7400));
  assert.deepEqual(ext.newTokens.map((t) => t.piece), ['體', '簡', '繁', '與']);
  assert.equal(ext.size, 32004);
  assert.equal(ext.paddedSize, 32128);
  // the new id maps to the byte tokens that spelled the character: 體 = E9 AB 94
  assert.deepEqual(ext.newTokens[0]!.from, [0xe9 + 3, 0xab + 3, 0x94 + 3]);
  const tok = new SentencePieceBPE(ext.vocab);
  const golden = readFileSync('test/golden/llama2-zh-extended-sample.ids', 'utf8').split('\n');
  sample.split('\n').slice(0, -1).forEach((l, i) => assert.equal(tok.encode(l).join(' '), golden[i], l));
  const dir = tmp();
  for (const f of ['t.model', 't.json', 't.bin', 't.gguf']) {
    writeVocabFile(ext.vocab, join(dir, f));
    const again = new SentencePieceBPE(readVocabFile(join(dir, f)));
    assert.equal(again.encode('繁體與簡體').join(' '), tok.encode('繁體與簡體').join(' '), f);
  }
  const before = tokensPer1000Chars(new SentencePieceBPE(base), ['繁體與簡體中文']);
  const after = tokensPer1000Chars(tok, ['繁體與簡體中文']);
  assert.ok(after.tokens < before.tokens);
  writeFileSync(join(dir, 'ok'), '');
});

test('batch encoding on worker threads gives the same ids in the same order', { skip }, async () => {
  const v = readVocabFile(MODEL);
  const tok = new SentencePieceBPE(v);
  const texts = readFileSync('test/golden/llama2-sample.txt', 'utf8').split('\n').concat(goldenCases().map((c) => c.text));
  const be = new BatchEncoder(v, 2);
  const r = await be.encode(texts);
  await be.close();
  texts.forEach((t, i) => assert.deepEqual(Array.from(r.ids.subarray(r.offsets[i]!, r.offsets[i + 1]!)), tok.encode(t)));
});
