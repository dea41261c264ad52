/**
 * Training a SentencePiece-style BPE vocabulary from text (the main job's stand-in for LLaMA-2's
 * tokenizer, trained on the English part of the embedded default): words with the "▁" whitespace
 * prefix, characters covering `characterCoverage` of the text as base symbols (the rest falls
 * back to bytes), then the most frequent adjacent pair merged, again and again. The vocabulary
 * is laid out as LLaMA-2's: <unk>, <s>, </s>, the 256 byte pieces, merged pieces by merge order
 * (score -i), then single characters; it loads and writes as a .model like any other.
 */
import { bytePiece, PieceType, type Vocab } from './vocab.js';

export interface BpeTrainOptions {
  vocabSize: number;
  /** share of characters (by count) that get their own piece (SentencePiece's character_coverage) */
  characterCoverage?: number;
  /** most distinct words counted */
  maxWords?: number;
}

export function trainBpe(texts: Iterable<string>, o: BpeTrainOptions): Vocab {
  const wordCount = new Map<string, number>();
  for (const t of texts) {
    for (const w of t.split(/\s+/)) {
      if (!w) continue;
      const k = '\u2581' + w;
      wordCount.set(k, (wordCount.get(k) ?? 0) + 1);
    }
  }
  if (wordCount.size === 0) throw new Error('trainBpe: no text');
  const words = [...wordCount].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, o.maxWords ?? 100000);
  // base characters by coverage
  const charCount = new Map<string, number>();
  let totalChars = 0;
  for (const [w, c] of words) for (const ch of w) { charCount.set(ch, (charCount.get(ch) ?? 0) + c); totalChars += c; }
  const chars = [...charCount].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const coverage = o.characterCoverage ?? 0.9995;
  const kept: string[] = [];
  let covered = 0;
  for (const [ch, c] of chars) {
    if (covered / totalChars >= coverage && kept.length > 0) break;
    kept.push(ch);
    covered += c;
  }
  const special = 3 + 256;
  const budget = o.vocabSize - special - kept.length;
  if (budget < 0) throw new Error(`trainBpe: vocabSize ${o.vocabSize} is below the ${special + kept.length} pieces the specials, bytes and characters need`);
  // symbols as numbers (kept characters and merged pieces; other characters never merge);
  // pair counts are kept up to date for the words a merge touches
  const symOf = new Map<string, number>(), strOf: string[] = [];
  const sym = (x: string) => {
    let i = symOf.get(x);
    if (i === undefined) { i = strOf.length; symOf.set(x, i); strOf.push(x); }
    return i;
  };
  const mergeable = new Set<number>(kept.map(sym));
  const seqs = words.map(([w, c]) => ({ s: [...w].map(sym), c }));
  const pairs = new Map<number, number>(); // a * 2^21 + b -> count
  const K = 2 ** 21;
  const addPairs = (s: number[], c: number) => {
    for (let i = 0; i + 1 < s.length; i++) if (mergeable.has(s[i]!) && mergeable.has(s[i + 1]!)) { const k = s[i]! * K + s[i + 1]!; pairs.set(k, (pairs.get(k) ?? 0) + c); }
  };
  for (const q of seqs) addPairs(q.s, q.c);
  const merges: string[] = [];
  const pieceSet = new Set<string>(kept);
  for (let m = 0; m < budget; m++) {
    let best = -1, bc = 1;
    for (const [k, c] of pairs) if (c > bc || (c === bc && best >= 0 && k < best)) { best = k; bc = c; }
    if (best < 0) break; // nothing occurs twice any more
    const a = Math.floor(best / K), b = best % K;
    const mergedStr = strOf[a]! + strOf[b]!;
    const merged = sym(mergedStr);
    mergeable.add(merged);
    if (!pieceSet.has(mergedStr)) { merges.push(mergedStr); pieceSet.add(mergedStr); }
    for (const q of seqs) {
      const s = q.s;
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
      if (!has) continue;
      addPairs(s, -q.c);
      let j = 0;
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { s[j++] = merged; i++; }
        else s[j++] = s[i]!;
      }
      s.length = j;
      addPairs(s, q.c);
    }
    for (const [k, c] of pairs) if (c <= 0) pairs.delete(k);
  }
  const pieces = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, i) => bytePiece(i)), ...merges, ...kept.filter((c) => !merges.includes(c))];
  const types = Uint8Array.from(pieces, (_, i) => (i === 0 ? PieceType.Unknown : i < 3 ? PieceType.Control : i < special ? PieceType.Byte : PieceType.Normal));
  const scores = Float32Array.from(pieces, (_, i) => (i < special ? 0 : -(i - special)));
  return {
    pieces, scores, types, modelType: 'bpe', byteFallback: true, addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true,
    unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ',
  };
}
