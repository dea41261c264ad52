/**
 * The tokenizer model every format reads into and writes from: the pieces
 * with their scores and types, and the few settings that change encoding.
 */
export const enum PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface Vocab {
  pieces: string[];
  scores: Float32Array;
  types: Uint8Array;
  /** 'bpe' (score-ordered merges) is what LLaMA uses. */
  modelType: 'bpe';
  byteFallback: boolean;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkSurface: string;
  /**
   * Merge priorities by pair, when the source defines them per pair (Hugging Face merges):
   * "left right" → rank (lower first). Absent for SentencePiece models, whose priority is the merged piece's score.
   */
  mergeRanks?: Map<string, number>;
  /** Opaque extras a format carries and writes back (the SentencePiece trainer/normalizer specs). */
  spm?: { trainerSpec?: Uint8Array; normalizerSpec?: Uint8Array; denormalizerSpec?: Uint8Array; selfTestData?: Uint8Array };
}

export class TokenizerFormatError extends Error {}

export const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

export function bytePiece(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Default piece types when a format does not store them (llama2.c tokenizer.bin, plain vocab lists). */
export function inferType(piece: string, id: number, unkId: number, specials: Set<string>): PieceType {
  if (id === unkId) return PieceType.Unknown;
  if (specials.has(piece)) return PieceType.Control;
  if (BYTE_PIECE.test(piece)) return PieceType.Byte;
  return PieceType.Normal;
}

export function checkVocab(v: Vocab, where: string): void {
  const seen = new Map<string, number>();
  v.pieces.forEach((p, i) => {
    if (!p.length) throw new TokenizerFormatError(`${where}: piece ${i} is empty`);
    const prev = seen.get(p);
    if (prev !== undefined) throw new TokenizerFormatError(`${where}: piece "${p}" appears twice (ids ${prev} and ${i})`);
    seen.set(p, i);
  });
  const unk = [...v.types].filter((t) => t === PieceType.Unknown).length;
  if (unk !== 1) throw new TokenizerFormatError(`${where}: expected exactly one UNKNOWN piece, found ${unk}`);
  if (v.byteFallback) {
    for (let b = 0; b < 256; b++) {
      const id = seen.get(bytePiece(b));
      if (id === undefined || v.types[id] !== PieceType.Byte) throw new TokenizerFormatError(`${where}: byte_fallback is set but piece ${bytePiece(b)} is missing or not a BYTE piece`);
    }
  }
}
