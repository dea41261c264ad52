/**
 * GGUF v3 model files as llama.cpp reads and writes them for the `llama` architecture:
 * llama.* hyper-parameters, the tokenizer.ggml.* vocabulary, tensor infos (dims innermost
 * first, so a PyTorch [out, in] matrix is ne = [in, out]) and data aligned to
 * general.alignment (32). F32, F16 and BF16 tensors. Q and K keep Meta's adjacent-pair
 * RoPE layout, which is what llama.cpp's LLaMA graph expects (its HF converter un-permutes).
 */
import { readGgufMetadata, writeGgufEntries, ggufVocabEntries, vocabFromGguf, type GgufEntry, type GgufFile } from '../../tokenizer/formats/gguf.js';
import { PieceType, type Vocab } from '../../tokenizer/vocab.js';
import { CheckpointError, parameterShapes, type LlamaConfig } from '../config.js';
import { decodeFloats, encodeFloats } from './dtype.js';
import type { LoadedCheckpoint } from './llama2c.js';

const TYPE_NAMES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 30: 'BF16' };
const GGUF_TYPE = { F32: 0, F16: 1, BF16: 30 } as const;

export function ggufName(meta: string): string {
  if (meta === 'tok_embeddings.weight') return 'token_embd.weight';
  if (meta === 'norm.weight') return 'output_norm.weight';
  if (meta === 'output.weight') return 'output.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(meta)!;
  const map: Record<string, string> = {
    'attention_norm.weight': 'attn_norm.weight',
    'attention.wq.weight': 'attn_q.weight',
    'attention.wk.weight': 'attn_k.weight',
    'attention.wv.weight': 'attn_v.weight',
    'attention.wo.weight': 'attn_output.weight',
    'ffn_norm.weight': 'ffn_norm.weight',
    'feed_forward.w1.weight': 'ffn_gate.weight',
    'feed_forward.w2.weight': 'ffn_down.weight',
    'feed_forward.w3.weight': 'ffn_up.weight',
  };
  return `blk.${m[1]}.${map[m[2]!]}`;
}

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

export function readGgufTensorInfos(buf: Uint8Array, meta: GgufFile, where: string): { infos: GgufTensorInfo[]; dataStart: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = meta.end;
  const need = (n: number, what: string) => {
    if (p + n > buf.length) throw new CheckpointError(`${where}: truncated GGUF in the tensor infos (${what})`);
  };
  const infos: GgufTensorInfo[] = [];
  for (let i = 0; i < Number(meta.tensorCount); i++) {
    need(8, `tensor ${i} name`);
    const len = Number(dv.getBigUint64(p, true));
    p += 8;
    need(len, `tensor ${i} name`);
    const name = new TextDecoder().decode(buf.subarray(p, p + len));
    p += len;
    need(4, name);
    const nd = dv.getUint32(p, true);
    p += 4;
    need(8 * nd + 12, name);
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) { dims.push(Number(dv.getBigUint64(p, true))); p += 8; }
    const type = dv.getUint32(p, true);
    const offset = Number(dv.getBigUint64(p + 4, true));
    p += 12;
    infos.push({ name, dims, type, offset });
  }
  const align = Number(meta.kv.get('general.alignment') ?? 32);
  return { infos, dataStart: Math.ceil(p / align) * align };
}

/** the shortest decimal that rounds to the same float32 (GGUF stores eps and theta as f32) */
function f32Shortest(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === Math.fround(x)) return y;
  }
  return x;
}

export interface LoadedGguf extends LoadedCheckpoint {
  vocab: Vocab | null;
  meta: GgufFile;
}

export function readGgufModel(buf: Uint8Array, where = 'model.gguf'): LoadedGguf {
  const meta = readGgufMetadata(buf, where);
  const arch = meta.kv.get('general.architecture');
  if (arch !== 'llama') throw new CheckpointError(`${where}: general.architecture is ${String(arch)}; only llama is supported`);
  const num = (k: string, d?: number): number => {
    const v = meta.kv.get(`llama.${k}`);
    if (v === undefined) {
      if (d === undefined) throw new CheckpointError(`${where}: llama.${k} is missing`);
      return d;
    }
    return f32Shortest(Number(v));
  };
  const { infos, dataStart } = readGgufTensorInfos(buf, meta, where);
  const byName = new Map(infos.map((t) => [t.name, t]));
  const dim = num('embedding_length'), nHeads = num('attention.head_count');
  const tokens = meta.kv.get('tokenizer.ggml.tokens');
  const emb = byName.get('token_embd.weight');
  const config: LlamaConfig = {
    dim,
    nLayers: num('block_count'),
    nHeads,
    nKvHeads: num('attention.head_count_kv', nHeads),
    hiddenDim: num('feed_forward_length'),
    vocabSize: num('vocab_size', Array.isArray(tokens) ? tokens.length : emb?.dims[1] ?? 0),
    maxSeqLen: num('context_length'),
    ropeTheta: num('rope.freq_base', 10000),
    normEps: num('attention.layer_norm_rms_epsilon', 1e-5),
    tieEmbeddings: !byName.has('output.weight'),
  };
  const weights = new Map<string, Float32Array>();
  for (const [metaName, shape] of parameterShapes(config)) {
    const name = ggufName(metaName);
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`${where}: tensor ${name} is missing`);
    const want = [...shape].reverse();
    if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) throw new CheckpointError(`${where}: tensor ${name} has dims [${t.dims.join(', ')}]; the llama.* metadata implies [${want.join(', ')}]`);
    const dtype = t.type === 0 ? 'F32' : t.type === 1 ? 'F16' : t.type === 30 ? 'BF16' : null;
    if (!dtype) throw new CheckpointError(`${where}: tensor ${name} has type ${TYPE_NAMES[t.type] ?? t.type}; only F32, F16 and BF16 are supported`);
    const n = shape.reduce((a, b) => a * b, 1);
    const start = dataStart + t.offset, bytes = n * (dtype === 'F32' ? 4 : 2);
    if (start + bytes > buf.length) throw new CheckpointError(`${where}: truncated: tensor ${name} ends at byte ${start + bytes}, the file has ${buf.length}`);
    weights.set(metaName, decodeFloats(buf.subarray(start, start + bytes), dtype, n));
  }
  const vocab = Array.isArray(tokens) ? vocabFromGguf(meta, where) : null;
  return { config, weights, vocab, meta };
}

/** a GGUF v3 model file llama.cpp loads: llama.* keys, the vocabulary, F32/F16/BF16 tensors (norms always F32) */
export function writeGgufModel(config: LlamaConfig, weights: Map<string, Float32Array>, vocab: Vocab, opts: { dtype?: 'F32' | 'F16' | 'BF16'; name?: string } = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  if (vocab.pieces.length > config.vocabSize) throw new CheckpointError(`writeGgufModel: the vocabulary has ${vocab.pieces.length} pieces, more than the model's ${config.vocabSize}`);
  if (vocab.pieces.length < config.vocabSize) {
    // embedding rows padded beyond the tokenizer (e.g. to a multiple of 128): llama.cpp's converter names them [PAD{id}], UNUSED, score -10000
    const extra = config.vocabSize - vocab.pieces.length;
    vocab = {
      ...vocab,
      pieces: [...vocab.pieces, ...Array.from({ length: extra }, (_, i) => `[PAD${vocab.pieces.length + i}]`)],
      scores: Float32Array.from([...vocab.scores, ...new Array<number>(extra).fill(-10000)]),
      types: Uint8Array.from([...vocab.types, ...new Array<number>(extra).fill(PieceType.Unused)]),
    };
  }
  const align = 32;
  const entries: GgufEntry[] = [
    { key: 'general.architecture', type: 'string', value: 'llama' },
    { key: 'general.name', type: 'string', value: opts.name ?? 'ziya-ts' },
    { key: 'general.file_type', type: 'u32', value: dtype === 'F32' ? 0 : dtype === 'F16' ? 1 : 32 },
    { key: 'general.alignment', type: 'u32', value: align },
    { key: 'llama.vocab_size', type: 'u32', value: config.vocabSize },
    { key: 'llama.context_length', type: 'u32', value: config.maxSeqLen },
    { key: 'llama.embedding_length', type: 'u32', value: config.dim },
    { key: 'llama.block_count', type: 'u32', value: config.nLayers },
    { key: 'llama.feed_forward_length', type: 'u32', value: config.hiddenDim },
    { key: 'llama.rope.dimension_count', type: 'u32', value: config.dim / config.nHeads },
    { key: 'llama.attention.head_count', type: 'u32', value: config.nHeads },
    { key: 'llama.attention.head_count_kv', type: 'u32', value: config.nKvHeads },
    { key: 'llama.attention.layer_norm_rms_epsilon', type: 'f32', value: config.normEps },
    { key: 'llama.rope.freq_base', type: 'f32', value: config.ropeTheta },
    ...ggufVocabEntries(vocab),
  ];
  const infos: Buffer[] = [];
  const blobs: Uint8Array[] = [];
  let off = 0;
  const shapes = parameterShapes(config);
  for (const [metaName, shape] of shapes) {
    const data = weights.get(metaName);
    if (!data) throw new CheckpointError(`writeGgufModel: tensor ${metaName} is missing`);
    const tdtype = shape.length === 1 ? 'F32' : dtype;
    const name = Buffer.from(ggufName(metaName));
    const info = Buffer.alloc(8 + name.length + 4 + 8 * shape.length + 12);
    let p = info.writeBigUInt64LE(BigInt(name.length), 0);
    name.copy(info, p);
    p += name.length;
    p = info.writeUInt32LE(shape.length, p);
    for (const d of [...shape].reverse()) p = info.writeBigUInt64LE(BigInt(d), p);
    p = info.writeUInt32LE(GGUF_TYPE[tdtype], p);
    info.writeBigUInt64LE(BigInt(off), p);
    infos.push(info);
    const bytes = encodeFloats(data, tdtype);
    const padded = Math.ceil(bytes.length / align) * align;
    blobs.push(bytes, new Uint8Array(padded - bytes.length));
    off += padded;
  }
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0x46554747, 0);
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(BigInt(shapes.length), 8);
  head.writeBigUInt64LE(BigInt(entries.length), 16);
  const meta = Buffer.concat([head, writeGgufEntries(entries), ...infos]);
  const pad = Math.ceil(meta.length / align) * align - meta.length;
  return Buffer.concat([meta, Buffer.alloc(pad), ...blobs]);
}
