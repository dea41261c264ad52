/** SentencePiece `.model` files (ModelProto), read and written. */
import { ProtoError, ProtoWriter, fieldFloat, fieldInt, fieldString, readFields, type Field } from '../proto.js';
import { PieceType, TokenizerFormatError, checkVocab, type Vocab } from '../vocab.js';

const MODEL_TYPES: Record<number, string> = { 1: 'UNIGRAM', 2: 'BPE', 3: 'WORD', 4: 'CHAR' };

export function readSpmModel(buf: Uint8Array, where = 'tokenizer.model'): Vocab {
  let fields: Field[];
  try {
    fields = readFields(buf, where);
  } catch (e) {
    throw new TokenizerFormatError(`${where}: not a SentencePiece model (${(e as ProtoError).message})`);
  }
  const pieces: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  let trainerSpec: Uint8Array | undefined;
  let normalizerSpec: Uint8Array | undefined;
  let denormalizerSpec: Uint8Array | undefined;
  let selfTestData: Uint8Array | undefined;
  for (const f of fields) {
    if (f.wire !== 2) throw new TokenizerFormatError(`${where}: field ${f.no} has wire type ${f.wire}; not a SentencePiece ModelProto`);
    if (f.no === 1) {
      let piece: string | undefined;
      let score = 0;
      let type = PieceType.Normal;
      for (const g of readFields(f.bytes!, `${where} piece ${pieces.length}`)) {
        if (g.no === 1) piece = fieldString(g);
        else if (g.no === 2 && g.wire === 5) score = fieldFloat(g);
        else if (g.no === 3) type = fieldInt(g);
      }
      if (piece === undefined) throw new TokenizerFormatError(`${where}: piece ${pieces.length} has no text`);
      pieces.push(piece);
      scores.push(score);
      types.push(type);
    } else if (f.no === 2) trainerSpec = f.bytes;
    else if (f.no === 3) normalizerSpec = f.bytes;
    else if (f.no === 4) selfTestData = f.bytes;
    else if (f.no === 5) denormalizerSpec = f.bytes;
  }
  if (!pieces.length) throw new TokenizerFormatError(`${where}: no pieces; not a SentencePiece model (or truncated)`);
  const ts = new Map<number, Field>();
  for (const f of readFields(trainerSpec ?? new Uint8Array(), `${where} trainer_spec`)) ts.set(f.no, f);
  const ns = new Map<number, Field>();
  for (const f of readFields(normalizerSpec ?? new Uint8Array(), `${where} normalizer_spec`)) ns.set(f.no, f);
  const modelType = ts.has(3) ? fieldInt(ts.get(3)!) : 1;
  if (modelType !== 2) throw new TokenizerFormatError(`${where}: model type ${MODEL_TYPES[modelType] ?? modelType} is not supported (expected BPE, as LLaMA uses)`);
  const charsmap = ns.get(2)?.bytes;
  const name = ns.has(1) ? fieldString(ns.get(1)!) : '';
  if (charsmap && charsmap.length) throw new TokenizerFormatError(`${where}: normalizer "${name}" uses a precompiled character map, which is not supported (LLaMA's is "identity")`);
  const bool = (m: Map<number, Field>, no: number, dflt: boolean) => (m.has(no) ? fieldInt(m.get(no)!) !== 0 : dflt);
  const int = (m: Map<number, Field>, no: number, dflt: number) => (m.has(no) ? fieldInt(m.get(no)!) : dflt);
  const v: Vocab = {
    pieces,
    scores: Float32Array.from(scores),
    types: Uint8Array.from(types),
    modelType: 'bpe',
    byteFallback: bool(ts, 35, false),
    addDummyPrefix: bool(ns, 3, true),
    removeExtraWhitespaces: bool(ns, 4, true),
    escapeWhitespaces: bool(ns, 5, true),
    unkId: int(ts, 40, 0),
    bosId: int(ts, 41, 1),
    eosId: int(ts, 42, 2),
    padId: int(ts, 43, -1),
    unkSurface: ts.has(44) ? fieldString(ts.get(44)!) : ' \u2047 ',
    spm: { trainerSpec, normalizerSpec, denormalizerSpec, selfTestData },
  };
  checkVocab(v, where);
  return v;
}

/** Writes a ModelProto: the pieces, then the original specs with vocab_size updated. */
export function writeSpmModel(v: Vocab): Uint8Array {
  const w = new ProtoWriter();
  v.pieces.forEach((p, i) => {
    const pw = new ProtoWriter();
    pw.string(1, p);
    pw.float(2, v.scores[i]!);
    if (v.types[i] !== PieceType.Normal) pw.uint(3, v.types[i]!);
    w.bytes(1, pw.finish());
  });
  // trainer spec: keep every field, set model_type BPE, vocab_size and the special ids
  const tw = new ProtoWriter();
  const seen = new Set<number>();
  const set: Record<number, number> = { 3: 2, 4: v.pieces.length, 35: v.byteFallback ? 1 : 0, 40: v.unkId, 41: v.bosId, 42: v.eosId, 43: v.padId };
  for (const f of readFields(v.spm?.trainerSpec ?? new Uint8Array())) {
    if (f.no in set) {
      if (!seen.has(f.no)) tw.uint(f.no, BigInt(set[f.no]!));
      seen.add(f.no);
    } else tw.raw(f);
  }
  for (const [no, val] of Object.entries(set)) if (!seen.has(Number(no))) tw.uint(Number(no), BigInt(val));
  w.bytes(2, tw.finish());
  if (v.spm?.normalizerSpec) w.bytes(3, v.spm.normalizerSpec);
  else {
    const nw = new ProtoWriter();
    nw.string(1, 'identity');
    nw.uint(3, v.addDummyPrefix ? 1 : 0);
    nw.uint(4, v.removeExtraWhitespaces ? 1 : 0);
    nw.uint(5, v.escapeWhitespaces ? 1 : 0);
    w.bytes(3, nw.finish());
  }
  if (v.spm?.selfTestData) w.bytes(4, v.spm.selfTestData);
  if (v.spm?.denormalizerSpec) w.bytes(5, v.spm.denormalizerSpec);
  return w.finish();
}
