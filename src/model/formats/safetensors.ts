/**
 * safetensors (8-byte little-endian header length, JSON header, raw little-endian data) and
 * Hugging Face LlamaForCausalLM checkpoints: config.json plus one model.safetensors or shards
 * listed in model.safetensors.index.json. HF stores q_proj/k_proj with the rotate-half RoPE
 * permutation; they are permuted back to Meta's adjacent-pair layout on load and forward on save.
 */
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { writeFileAtomic } from '../../io/writers.js';
import { CheckpointError, parameterShapes, type LlamaConfig } from '../config.js';
import { decodeFloats, encodeFloats } from './dtype.js';
import type { LoadedCheckpoint } from './llama2c.js';

export type FloatDtype = 'F32' | 'F16' | 'BF16';
export interface StTensor {
  dtype: FloatDtype;
  shape: number[];
  data: Float32Array;
}

const SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

export function readSafetensors(buf: Uint8Array, where = 'model.safetensors'): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new CheckpointError(`${where}: truncated safetensors file (${buf.length} bytes)`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > 100_000_000) throw new CheckpointError(`${where}: safetensors header length ${n} is over the 100 MB limit (not a safetensors file?)`);
  if (8 + n > buf.length) throw new CheckpointError(`${where}: truncated safetensors header (needs ${n} bytes, file has ${buf.length - 8})`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(`${where}: safetensors header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, StTensor>();
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = info as Record<string, string>; continue; }
    const { dtype, shape, data_offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in SIZE)) throw new CheckpointError(`${where}: tensor ${name} has unknown dtype ${dtype}`);
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new CheckpointError(`${where}: tensor ${name} has dtype ${dtype}; only F32, F16 and BF16 are supported`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [b0, b1] = data_offsets;
    if (b1 - b0 !== count * SIZE[dtype]!) throw new CheckpointError(`${where}: tensor ${name}: shape [${shape.join(', ')}] of ${dtype} needs ${count * SIZE[dtype]!} bytes, its offsets span ${b1 - b0}`);
    if (base + b1 > buf.length) throw new CheckpointError(`${where}: truncated: tensor ${name} ends at byte ${base + b1}, the file has ${buf.length}`);
    tensors.set(name, { dtype, shape, data: decodeFloats(buf.subarray(base + b0, base + b1), dtype, count) });
    spans.push([b0, b1, name]);
  }
  // as safetensors' own validation: the tensors tile the byte buffer exactly, with no holes or overlaps
  spans.sort((x, y) => x[0] - y[0]);
  let end = 0;
  for (const [b0, b1, name] of spans) {
    if (b0 !== end) throw new CheckpointError(`${where}: tensor ${name} starts at byte ${b0} of the data, expected ${end} (hole or overlap)`);
    end = b1;
  }
  if (base + end !== buf.length) throw new CheckpointError(`${where}: ${buf.length - base - end} bytes after the last tensor`);
  return { tensors, metadata };
}

export function writeSafetensors(tensors: [string, { shape: number[]; data: Float32Array }][], dtype: FloatDtype = 'F32', metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let off = 0;
  // one dtype per file, so the reference writer's order is by name
  const sorted = [...tensors].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, t] of sorted) {
    const b = encodeFloats(t.data, dtype);
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + b.length] };
    blobs.push(b);
    off += b.length;
  }
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8; // data aligned to 8 bytes, padded with spaces as the reference writer does
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...blobs]);
}

// ---------------------------------------------------------------- Hugging Face LLaMA
const hfName = (meta: string): string => {
  if (meta === 'tok_embeddings.weight') return 'model.embed_tokens.weight';
  if (meta === 'norm.weight') return 'model.norm.weight';
  if (meta === 'output.weight') return 'lm_head.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(meta)!;
  const map: Record<string, string> = {
    'attention_norm.weight': 'input_layernorm.weight',
    'attention.wq.weight': 'self_attn.q_proj.weight',
    'attention.wk.weight': 'self_attn.k_proj.weight',
    'attention.wv.weight': 'self_attn.v_proj.weight',
    'attention.wo.weight': 'self_attn.o_proj.weight',
    'ffn_norm.weight': 'post_attention_layernorm.weight',
    'feed_forward.w1.weight': 'mlp.gate_proj.weight',
    'feed_forward.w2.weight': 'mlp.down_proj.weight',
    'feed_forward.w3.weight': 'mlp.up_proj.weight',
  };
  return `model.layers.${m[1]}.${map[m[2]!]}`;
};

/**
 * HF's RoPE permutation of a [heads*hd, dim] projection: row (h, j) of Meta's layout, with
 * j = 2i + r (r the element of the pair), goes to row (h, r*hd/2 + i). toHf=false inverts it.
 */
export function permuteRope(w: Float32Array, heads: number, hd: number, dim: number, toHf: boolean): Float32Array {
  const out = new Float32Array(w.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let r = 0; r < 2; r++) {
        const meta = (h * hd + 2 * i + r) * dim, hf = (h * hd + r * half + i) * dim;
        if (toHf) out.set(w.subarray(meta, meta + dim), hf);
        else out.set(w.subarray(hf, hf + dim), meta);
      }
  return out;
}

export function configFromHf(j: Record<string, unknown>, where: string): LlamaConfig {
  const need = (k: string) => {
    const v = j[k];
    if (typeof v !== 'number') throw new CheckpointError(`${where}: config.json has no numeric ${k}`);
    return v;
  };
  const arch = (j.architectures as string[] | undefined)?.[0];
  if (arch && arch !== 'LlamaForCausalLM') throw new CheckpointError(`${where}: architecture ${arch} is not supported (LlamaForCausalLM only)`);
  const nHeads = need('num_attention_heads');
  return {
    dim: need('hidden_size'),
    nLayers: need('num_hidden_layers'),
    nHeads,
    nKvHeads: typeof j.num_key_value_heads === 'number' ? j.num_key_value_heads : nHeads,
    hiddenDim: need('intermediate_size'),
    vocabSize: need('vocab_size'),
    maxSeqLen: typeof j.max_position_embeddings === 'number' ? j.max_position_embeddings : 2048,
    ropeTheta: typeof j.rope_theta === 'number' ? j.rope_theta : 10000,
    normEps: typeof j.rms_norm_eps === 'number' ? j.rms_norm_eps : 1e-6,
    tieEmbeddings: j.tie_word_embeddings === true,
  };
}

export function configToHf(c: LlamaConfig, dtype: FloatDtype): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxSeqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    initializer_range: 0.02,
    pretraining_tp: 1,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16',
  };
}

/** loads a HF LLaMA checkpoint folder (config.json + model.safetensors or a sharded index) */
export function readHfCheckpoint(dir: string): LoadedCheckpoint {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new CheckpointError(`${dir}: no config.json`);
  const config = configFromHf(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  const indexPath = join(dir, 'model.safetensors.index.json');
  const files = new Map<string, string[]>();
  if (existsSync(indexPath)) {
    const idx = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: Record<string, string> };
    if (!idx.weight_map) throw new CheckpointError(`${indexPath}: no weight_map`);
    for (const [t, f] of Object.entries(idx.weight_map)) files.set(f, [...(files.get(f) ?? []), t]);
  } else if (existsSync(join(dir, 'model.safetensors'))) files.set('model.safetensors', []);
  else throw new CheckpointError(`${dir}: neither model.safetensors nor model.safetensors.index.json`);
  const hf = new Map<string, StTensor>();
  for (const [f, names] of files) {
    const p = join(dir, f);
    if (!existsSync(p)) throw new CheckpointError(`${dir}: shard ${f} listed in the index is missing`);
    const { tensors } = readSafetensors(readFileSync(p), p);
    for (const n of names) if (!tensors.has(n)) throw new CheckpointError(`${p}: tensor ${n} listed in the index is not in the shard`);
    for (const [n, t] of tensors) hf.set(n, t);
  }
  return { config, weights: fromHfTensors(config, hf, dir) };
}

function fromHfTensors(c: LlamaConfig, hf: Map<string, StTensor>, where: string): Map<string, Float32Array> {
  const hd = c.dim / c.nHeads;
  const out = new Map<string, Float32Array>();
  for (const [meta, shape] of parameterShapes(c)) {
    const name = hfName(meta);
    const t = hf.get(name);
    if (!t) throw new CheckpointError(`${where}: tensor ${name} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) throw new CheckpointError(`${where}: tensor ${name} has shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}]`);
    let data = t.data;
    if (meta.endsWith('attention.wq.weight')) data = permuteRope(data, c.nHeads, hd, c.dim, false);
    if (meta.endsWith('attention.wk.weight')) data = permuteRope(data, c.nKvHeads, hd, c.dim, false);
    out.set(meta, data);
  }
  return out;
}

/** writes config.json and model.safetensors (or shards of at most maxShardBytes with an index) */
export function writeHfCheckpoint(dir: string, config: LlamaConfig, weights: Map<string, Float32Array>, opts: { dtype?: FloatDtype; maxShardBytes?: number } = {}): string[] {
  const dtype = opts.dtype ?? 'F32';
  const hd = config.dim / config.nHeads;
  mkdirSync(dir, { recursive: true });
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
  for (const [meta, shape] of parameterShapes(config)) {
    let data = weights.get(meta);
    if (!data) throw new CheckpointError(`writeHfCheckpoint: tensor ${meta} is missing`);
    if (meta.endsWith('attention.wq.weight')) data = permuteRope(data, config.nHeads, hd, config.dim, true);
    if (meta.endsWith('attention.wk.weight')) data = permuteRope(data, config.nKvHeads, hd, config.dim, true);
    tensors.push([hfName(meta), { shape, data }]);
  }
  const written = [join(dir, 'config.json')];
  writeFileAtomic(written[0]!, JSON.stringify(configToHf(config, dtype), null, 2) + '\n');
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const max = opts.maxShardBytes ?? Infinity;
  const shards: (typeof tensors)[] = [[]];
  let cur = 0;
  for (const t of tensors) {
    const b = t[1].data.length * bytesPer;
    if (cur > 0 && cur + b > max) { shards.push([]); cur = 0; }
    shards[shards.length - 1]!.push(t);
    cur += b;
  }
  const meta = { format: 'pt' };
  if (shards.length === 1) {
    const p = join(dir, 'model.safetensors');
    writeFileAtomic(p, writeSafetensors(shards[0]!, dtype, meta));
    written.push(p);
  } else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((s, i) => {
      const f = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      for (const [n, t] of s) { weightMap[n] = f; total += t.data.length * bytesPer; }
      const p = join(dir, f);
      writeFileAtomic(p, writeSafetensors(s, dtype, meta));
      written.push(p);
    });
    const ip = join(dir, 'model.safetensors.index.json');
    writeFileAtomic(ip, JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
    written.push(ip);
  }
  return written;
}

export function isHfDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'config.json'));
}
export const hfDirOf = (file: string) => dirname(file);
