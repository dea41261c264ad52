/**
 * Ziya2's vocabulary extension: add the most frequent Chinese characters of a
 * corpus that the base vocabulary can only spell with byte tokens, as new
 * single-character pieces. Records, for each new id, the old ids that spelled
 * it (the trainer starts the new embedding row as their mean), and the
 * vocabulary size padded to a multiple of 128 for the embedding matrix.
 */
import { SentencePieceBPE } from './bpe.js';
import { PieceType, type Vocab } from './vocab.js';

export function isHanCodePoint(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2ebef);
}

/** Counts Han characters that the vocabulary does not hold as pieces. */
export class HanCounter {
  counts = new Map<number, number>();
  private known: Set<string>;
  constructor(v: Vocab) {
    this.known = new Set(v.pieces);
  }
  add(text: string): void {
    for (const ch of text) {
      const c = ch.codePointAt(0)!;
      if (!isHanCodePoint(c) || this.known.has(ch)) continue;
      this.counts.set(c, (this.counts.get(c) ?? 0) + 1);
    }
  }
  /** The n most frequent, ties by code point (deterministic). */
  top(n: number, minCount = 1): { char: string; count: number }[] {
    return [...this.counts].filter(([, k]) => k >= minCount).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, n).map(([c, k]) => ({ char: String.fromCodePoint(c), count: k }));
  }
}

export interface Extension {
  vocab: Vocab;
  /** new id -> the base ids that spelled the character (byte tokens) */
  newTokens: { id: number; piece: string; count: number; from: number[] }[];
  baseSize: number;
  size: number;
  paddedSize: number;
}

export function extendVocab(base: Vocab, chars: { char: string; count: number }[], padTo = 128): Extension {
  const tok = new SentencePieceBPE(base);
  let minScore = 0;
  base.types.forEach((t, i) => {
    if (t === PieceType.Normal && base.scores[i]! < minScore && base.scores[i]! > -1e8) minScore = base.scores[i]!;
  });
  const pieces = [...base.pieces];
  const scores = [...base.scores];
  const types = [...base.types];
  const newTokens: Extension['newTokens'] = [];
  const have = new Set(base.pieces);
  for (const { char, count } of chars) {
    if (have.has(char)) continue;
    have.add(char);
    const id = pieces.length;
    // the base spelling of the character on its own, without the dummy-prefix "▁"
    const from = tok.encodeSegment(char);
    pieces.push(char);
    scores.push(minScore - 1 - newTokens.length);
    types.push(PieceType.Normal);
    newTokens.push({ id, piece: char, count, from: [...from] });
  }
  const vocab: Vocab = { ...base, pieces, scores: Float32Array.from(scores), types: Uint8Array.from(types), mergeRanks: undefined };
  const size = pieces.length;
  return { vocab, newTokens, baseSize: base.pieces.length, size, paddedSize: Math.ceil(size / padTo) * padTo };
}

/** Tokens per 1,000 characters of the given texts. */
export function tokensPer1000Chars(tok: SentencePieceBPE, texts: Iterable<string>): { chars: number; tokens: number; per1000: number } {
  let chars = 0;
  let tokens = 0;
  for (const t of texts) {
    chars += [...t].length;
    tokens += tok.encode(t).length;
  }
  return { chars, tokens, per1000: chars ? (1000 * tokens) / chars : 0 };
}
