/** GGUF (v2/v3) metadata reading and vocabulary-only writing: the tokenizer.ggml.* keys of a LLaMA vocabulary. */
import { PieceType, TokenizerFormatError, checkVocab, type Vocab } from '../vocab.js';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;

export interface GgufFile {
  version: number;
  tensorCount: bigint;
  kv: Map<string, GgufValue>;
  /** byte offset just after the key-value section (where the tensor infos start) */
  end: number;
}

export function readGgufMetadata(buf: Uint8Array, where = 'file.gguf'): GgufFile {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new TokenizerFormatError(`${where}: truncated GGUF (needed ${n} bytes at offset ${p}, file has ${buf.length})`);
  };
  const u32 = () => { need(4); const v = dv.getUint32(p, true); p += 4; return v; };
  const u64 = () => { need(8); const v = dv.getBigUint64(p, true); p += 8; return v; };
  const str = () => {
    const n = Number(u64());
    need(n);
    const s = new TextDecoder('utf-8', { ignoreBOM: true }).decode(buf.subarray(p, p + n));
    p += n;
    return s;
  };
  need(4);
  if (buf[0] !== 0x47 || buf[1] !== 0x47 || buf[2] !== 0x55 || buf[3] !== 0x46) throw new TokenizerFormatError(`${where}: not a GGUF file (magic is not "GGUF")`);
  p = 4;
  const version = u32();
  if (version < 2 || version > 3) throw new TokenizerFormatError(`${where}: GGUF version ${version} is not supported (expected 2 or 3)`);
  const tensorCount = u64();
  const kvCount = Number(u64());
  const value = (type: number): GgufValue => {
    switch (type) {
      case T.U8: need(1); return buf[p++]!;
      case T.I8: need(1); return dv.getInt8(p++);
      case T.U16: { need(2); const v = dv.getUint16(p, true); p += 2; return v; }
      case T.I16: { need(2); const v = dv.getInt16(p, true); p += 2; return v; }
      case T.U32: return u32();
      case T.I32: { need(4); const v = dv.getInt32(p, true); p += 4; return v; }
      case T.F32: { need(4); const v = dv.getFloat32(p, true); p += 4; return v; }
      case T.BOOL: need(1); return buf[p++] !== 0;
      case T.STRING: return str();
      case T.U64: return u64();
      case T.I64: { need(8); const v = dv.getBigInt64(p, true); p += 8; return v; }
      case T.F64: { need(8); const v = dv.getFloat64(p, true); p += 8; return v; }
      case T.ARRAY: {
        const et = u32();
        const n = Number(u64());
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = value(et);
        return out;
      }
      default:
        throw new TokenizerFormatError(`${where}: unknown GGUF value type ${type} at offset ${p}`);
    }
  };
  const kv = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const k = str();
    kv.set(k, value(u32()));
  }
  return { version, tensorCount, kv, end: p };
}

export function vocabFromGguf(g: GgufFile, where = 'file.gguf'): Vocab {
  const tokens = g.kv.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens)) throw new TokenizerFormatError(`${where}: GGUF has no vocabulary (tokenizer.ggml.tokens is missing)`);
  const model = g.kv.get('tokenizer.ggml.model');
  if (model !== undefined && model !== 'llama') throw new TokenizerFormatError(`${where}: tokenizer.ggml.model is "${String(model)}"; only "llama" (SentencePiece BPE) is supported`);
  const scores = (g.kv.get('tokenizer.ggml.scores') as number[] | undefined) ?? tokens.map(() => 0);
  const types = (g.kv.get('tokenizer.ggml.token_type') as number[] | undefined) ?? tokens.map(() => PieceType.Normal);
  const num = (k: string, d: number) => (g.kv.has(k) ? Number(g.kv.get(k)) : d);
  const pieces = tokens.map(String);
  const v: Vocab = {
    pieces,
    scores: Float32Array.from(scores as number[]),
    types: Uint8Array.from(types as number[]),
    modelType: 'bpe',
    byteFallback: pieces.includes('<0x00>') && pieces.includes('<0xFF>'),
    addDummyPrefix: g.kv.has('tokenizer.ggml.add_space_prefix') ? Boolean(g.kv.get('tokenizer.ggml.add_space_prefix')) : true,
    removeExtraWhitespaces: g.kv.has('tokenizer.ggml.remove_extra_whitespaces') ? Boolean(g.kv.get('tokenizer.ggml.remove_extra_whitespaces')) : false,
    escapeWhitespaces: true,
    unkId: num('tokenizer.ggml.unknown_token_id', 0),
    bosId: num('tokenizer.ggml.bos_token_id', 1),
    eosId: num('tokenizer.ggml.eos_token_id', 2),
    padId: num('tokenizer.ggml.padding_token_id', -1),
    unkSurface: ' \u2047 ',
  };
  checkVocab(v, where);
  return v;
}

class Writer {
  private chunks: Buffer[] = [];
  u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.chunks.push(b); }
  i32(v: number) { const b = Buffer.alloc(4); b.writeInt32LE(v); this.chunks.push(b); }
  u64(v: number | bigint) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.chunks.push(b); }
  f32(v: number) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.chunks.push(b); }
  str(s: string) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.chunks.push(b); }
  bool(v: boolean) { this.chunks.push(Buffer.from([v ? 1 : 0])); }
  bytes(): Buffer { return Buffer.concat(this.chunks); }
}

/** a typed GGUF key-value entry for the writers */
export type GgufEntry =
  | { key: string; type: 'string'; value: string }
  | { key: string; type: 'u32' | 'i32' | 'f32'; value: number }
  | { key: string; type: 'bool'; value: boolean }
  | { key: string; type: 'string[]'; value: string[] }
  | { key: string; type: 'f32[]' | 'i32[]'; value: ArrayLike<number> };

/** the tokenizer.ggml.* keys llama.cpp's converter writes for a LLaMA (SentencePiece BPE) vocabulary */
export function ggufVocabEntries(v: Vocab): GgufEntry[] {
  const e: GgufEntry[] = [
    { key: 'tokenizer.ggml.model', type: 'string', value: 'llama' },
    { key: 'tokenizer.ggml.pre', type: 'string', value: 'default' },
    { key: 'tokenizer.ggml.tokens', type: 'string[]', value: v.pieces },
    { key: 'tokenizer.ggml.scores', type: 'f32[]', value: v.scores },
    { key: 'tokenizer.ggml.token_type', type: 'i32[]', value: v.types },
    { key: 'tokenizer.ggml.bos_token_id', type: 'u32', value: v.bosId },
    { key: 'tokenizer.ggml.eos_token_id', type: 'u32', value: v.eosId },
    { key: 'tokenizer.ggml.unknown_token_id', type: 'u32', value: v.unkId },
    { key: 'tokenizer.ggml.add_space_prefix', type: 'bool', value: v.addDummyPrefix },
    { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: true },
    { key: 'tokenizer.ggml.add_eos_token', type: 'bool', value: false },
  ];
  if (v.padId >= 0) e.push({ key: 'tokenizer.ggml.padding_token_id', type: 'u32', value: v.padId });
  return e;
}

/** serialises GGUF key-value entries (key, type tag, value) */
export function writeGgufEntries(entries: GgufEntry[]): Buffer {
  const w = new Writer();
  for (const e of entries) {
    w.str(e.key);
    switch (e.type) {
      case 'string': w.u32(T.STRING); w.str(e.value); break;
      case 'u32': w.u32(T.U32); w.u32(e.value); break;
      case 'i32': w.u32(T.I32); w.i32(e.value); break;
      case 'f32': w.u32(T.F32); w.f32(e.value); break;
      case 'bool': w.u32(T.BOOL); w.bool(e.value); break;
      case 'string[]': w.u32(T.ARRAY); w.u32(T.STRING); w.u64(e.value.length); for (const s of e.value) w.str(s); break;
      case 'f32[]': w.u32(T.ARRAY); w.u32(T.F32); w.u64(e.value.length); for (let i = 0; i < e.value.length; i++) w.f32(e.value[i]!); break;
      case 'i32[]': w.u32(T.ARRAY); w.u32(T.I32); w.u64(e.value.length); for (let i = 0; i < e.value.length; i++) w.i32(e.value[i]!); break;
    }
  }
  return w.bytes();
}

/** A vocabulary-only GGUF v3 file (no tensors), with the keys llama.cpp's converter writes for a LLaMA vocabulary. */
export function writeGgufVocab(v: Vocab, name = 'ziya-ts'): Uint8Array {
  const entries: GgufEntry[] = [
    { key: 'general.architecture', type: 'string', value: 'llama' },
    { key: 'general.name', type: 'string', value: name },
    ...ggufVocabEntries(v),
  ];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0x46554747, 0);
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(BigInt(entries.length), 16);
  return Buffer.concat([head, writeGgufEntries(entries)]);
}
