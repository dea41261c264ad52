/**
 * The LLaMA-2 model on the training engine: training forward pass on the autograd tape
 * (block-diagonal and padding masks, BF16/FP16 emulation with FP32 master weights) and
 * an inference path with a KV cache.
 *
 * Layout: activations are [B*T, width] rows; RoPE rotates adjacent pairs (2i, 2i+1) of each
 * head as Meta's and llama2.c's code does (Hugging Face checkpoints are permuted on load).
 */
import { backend } from '../tensor/index.js';
import * as op from '../tensor/ops.js';
import { NonFiniteError, Tensor, noGrad } from '../tensor/tensor.js';
import { rng } from '../core/hash.js';
import { CheckpointError, checkConfig, parameterShapes, type LlamaConfig, type Precision } from './config.js';

export interface Batch {
  /** [B*T] token ids */
  ids: Int32Array;
  B: number;
  T: number;
  /** [B*T] positions for RoPE; default 0..T-1 in every row */
  pos?: Int32Array;
  /** [B*T] document id per position: attention is block-diagonal over documents */
  doc?: Int32Array;
  /** [B*T] 1 = token, 0 = padding (never attended to) */
  keyMask?: Uint8Array;
}

export interface ForwardOptions {
  precision?: Precision;
  /** receives each layer's keys (after RoPE) and values, [B*T, nKvHeads * headDim] (prefill of a KV cache) */
  capture?: (layer: number, k: Float32Array, v: Float32Array) => void;
}

export class Llama {
  readonly params = new Map<string, Tensor>();

  constructor(readonly config: LlamaConfig, weights?: Map<string, Float32Array>, where = 'model') {
    checkConfig(config, where);
    for (const [name, shape] of parameterShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      let data = weights?.get(name);
      if (weights && !data) throw new CheckpointError(`${where}: tensor ${name} is missing`);
      if (data && data.length !== n) throw new CheckpointError(`${where}: tensor ${name} has ${data.length} values; the config needs shape [${shape.join(', ')}] (${n})`);
      data ??= new Float32Array(n);
      this.params.set(name, op.param(data, shape, name));
    }
    if (weights) this.checkFinite(where);
  }

  /** random initialisation as llama2.c/nanoGPT do it: N(0, 0.02), residual projections scaled by 1/sqrt(2 L), norms 1 */
  static init(config: LlamaConfig, seed = 1): Llama {
    const m = new Llama(config);
    const r = rng(seed);
    const normal = () => {
      let u = 0;
      while (u === 0) u = r();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    };
    for (const [name, t] of m.params) {
      if (name.endsWith('norm.weight')) { t.data.fill(1); continue; }
      const std = name.endsWith('wo.weight') || name.endsWith('w2.weight') ? 0.02 / Math.sqrt(2 * config.nLayers) : 0.02;
      for (let i = 0; i < t.size; i++) t.data[i] = normal() * std;
    }
    return m;
  }

  get headDim(): number {
    return this.config.dim / this.config.nHeads;
  }

  p(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`no parameter ${name}`);
    return t;
  }

  /** the output projection (the token embedding when tied) */
  outputWeight(): Tensor {
    return this.config.tieEmbeddings ? this.p('tok_embeddings.weight') : this.p('output.weight');
  }

  /** weights as a name -> data map (the output weight included only when untied) */
  weights(): Map<string, Float32Array> {
    return new Map([...this.params].map(([k, t]) => [k, t.data]));
  }

  checkFinite(where: string): void {
    const be = backend();
    for (const [name, t] of this.params) {
      const at = be.firstNonFinite(t.data);
      if (at >= 0) throw new CheckpointError(`${where}: tensor ${name} holds ${Number.isNaN(t.data[at]!) ? 'NaN' : 'Inf'} at element ${at}`);
    }
  }

  /** logits [B*T, vocab] on the tape */
  forward(batch: Batch, opts: ForwardOptions = {}): Tensor {
    const { h, W, act } = this.trunk(batch, opts);
    return act(op.linear(h, W, 'output'), 'output');
  }

  /**
   * mean next-token cross-entropy of targets [B*T] (ignoreIndex left out); the loss tensor is on
   * the tape. FP32 uses the fused output projection + cross-entropy (no [B*T, vocab] logits).
   */
  loss(batch: Batch, targets: Int32Array, opts: ForwardOptions & { ignoreIndex?: number } = {}): op.CrossEntropyResult {
    const ignore = opts.ignoreIndex ?? -100;
    if ((opts.precision ?? 'fp32') !== 'fp32') return op.crossEntropy(this.forward(batch, opts), targets, ignore, 'cross_entropy');
    const { h, W } = this.trunk(batch, opts);
    return op.linearCrossEntropy(h, W, targets, ignore, 'output+cross_entropy');
  }

  /** the transformer up to the final norm: hidden states [B*T, dim] and the output weight to apply */
  private trunk(batch: Batch, opts: ForwardOptions): { h: Tensor; W: Tensor; act: (t: Tensor, label: string) => Tensor } {
    const c = this.config, hd = this.headDim;
    const { B, T } = batch;
    if (batch.ids.length !== B * T) throw new RangeError(`forward: ${batch.ids.length} ids for B=${B}, T=${T}`);
    if (T > c.maxSeqLen) throw new RangeError(`forward: sequence length ${T} exceeds max_seq_len ${c.maxSeqLen}`);
    const prec = opts.precision ?? 'fp32';
    const lowp = prec !== 'fp32';
    // low precision: weights are rounded copies of the FP32 master weights, activations are rounded after each op
    const W = (name: string) => (lowp ? op.roundTo(this.p(name), prec, `${name} (${prec})`) : this.p(name));
    const act = (t: Tensor, label: string) => (lowp ? op.roundTo(t, prec, label) : t);
    let pos = batch.pos;
    if (!pos) {
      pos = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) pos[i] = i % T;
    }
    const shape = { B, T, H: c.nHeads, KVH: c.nKvHeads, hd, scale: 1 / Math.sqrt(hd), doc: batch.doc ?? null, keyMask: batch.keyMask ?? null };
    let x = act(op.embedding(W('tok_embeddings.weight'), batch.ids, 'tok_embeddings'), 'tok_embeddings');
    for (let l = 0; l < c.nLayers; l++) {
      const p = `layers.${l}.`;
      // RMSNorm, RoPE and softmax run in FP32 whatever the precision
      const h = act(op.rmsnorm(x, this.p(p + 'attention_norm.weight'), c.normEps, p + 'attention_norm'), p + 'attention_norm');
      const q = op.rope(act(op.linear(h, W(p + 'attention.wq.weight'), p + 'attention.wq'), p + 'attention.wq'), pos, hd, c.ropeTheta, p + 'rope_q');
      const k = op.rope(act(op.linear(h, W(p + 'attention.wk.weight'), p + 'attention.wk'), p + 'attention.wk'), pos, hd, c.ropeTheta, p + 'rope_k');
      const v = act(op.linear(h, W(p + 'attention.wv.weight'), p + 'attention.wv'), p + 'attention.wv');
      opts.capture?.(l, k.data, v.data);
      const a = act(op.attention(act(q, p + 'rope_q'), act(k, p + 'rope_k'), v, shape, p + 'attention'), p + 'attention');
      x = act(op.add(x, act(op.linear(a, W(p + 'attention.wo.weight'), p + 'attention.wo'), p + 'attention.wo'), p + 'residual_attn'), p + 'residual_attn');
      const h2 = act(op.rmsnorm(x, this.p(p + 'ffn_norm.weight'), c.normEps, p + 'ffn_norm'), p + 'ffn_norm');
      const g = act(op.linear(h2, W(p + 'feed_forward.w1.weight'), p + 'feed_forward.w1'), p + 'feed_forward.w1');
      const u = act(op.linear(h2, W(p + 'feed_forward.w3.weight'), p + 'feed_forward.w3'), p + 'feed_forward.w3');
      const s = act(op.swiglu(g, u, p + 'swiglu'), p + 'swiglu');
      x = act(op.add(x, act(op.linear(s, W(p + 'feed_forward.w2.weight'), p + 'feed_forward.w2'), p + 'feed_forward.w2'), p + 'residual_ffn'), p + 'residual_ffn');
    }
    const hN = act(op.rmsnorm(x, this.p('norm.weight'), c.normEps, 'norm'), 'norm');
    const outW = c.tieEmbeddings ? W('tok_embeddings.weight') : W('output.weight');
    return { h: hN, W: outW, act };
  }

  zeroGrad(): void {
    for (const t of this.params.values()) t.zeroGrad();
  }

  // ---------------------------------------------------------------- inference
  newCache(maxLen = this.config.maxSeqLen): KVCache {
    const kvw = this.config.nKvHeads * this.headDim;
    return {
      len: 0,
      maxLen,
      k: Array.from({ length: this.config.nLayers }, () => new Float32Array(maxLen * kvw)),
      v: Array.from({ length: this.config.nLayers }, () => new Float32Array(maxLen * kvw)),
    };
  }

  /**
   * runs a prompt through the batched forward pass into an empty cache (positions 0..n-1) and
   * returns the last position's logits: the same as n calls of step(), in one pass of GEMMs
   */
  prefill(ids: ArrayLike<number>, cache: KVCache): Float32Array {
    if (cache.len !== 0) throw new RangeError('prefill: the cache is not empty');
    if (ids.length === 0 || ids.length > cache.maxLen) throw new RangeError(`prefill: ${ids.length} tokens for a cache of ${cache.maxLen}`);
    for (const t of Array.from(ids)) if (!Number.isInteger(t) || t < 0 || t >= this.config.vocabSize) throw new RangeError(`prefill: token ${t} is outside the vocabulary (${this.config.vocabSize})`);
    const T = ids.length, V = this.config.vocabSize;
    const logits = noGrad(() => this.forward({ ids: Int32Array.from(ids), B: 1, T }, { capture: (l, k, v) => { cache.k[l]!.set(k, 0); cache.v[l]!.set(v, 0); } }));
    cache.len = T;
    return logits.data.slice((T - 1) * V, T * V);
  }

  /** feeds one token at the cache's next position and returns the logits [vocab] */
  step(token: number, cache: KVCache): Float32Array {
    return noGrad(() => {
      const c = this.config, hd = this.headDim, be = backend();
      const posn = cache.len;
      if (posn >= cache.maxLen) throw new RangeError(`step: position ${posn} is past the cache length ${cache.maxLen}`);
      if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new RangeError(`step: token ${token} is outside the vocabulary (${c.vocabSize})`);
      const D = c.dim, kvw = c.nKvHeads * hd, group = c.nHeads / c.nKvHeads;
      const pos = Int32Array.of(posn);
      const x = this.p('tok_embeddings.weight').data.slice(token * D, token * D + D);
      const h = new Float32Array(D), rstd = new Float32Array(1);
      const q = new Float32Array(D), att = new Float32Array(D), o = new Float32Array(D);
      const g = new Float32Array(c.hiddenDim), u = new Float32Array(c.hiddenDim), s = new Float32Array(c.hiddenDim);
      const mv = (W: Tensor, inp: Float32Array, out: Float32Array) => be.gemm(false, true, 1, W.shape[0]!, W.shape[1]!, 1, inp, W.data, 0, out);
      const scores = new Float32Array(posn + 1);
      const acc = new Float64Array(hd);
      for (let l = 0; l < c.nLayers; l++) {
        const p = `layers.${l}.`;
        be.rmsnormFwd(x, this.p(p + 'attention_norm.weight').data, D, c.normEps, h, rstd);
        mv(this.p(p + 'attention.wq.weight'), h, q);
        const kRow = cache.k[l]!.subarray(posn * kvw, (posn + 1) * kvw), vRow = cache.v[l]!.subarray(posn * kvw, (posn + 1) * kvw);
        mv(this.p(p + 'attention.wk.weight'), h, kRow);
        mv(this.p(p + 'attention.wv.weight'), h, vRow);
        be.rope(q, pos, D, hd, c.ropeTheta, false);
        be.rope(kRow, pos, kvw, hd, c.ropeTheta, false);
        const K = cache.k[l]!, V = cache.v[l]!, scale = 1 / Math.sqrt(hd);
        for (let hh = 0; hh < c.nHeads; hh++) {
          const kg = Math.floor(hh / group) * hd, qo = hh * hd;
          let m = -Infinity;
          // keys row by row (contiguous), then the values accumulated row by row
          for (let t = 0, base = kg; t <= posn; t++, base += kvw) {
            let d = 0;
            for (let e = 0; e < hd; e++) d += q[qo + e]! * K[base + e]!;
            const sc = d * scale;
            scores[t] = sc;
            if (sc > m) m = sc;
          }
          let sum = 0;
          for (let t = 0; t <= posn; t++) { const x = Math.exp(scores[t]! - m); scores[t] = x; sum += x; }
          acc.fill(0);
          for (let t = 0, base = kg; t <= posn; t++, base += kvw) {
            const p = scores[t]!;
            for (let e = 0; e < hd; e++) acc[e]! += p * V[base + e]!;
          }
          for (let e = 0; e < hd; e++) att[qo + e] = acc[e]! / sum;
        }
        mv(this.p(p + 'attention.wo.weight'), att, o);
        for (let i = 0; i < D; i++) x[i]! += o[i]!;
        be.rmsnormFwd(x, this.p(p + 'ffn_norm.weight').data, D, c.normEps, h, rstd);
        mv(this.p(p + 'feed_forward.w1.weight'), h, g);
        mv(this.p(p + 'feed_forward.w3.weight'), h, u);
        be.swigluFwd(g, u, s);
        mv(this.p(p + 'feed_forward.w2.weight'), s, o);
        for (let i = 0; i < D; i++) x[i]! += o[i]!;
      }
      be.rmsnormFwd(x, this.p('norm.weight').data, D, c.normEps, h, rstd);
      const logits = new Float32Array(c.vocabSize);
      mv(this.outputWeight(), h, logits);
      const bad = be.firstNonFinite(logits);
      if (bad >= 0) throw new NonFiniteError('output', 'forward', bad, logits[bad]!);
      cache.len++;
      return logits;
    });
  }
}

export interface KVCache {
  len: number;
  maxLen: number;
  /** per layer [maxLen, nKvHeads * headDim] keys (after RoPE) and values */
  k: Float32Array[];
  v: Float32Array[];
}
