// The LLaMA-2 model: llama2.c parity on a real checkpoint, checkpoint round trips in every
// format, the HF RoPE permutation against an independent rotate-half implementation,
// masks, KV-cache consistency, mixed precision, bad checkpoints and a short training run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { rng } from '../src/core/hash.js';
import { defaultConfig, type LlamaConfig } from '../src/model/config.js';
import { Llama } from '../src/model/llama.js';
import { loadModel, saveModel } from '../src/model/load.js';
import { generate, Xorshift } from '../src/model/generate.js';
import { permuteRope, readSafetensors, writeSafetensors } from '../src/model/formats/safetensors.js';
import { readLlama2c, writeLlama2c } from '../src/model/formats/llama2c.js';
import { writeGgufModel } from '../src/model/formats/gguf.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { PieceType, type Vocab } from '../src/tokenizer/vocab.js';
import { noGrad, NonFiniteError, discardTape } from '../src/tensor/tensor.js';
import { backprop } from '../src/tensor/ops.js';
import { AdamW, clipGradNorm, cosineLr } from '../src/train/optim.js';

const STORIES = join(SHARED, 'llama2c-stories260k');
const haveStories = existsSync(join(STORIES, 'stories260K.bin'));
const skipStories = haveStories ? false : `../shared/data/llama2c-stories260k is absent`;

/** the code block after a line in llama2.c's doc that starts with `marker` */
function docSample(marker: string): string {
  const md = readFileSync(join(STORIES, 'doc/stories260K.md'), 'utf8');
  const at = md.indexOf(marker);
  const block = md.slice(md.indexOf('```\n', at) + 4);
  const body = block.slice(0, block.indexOf('```'));
  return body.split('\n').slice(1).join('\n').trim(); // drop the command line
}

test('stories260K: greedy decoding reproduces llama2.c\'s documented output', { skip: skipStories }, () => {
  const { model } = loadModel(join(STORIES, 'stories260K.bin'));
  const tok = loadTokenizer(join(STORIES, 'tok512.bin'), 'llama2c');
  const g = generate(model, tok, '', { temperature: 0, steps: 256 });
  assert.equal(g.text.trim(), docSample('Sampling this model at temperature 0.0'));
});

test('stories260K: temperature 1.0, top-p 0.9, seed 133742 reproduces llama2.c\'s documented sample', { skip: skipStories }, () => {
  const { model } = loadModel(join(STORIES, 'stories260K.bin'));
  const tok = loadTokenizer(join(STORIES, 'tok512.bin'), 'llama2c');
  const g = generate(model, tok, '', { temperature: 1, topP: 0.9, seed: 133742, steps: 256 });
  assert.equal(g.text.trim(), docSample('Sampling at 1.0 with topp of 0.9'));
});

test('xorshift generator matches llama2.c\'s random_u32 (values worked out by hand from its three shifts and multiplier)', () => {
  // state 1: s ^= s>>12 -> 1; s ^= s<<25 -> 0x2000001; s ^= s>>27 -> 0x2000001;
  // (0x2000001 * 0x2545F4914F6CDD1D) mod 2^64 >> 32
  const s = 0x2000001n, mul = 0x2545f4914f6cdd1dn;
  const expected = Number(((s * mul) & 0xffffffffffffffffn) >> 32n);
  assert.equal(new Xorshift(1).u32(), expected);
});

function tinyConfig(extra: Partial<LlamaConfig> = {}): LlamaConfig {
  return defaultConfig({ dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 61, maxSeqLen: 32, hiddenDim: 48, ...extra });
}
function tinyVocab(n: number): Vocab {
  const pieces = ['<unk>', '<s>', '</s>', ...Array.from({ length: n - 3 }, (_, i) => `\u2581w${i}`)];
  return {
    pieces, scores: Float32Array.from(pieces, (_, i) => -i), types: Uint8Array.from(pieces, (_, i) => (i === 0 ? PieceType.Unknown : i < 3 ? PieceType.Control : PieceType.Normal)),
    modelType: 'bpe', byteFallback: false, addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ',
  };
}
function ids(n: number, V: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * V));
}
function logitsOf(m: Llama, t: Int32Array, B = 1): Float32Array {
  const y = noGrad(() => m.forward({ ids: t, B, T: t.length / B }));
  return y.data;
}
function maxAbs(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

test('the KV-cache decoder gives the same logits as the full training forward pass (GQA, untied and tied)', () => {
  for (const tie of [false, true]) {
    const m = Llama.init(tinyConfig({ tieEmbeddings: tie }), 3);
    const t = ids(12, 61, 4);
    const full = logitsOf(m, t);
    const cache = m.newCache();
    for (let i = 0; i < t.length; i++) {
      const l = m.step(t[i]!, cache);
      assert.ok(maxAbs(l, full.subarray(i * 61, (i + 1) * 61)) < 1e-4, `position ${i} tie=${tie}`);
    }
  }
});

test('prefill through the batched pass fills the KV cache as step() does; decoding continues from it', () => {
  const m = Llama.init(tinyConfig(), 5);
  const t = ids(12, 61, 9);
  const a = m.newCache(), b = m.newCache();
  let last: Float32Array = new Float32Array(0);
  for (const x of t.slice(0, 8)) last = m.step(x, a);
  const pre = m.prefill(t.slice(0, 8), b);
  assert.equal(b.len, 8);
  assert.ok(maxAbs(pre, last) < 1e-4);
  for (let l = 0; l < a.k.length; l++) assert.ok(maxAbs(a.k[l]!.subarray(0, 8 * 16), b.k[l]!.subarray(0, 8 * 16)) < 1e-4 && maxAbs(a.v[l]!, b.v[l]!) < 1e-4);
  for (const x of t.slice(8)) assert.ok(maxAbs(m.step(x, a), m.step(x, b)) < 1e-4);
  assert.throws(() => m.prefill([1], b), /not empty/);
});

test('block-diagonal packing equals separate documents, and padding changes nothing for real tokens', () => {
  const m = Llama.init(tinyConfig(), 5);
  const a = ids(5, 61, 6), b = ids(7, 61, 7);
  const packed = Int32Array.from([...a, ...b]);
  const doc = Int32Array.from([...a].map(() => 0).concat([...b].map(() => 1)));
  const pos = Int32Array.from([...a.keys(), ...b.keys()]);
  const y = noGrad(() => m.forward({ ids: packed, B: 1, T: 12, doc, pos })).data;
  assert.ok(maxAbs(y.subarray(0, 5 * 61), logitsOf(m, a)) < 1e-4);
  assert.ok(maxAbs(y.subarray(5 * 61), logitsOf(m, b)) < 1e-4);
  // without the mask the second document sees the first: different logits
  const leak = noGrad(() => m.forward({ ids: packed, B: 1, T: 12, pos })).data;
  assert.ok(maxAbs(leak.subarray(5 * 61), logitsOf(m, b)) > 1e-3);
  // padding at the end of a row, masked out as keys
  const padded = Int32Array.from([...b, 0, 0, 0]);
  const keyMask = Uint8Array.from([...b].map(() => 1).concat([0, 0, 0]));
  const yp = noGrad(() => m.forward({ ids: padded, B: 1, T: 10, keyMask })).data;
  assert.ok(maxAbs(yp.subarray(0, 7 * 61), logitsOf(m, b)) < 1e-4);
  // padding never counts in the loss: ignored targets
  const targets = Int32Array.from([...b.slice(1), 5, -100, -100, -100]);
  const { count } = m.loss({ ids: padded, B: 1, T: 10, keyMask }, targets);
  discardTape();
  assert.equal(count, 7);
});

test('HF permutation: Meta adjacent-pair RoPE on Wq equals rotate-half RoPE on the HF-permuted Wq', () => {
  const heads = 3, hd = 8, dim = 12;
  const r = rng(9);
  const W = Float32Array.from({ length: heads * hd * dim }, () => r() - 0.5);
  const x = Float32Array.from({ length: dim }, () => r() - 0.5);
  const pos = 5, theta = 10000;
  const proj = (w: Float32Array) => Float64Array.from({ length: heads * hd }, (_, o) => { let s = 0; for (let j = 0; j < dim; j++) s += w[o * dim + j]! * x[j]!; return s; });
  // Meta: pairs (2i, 2i+1) rotated by pos * theta^(-2i/hd)
  const qm = proj(W);
  const meta = new Float64Array(qm.length);
  for (let h = 0; h < heads; h++) for (let i = 0; i < hd / 2; i++) {
    const a = pos * Math.pow(theta, (-2 * i) / hd), c = Math.cos(a), s = Math.sin(a);
    const x0 = qm[h * hd + 2 * i]!, x1 = qm[h * hd + 2 * i + 1]!;
    meta[h * hd + 2 * i] = x0 * c - x1 * s;
    meta[h * hd + 2 * i + 1] = x0 * s + x1 * c;
  }
  // HF: q * cos + rotate_half(q) * sin, with element i and i + hd/2 sharing frequency i
  const qh = proj(permuteRope(W, heads, hd, dim, true));
  const hf = new Float64Array(qh.length);
  for (let h = 0; h < heads; h++) for (let i = 0; i < hd; i++) {
    const k = i % (hd / 2), a = pos * Math.pow(theta, (-2 * k) / hd);
    const rot = i < hd / 2 ? -qh[h * hd + i + hd / 2]! : qh[h * hd + i - hd / 2]!;
    hf[h * hd + i] = qh[h * hd + i]! * Math.cos(a) + rot * Math.sin(a);
  }
  // same values, HF order = (first elements of all pairs, then second elements)
  for (let h = 0; h < heads; h++) for (let i = 0; i < hd / 2; i++) {
    assert.ok(Math.abs(meta[h * hd + 2 * i]! - hf[h * hd + i]!) < 1e-9);
    assert.ok(Math.abs(meta[h * hd + 2 * i + 1]! - hf[h * hd + hd / 2 + i]!) < 1e-9);
  }
  assert.deepEqual([...permuteRope(permuteRope(W, heads, hd, dim, true), heads, hd, dim, false)], [...W]);
});

test('checkpoint round trips: llama2.c, HF safetensors (single, sharded; F32, BF16, F16) and GGUF (F32, F16, BF16)', () => {
  const dir = tmp();
  for (const tie of [false, true]) {
    const m = Llama.init(tinyConfig({ tieEmbeddings: tie }), 11);
    const t = ids(9, 61, 12);
    const want = logitsOf(m, t);
    const vocab = tinyVocab(61);
    const cases: [string, Parameters<typeof saveModel>[2], number][] = [
      ['m.bin', { format: 'llama2c' }, 0],
      ['hf', { format: 'hf' }, 0],
      ['hf-sharded', { format: 'hf', maxShardBytes: 20_000 }, 0],
      ['hf-bf16', { format: 'hf', dtype: 'BF16' }, 0.05],
      ['hf-f16', { format: 'hf', dtype: 'F16' }, 0.01],
      ['m.gguf', { format: 'gguf', vocab }, 0],
      ['m16.gguf', { format: 'gguf', vocab, dtype: 'F16' }, 0.01],
      ['mbf.gguf', { format: 'gguf', vocab, dtype: 'BF16' }, 0.05],
    ];
    for (const [name, opts, tol] of cases) {
      const path = join(dir, `${tie}-${name}`);
      const files = saveModel(m, path, opts);
      if (name === 'hf-sharded') assert.ok(files.some((f) => f.endsWith('model.safetensors.index.json')) && files.length > 3, 'sharded');
      const back = loadModel(path);
      assert.deepEqual(back.model.config, m.config, `${name} config`);
      const got = logitsOf(back.model, t);
      const err = maxAbs(got, want);
      if (tol === 0) {
        for (const [k, v] of m.weights()) assert.deepEqual(back.model.weights().get(k), v, `${name}: ${k} bit-exact`);
      }
      assert.ok(err <= Math.max(tol, 1e-6), `${name}: logits differ by ${err}`);
      if (opts.format === 'gguf') assert.deepEqual(back.vocab?.pieces, vocab.pieces);
    }
  }
});

test('bad checkpoints: truncated, shapes against the config, unsupported types, NaN/Inf — errors name the tensor', () => {
  const dir = tmp();
  const m = Llama.init(tinyConfig(), 13);
  const bin = writeLlama2c(m.config, m.weights());
  assert.throws(() => readLlama2c(bin.subarray(0, bin.length - 100), 'x.bin'), /x\.bin: truncated: tensor output\.weight/);
  // NaN in a weight
  const w = m.weights();
  const bad = new Map(w);
  const wk = bad.get('layers.1.attention.wk.weight')!.slice();
  wk[7] = NaN;
  bad.set('layers.1.attention.wk.weight', wk);
  writeFileSync(join(dir, 'nan.bin'), writeLlama2c(m.config, bad));
  assert.throws(() => loadModel(join(dir, 'nan.bin')), /tensor layers\.1\.attention\.wk\.weight holds NaN at element 7/);
  const inf = new Map(w);
  const n2 = inf.get('norm.weight')!.slice();
  n2[0] = Infinity;
  inf.set('norm.weight', n2);
  assert.throws(() => saveModel(new Llama(m.config, inf), join(dir, 'x.bin'), { format: 'llama2c' }), /tensor norm\.weight holds Inf/);
  // HF: config disagrees with a tensor's shape
  saveModel(m, join(dir, 'hf'), { format: 'hf' });
  const cfg = JSON.parse(readFileSync(join(dir, 'hf/config.json'), 'utf8'));
  writeFileSync(join(dir, 'hf/config.json'), JSON.stringify({ ...cfg, intermediate_size: 64 }));
  assert.throws(() => loadModel(join(dir, 'hf')), /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48, 32\]; config\.json implies \[64, 32\]/);
  // safetensors: unsupported dtype, truncated data
  const st = writeSafetensors([['a', { shape: [2], data: Float32Array.of(1, 2) }]]);
  const hdrLen = Number(Buffer.from(st).readBigUInt64LE(0));
  const hdr = JSON.parse(Buffer.from(st.subarray(8, 8 + hdrLen)).toString()) as Record<string, { dtype: string }>;
  hdr.a!.dtype = 'I32';
  const j = Buffer.from(JSON.stringify(hdr));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(j.length));
  assert.throws(() => readSafetensors(Buffer.concat([len, j, st.subarray(8 + hdrLen)]), 'w.safetensors'), /tensor a has dtype I32; only F32, F16 and BF16/);
  assert.throws(() => readSafetensors(st.subarray(0, st.length - 1), 'w.safetensors'), /truncated: tensor a/);
  // GGUF: a quantised tensor type, truncated data
  const g = Buffer.from(writeGgufModel(m.config, w, tinyVocab(61)));
  const nameAt = g.indexOf('blk.0.attn_q.weight');
  const typeAt = nameAt + 'blk.0.attn_q.weight'.length + 4 + 16;
  const q = Buffer.from(g);
  q.writeUInt32LE(2, typeAt);
  writeFileSync(join(dir, 'q.gguf'), q);
  assert.throws(() => loadModel(join(dir, 'q.gguf')), /tensor blk\.0\.attn_q\.weight has type Q4_0; only F32, F16 and BF16/);
  writeFileSync(join(dir, 't.gguf'), g.subarray(0, g.length - 64));
  assert.throws(() => loadModel(join(dir, 't.gguf')), /truncated: tensor output\.weight/);
});

test('mixed precision: FP16 overflows where BF16 does not (the op is named); both keep FP32 master weights', () => {
  const m = Llama.init(tinyConfig(), 17);
  // large activations, as in the loss spikes the Ziya2 paper reports under FP16
  for (const [k, t] of m.params) if (k.includes('w1') || k.includes('w3')) for (let i = 0; i < t.size; i++) t.data[i]! *= 3000;
  const t = ids(8, 61, 18);
  const batch = { ids: t, B: 1, T: 8 };
  assert.doesNotThrow(() => { noGrad(() => m.forward(batch, { precision: 'bf16' })); });
  assert.throws(() => noGrad(() => m.forward(batch, { precision: 'fp16' })), (e: unknown) => e instanceof NonFiniteError && /feed_forward|swiglu|residual/.test(e.op));
  const fp32 = logitsOf(m, t);
  assert.equal(fp32.every(Number.isFinite), true);
  // BF16 training step: gradients reach the FP32 master weights
  const tgt = ids(8, 61, 19);
  const { loss } = m.loss(batch, tgt, { precision: 'bf16' });
  backprop(loss);
  assert.ok(m.p('layers.0.attention.wq.weight').grad!.some((x) => x !== 0));
});

test('AdamW first step matches the closed form, clipping bounds the norm, cosine schedule endpoints', () => {
  const m = Llama.init(tinyConfig(), 21);
  const p = m.p('layers.0.feed_forward.w2.weight'), n = m.p('norm.weight');
  const p0 = p.data.slice(), n0 = n.data.slice();
  p.g().fill(0.5);
  n.g().fill(-2);
  const opt = new AdamW(m.params, { lr: 0.01, weightDecay: 0.1, eps: 1e-8 });
  opt.update();
  // step 1: m̂ = g, v̂ = g², so p ← p·(1 − lr·wd) − lr·g/(|g|+eps); norms get no decay
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(p.data[i]! - (p0[i]! * (1 - 0.001) - 0.01 * (0.5 / (0.5 + 1e-8)))) < 1e-6);
  assert.ok(Math.abs(n.data[0]! - (n0[0]! + 0.01)) < 1e-6);
  const norm = clipGradNorm([p, n], 1.0);
  assert.ok(Math.abs(norm - Math.sqrt(p.size * 0.25 + n.size * 4)) < 1e-3);
  let ss = 0;
  for (const t of [p, n]) for (const g of t.grad!) ss += g * g;
  assert.ok(Math.abs(Math.sqrt(ss) - 1) < 1e-4);
  const s = { maxLr: 1e-3, minLr: 1e-5, warmupSteps: 10, totalSteps: 100 };
  assert.equal(cosineLr(9, s), 1e-3);
  assert.ok(Math.abs(cosineLr(100, s) - 1e-5) < 1e-12);
  assert.ok(Math.abs(cosineLr(55, s) - (1e-5 + 0.5 * (1e-3 - 1e-5))) < 1e-9);
});

test('a short training run learns a repeated sequence (FP32 and BF16)', () => {
  for (const precision of ['fp32', 'bf16'] as const) {
    const m = Llama.init(tinyConfig({ nLayers: 1 }), 23);
    const opt = new AdamW(m.params, { lr: 3e-3, weightDecay: 0.01 });
    const seq = Int32Array.from({ length: 17 }, (_, i) => (i * 7) % 23 + 3);
    const x = seq.subarray(0, 16), y = seq.subarray(1);
    let first = 0, last = 0;
    for (let step = 0; step < 80; step++) {
      const { loss } = m.loss({ ids: x, B: 1, T: 16 }, y, { precision });
      if (step === 0) first = loss.item();
      last = loss.item();
      backprop(loss);
      clipGradNorm(m.params.values(), 1.0);
      opt.update();
      opt.zeroGrad();
    }
    assert.ok(first > 3.5 && last < 0.3, `${precision}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  }
});
