/**
 * llama2.c checkpoints: the legacy float32 export (7 int32 header, then the weights in
 * run.c's order, with the RoPE tables that are skipped) and version 1 ("ak42" magic, 256-byte
 * header). Matrices are [out, in] row-major as in PyTorch; Q/K use Meta's adjacent-pair RoPE.
 */
import { CheckpointError, type LlamaConfig } from '../config.js';

export interface LoadedCheckpoint {
  config: LlamaConfig;
  weights: Map<string, Float32Array>;
}

const MAGIC_V1 = 0x616b3432;

function order(c: LlamaConfig, v1: boolean): [string, number][] {
  const hd = c.dim / c.nHeads, kv = c.nKvHeads * hd, L = c.nLayers;
  const per = (name: string, n: number) => Array.from({ length: L }, (_, l) => [`layers.${l}.${name}`, n] as [string, number]);
  const mats: [string, number][] = [
    ...per('attention.wq.weight', c.dim * c.dim),
    ...per('attention.wk.weight', kv * c.dim),
    ...per('attention.wv.weight', kv * c.dim),
    ...per('attention.wo.weight', c.dim * c.dim),
  ];
  const ffn: [string, number][] = [
    ...per('feed_forward.w1.weight', c.hiddenDim * c.dim),
    ...per('feed_forward.w2.weight', c.dim * c.hiddenDim),
    ...per('feed_forward.w3.weight', c.hiddenDim * c.dim),
  ];
  if (v1)
    return [
      ...per('attention_norm.weight', c.dim),
      ...per('ffn_norm.weight', c.dim),
      ['norm.weight', c.dim],
      ['tok_embeddings.weight', c.vocabSize * c.dim],
      ...mats,
      ...ffn,
      ...(c.tieEmbeddings ? [] : [['output.weight', c.vocabSize * c.dim] as [string, number]]),
    ];
  return [
    ['tok_embeddings.weight', c.vocabSize * c.dim],
    ...per('attention_norm.weight', c.dim),
    ...mats,
    ...per('ffn_norm.weight', c.dim),
    ...ffn,
    ['norm.weight', c.dim],
    ['<rope tables>', c.maxSeqLen * hd], // freq_cis_real and freq_cis_imag, unused
    ...(c.tieEmbeddings ? [] : [['output.weight', c.vocabSize * c.dim] as [string, number]]),
  ];
}

export function readLlama2c(buf: Uint8Array, where = 'model.bin'): LoadedCheckpoint {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 28) throw new CheckpointError(`${where}: truncated llama2.c checkpoint (${buf.length} bytes, the header alone is 28)`);
  const v1 = dv.getUint32(0, true) === MAGIC_V1;
  let off: number;
  let h: number[];
  let shared: boolean;
  if (v1) {
    const version = dv.getInt32(4, true);
    if (version !== 1) throw new CheckpointError(`${where}: llama2.c export version ${version} is not supported (only the float32 versions 0 and 1; version 2 is int8-quantised)`);
    if (buf.length < 256) throw new CheckpointError(`${where}: truncated llama2.c v1 header`);
    h = Array.from({ length: 7 }, (_, i) => dv.getInt32(8 + 4 * i, true));
    shared = buf[36] !== 0;
    off = 256;
  } else {
    h = Array.from({ length: 7 }, (_, i) => dv.getInt32(4 * i, true));
    shared = h[5]! > 0;
    h[5] = Math.abs(h[5]!);
    off = 28;
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, maxSeqLen] = h as [number, number, number, number, number, number, number];
  if ([dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, maxSeqLen].some((x) => !(x > 0) || x > 1 << 24))
    throw new CheckpointError(`${where}: implausible llama2.c header (dim=${dim}, hidden_dim=${hiddenDim}, n_layers=${nLayers}, n_heads=${nHeads}, n_kv_heads=${nKvHeads}, vocab_size=${vocabSize}, seq_len=${maxSeqLen})`);
  const config: LlamaConfig = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, maxSeqLen, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: shared };
  if (dim % nHeads || nHeads % nKvHeads) throw new CheckpointError(`${where}: dim ${dim}, n_heads ${nHeads} and n_kv_heads ${nKvHeads} do not divide`);
  const weights = new Map<string, Float32Array>();
  for (const [name, n] of order(config, v1)) {
    if (off + 4 * n > buf.length) throw new CheckpointError(`${where}: truncated: tensor ${name} needs ${4 * n} bytes at offset ${off}, the file has ${buf.length - off} left`);
    if (!name.startsWith('<')) {
      const t = new Float32Array(n);
      new Uint8Array(t.buffer).set(buf.subarray(off, off + 4 * n));
      weights.set(name, t);
    }
    off += 4 * n;
  }
  if (off !== buf.length && !(v1 && off < buf.length)) throw new CheckpointError(`${where}: ${buf.length - off} bytes after the last tensor: the header does not describe this file`);
  return { config, weights };
}

/** writes the legacy (version 0) float32 format that llama2.c's run.c reads */
export function writeLlama2c(config: LlamaConfig, weights: Map<string, Float32Array>): Uint8Array {
  const hd = config.dim / config.nHeads;
  const parts: Uint8Array[] = [];
  const head = new Int32Array([config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKvHeads, config.tieEmbeddings ? config.vocabSize : -config.vocabSize, config.maxSeqLen]);
  parts.push(new Uint8Array(head.buffer));
  for (const [name, n] of order(config, false)) {
    if (name === '<rope tables>') {
      const half = n / 2;
      const re = new Float32Array(half), im = new Float32Array(half);
      for (let p = 0; p < config.maxSeqLen; p++)
        for (let i = 0; i < hd / 2; i++) {
          const f = 1 / Math.pow(config.ropeTheta, (2 * i) / hd);
          re[p * (hd / 2) + i] = Math.cos(p * f);
          im[p * (hd / 2) + i] = Math.sin(p * f);
        }
      parts.push(new Uint8Array(re.buffer), new Uint8Array(im.buffer));
      continue;
    }
    const t = weights.get(name);
    if (!t || t.length !== n) throw new CheckpointError(`writeLlama2c: tensor ${name} is missing or has the wrong size`);
    parts.push(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  }
  return Buffer.concat(parts);
}
