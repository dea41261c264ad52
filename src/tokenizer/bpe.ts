/**
 * SentencePiece BPE, bit-exact with SentencePiece for LLaMA-2: identity
 * normaliser, dummy prefix, "▁" for spaces, merges chosen by the score of the
 * merged piece (ties: leftmost), UNUSED pieces re-split, byte fallback
 * <0xNN> for characters outside the vocabulary. Text is cut into segments
 * between any two characters that never stand next to each other inside a
 * mergeable piece (for LLaMA, before every "▁" that follows a non-space,
 * and between most Chinese characters): no merge can span such a
 * boundary, so the pieces on either side are exactly what BPE over the whole
 * text gives. Segments are cached (single characters in a table), which makes
 * repeated words and most Chinese characters free.
 */
import { PieceType, bytePiece, type Vocab } from './vocab.js';

const SPACE = '\u2581';
const MAX_SYMBOL = 1 << 21;

export interface EncodeOptions {
  bos?: boolean;
  eos?: boolean;
}

export class SentencePieceBPE {
  readonly vocab: Vocab;
  private pieceId = new Map<string, number>();
  /** symbol id of each single character (code point): its piece id, or an id above the vocabulary */
  private charSym = new Map<number, number>();
  private charSymBmp: Int32Array;
  /** (left symbol, right symbol) -> merged piece id and priority */
  private pairMerged = new Map<number, number>();
  private pairPriority = new Map<number, number>();
  private byteIds = new Int32Array(256).fill(-1);
  private userDefined: string[] = [];
  private splitSegments: boolean;
  /** characters that are followed by another character inside some mergeable piece */
  private joinsNext = new Uint8Array(65536);
  /**
   * (character, next character) pairs that occur inside mergeable pieces, as a bit set over a
   * hash of the pair: a collision only keeps two characters in one segment, which is always safe
   */
  private joinBits = new Int32Array(1 << 17);
  private singleCache: (Int32Array | undefined)[] = new Array(65536);
  private pairCache = new Map<number, Int32Array>();
  private cache = new Map<string, Int32Array>();
  private cacheLimit = 200_000;
  private orphanChar: string[] = [];

  constructor(v: Vocab) {
    this.vocab = v;
    v.pieces.forEach((p, i) => this.pieceId.set(p, i));
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.pieceId.get(bytePiece(b)) ?? -1;
    const mergeable = (id: number) => {
      const t = v.types[id];
      return t === PieceType.Normal || t === PieceType.UserDefined || t === PieceType.Unused;
    };
    v.pieces.forEach((p, i) => {
      if (v.types[i] === PieceType.UserDefined) this.userDefined.push(p);
    });
    this.userDefined.sort((a, b) => b.length - a.length);
    // single-character symbols
    this.charSymBmp = new Int32Array(65536).fill(-1);
    const symOfChar = (ch: string): number => {
      const cp = ch.codePointAt(0)!;
      let s = cp < 65536 ? this.charSymBmp[cp]! : this.charSym.get(cp) ?? -1;
      if (s >= 0) return s;
      const id = this.pieceId.get(ch);
      if (id !== undefined) s = id;
      else {
        s = v.pieces.length + this.orphanChar.length;
        this.orphanChar.push(ch);
      }
      if (cp < 65536) this.charSymBmp[cp] = s;
      else this.charSym.set(cp, s);
      return s;
    };
    const symOf = (s: string): number => {
      const cps = [...s];
      if (cps.length === 1) return symOfChar(s);
      const id = this.pieceId.get(s);
      return id !== undefined && mergeable(id) ? id : -1;
    };
    // every split of every mergeable piece into two symbols is a candidate merge
    v.pieces.forEach((p, id) => {
      if (!mergeable(id)) return;
      const cps = [...p];
      if (cps.length < 2) return;
      for (let k = 0; k + 1 < cps.length; k++) {
        const a = cps[k]!.codePointAt(0)!;
        const b = cps[k + 1]!.codePointAt(0)!;
        const h = SentencePieceBPE.pairHash(a, b);
        this.joinBits[h >>> 5]! |= 1 << (h & 31);
        if (a < 65536) this.joinsNext[a] = 1;
      }
      let off = 0;
      for (let k = 1; k < cps.length; k++) {
        off += cps[k - 1]!.length;
        const l = symOf(p.slice(0, off));
        const r = symOf(p.slice(off));
        if (l < 0 || r < 0) continue;
        let prio: number;
        if (v.mergeRanks) {
          const rank = v.mergeRanks.get(`${p.slice(0, off)} ${p.slice(off)}`);
          if (rank === undefined) continue;
          prio = -rank;
        } else prio = v.scores[id]!;
        const key = l * MAX_SYMBOL + r;
        this.pairMerged.set(key, id);
        this.pairPriority.set(key, prio);
      }
    });
    this.splitSegments = this.userDefined.length === 0;
  }

  /** The normalised text: whitespace handling, dummy prefix, "▁" for spaces. */
  normalize(text: string): string {
    let t = text;
    if (this.vocab.removeExtraWhitespaces) t = t.replace(/ +/g, ' ').replace(/^ | $/g, '');
    if (!t) return '';
    if (this.vocab.addDummyPrefix) t = ' ' + t;
    if (this.vocab.escapeWhitespaces) t = t.replaceAll(' ', SPACE);
    return t;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (opts.bos && this.vocab.bosId >= 0) out.push(this.vocab.bosId);
    const norm = this.normalize(text);
    if (this.splitSegments) {
      // cut wherever two neighbouring characters never meet inside a mergeable piece
      let start = 0;
      let prev = -1;
      const n = norm.length;
      const joinsNext = this.joinsNext;
      const joinBits = this.joinBits;
      for (let i = 0; i <= n; ) {
        let cp = -1;
        let w = 1;
        if (i < n) {
          cp = norm.charCodeAt(i);
          if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
            cp = norm.codePointAt(i)!;
            w = cp > 0xffff ? 2 : 1;
          }
        }
        let joins = false;
        if (i < n && prev >= 0 && (prev >= 65536 || joinsNext[prev] === 1)) {
          const h = (Math.imul(prev, 0x9e3779b1) ^ Math.imul(cp, 0x85ebca6b)) >>> 10;
          joins = (joinBits[h >>> 5]! & (1 << (h & 31))) !== 0;
        }
        if (i > start && !joins) this.emitSegment(norm, start, i, prev, out);
        if (!joins) start = i;
        prev = cp;
        i += w;
      }
    } else if (norm) out.push(...this.encodeSegment(norm));
    if (opts.eos && this.vocab.eosId >= 0) out.push(this.vocab.eosId);
    return out;
  }

  private static pairHash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 10;
  }

  private emitSegment(norm: string, start: number, end: number, lastCp: number, out: number[]): void {
    let ids: Int32Array | undefined;
    const single = end - start === 1 || (end - start === 2 && lastCp > 0xffff);
    if (single && lastCp < 65536) {
      ids = this.singleCache[lastCp];
      if (!ids) ids = this.singleCache[lastCp] = this.encodeSegment(norm.slice(start, end));
    } else if (end - start === 2 && lastCp < 65536) {
      const key = norm.charCodeAt(start) * 65536 + lastCp;
      ids = this.pairCache.get(key);
      if (!ids) {
        ids = this.encodeSegment(norm.slice(start, end));
        if (this.pairCache.size >= this.cacheLimit) this.pairCache.clear();
        this.pairCache.set(key, ids);
      }
    } else {
      const seg = norm.slice(start, end);
      ids = this.cache.get(seg);
      if (!ids) {
        ids = this.encodeSegment(seg);
        if (this.cache.size >= this.cacheLimit) this.cache.clear();
        this.cache.set(seg, ids);
      }
    }
    for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
  }

  encodePieces(text: string, opts: EncodeOptions = {}): string[] {
    return this.encode(text, opts).map((id) => this.vocab.pieces[id]!);
  }

  // scratch for the merge loop
  private sym = new Int32Array(1024);
  private nxt = new Int32Array(1024);
  private prv = new Int32Array(1024);
  private start = new Int32Array(1024);
  private end = new Int32Array(1024);
  private hp = new Float64Array(1024);
  private hl = new Int32Array(1024);
  private hr = new Int32Array(1024);
  private hsl = new Int32Array(1024);
  private hsr = new Int32Array(1024);
  private hn = 0;

  private grow(n: number): void {
    if (this.sym.length >= n) return;
    const m = n * 2;
    this.sym = new Int32Array(m);
    this.nxt = new Int32Array(m);
    this.prv = new Int32Array(m);
    this.start = new Int32Array(m);
    this.end = new Int32Array(m);
  }

  private heapPush(prio: number, l: number, r: number, sl: number, sr: number): void {
    if (this.hn >= this.hp.length) {
      const m = this.hp.length * 2;
      const g = <T extends Float64Array | Int32Array>(a: T, C: new (n: number) => T): T => {
        const b = new C(m);
        b.set(a);
        return b;
      };
      this.hp = g(this.hp, Float64Array);
      this.hl = g(this.hl, Int32Array);
      this.hr = g(this.hr, Int32Array);
      this.hsl = g(this.hsl, Int32Array);
      this.hsr = g(this.hsr, Int32Array);
    }
    let i = this.hn++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      // parent first if higher priority, or equal priority and smaller left position
      if (this.hp[p]! > prio || (this.hp[p] === prio && this.hl[p]! < l)) break;
      this.hp[i] = this.hp[p]!;
      this.hl[i] = this.hl[p]!;
      this.hr[i] = this.hr[p]!;
      this.hsl[i] = this.hsl[p]!;
      this.hsr[i] = this.hsr[p]!;
      i = p;
    }
    this.hp[i] = prio;
    this.hl[i] = l;
    this.hr[i] = r;
    this.hsl[i] = sl;
    this.hsr[i] = sr;
  }

  private heapPop(): void {
    const n = --this.hn;
    if (n === 0) return;
    const prio = this.hp[n]!, l = this.hl[n]!, r = this.hr[n]!, sl = this.hsl[n]!, sr = this.hsr[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const c2 = c + 1;
      if (c2 < n && (this.hp[c2]! > this.hp[c]! || (this.hp[c2] === this.hp[c] && this.hl[c2]! < this.hl[c]!))) c = c2;
      if (prio > this.hp[c]! || (prio === this.hp[c] && l < this.hl[c]!)) break;
      this.hp[i] = this.hp[c]!;
      this.hl[i] = this.hl[c]!;
      this.hr[i] = this.hr[c]!;
      this.hsl[i] = this.hsl[c]!;
      this.hsr[i] = this.hsr[c]!;
      i = c;
    }
    this.hp[i] = prio;
    this.hl[i] = l;
    this.hr[i] = r;
    this.hsl[i] = sl;
    this.hsr[i] = sr;
  }

  private tryPair(l: number, r: number): void {
    if (l < 0 || r < 0) return;
    const key = this.sym[l]! * MAX_SYMBOL + this.sym[r]!;
    const prio = this.pairPriority.get(key);
    if (prio !== undefined) this.heapPush(prio, l, r, this.sym[l]!, this.sym[r]!);
  }

  private symOfCodePoint(cp: number): number {
    if (cp < 65536) {
      const s = this.charSymBmp[cp]!;
      if (s >= 0) return s;
    } else {
      const s = this.charSym.get(cp);
      if (s !== undefined) return s;
    }
    // first sight of this character: its piece, or (never in the vocabulary) a fresh symbol that merges with nothing
    const ch = String.fromCodePoint(cp);
    let s = this.pieceId.get(ch) ?? -1;
    if (s < 0) {
      s = this.vocab.pieces.length + this.orphanChar.length;
      this.orphanChar.push(ch);
    }
    if (cp < 65536) this.charSymBmp[cp] = s;
    else this.charSym.set(cp, s);
    return s;
  }

  /** BPE over one normalised segment. */
  encodeSegment(seg: string): Int32Array {
    this.grow(seg.length + 1);
    const { sym, nxt, prv, start, end } = this;
    let n = 0;
    for (let i = 0; i < seg.length; ) {
      let matched = 0;
      if (this.userDefined.length) {
        for (const u of this.userDefined) if (seg.startsWith(u, i)) { matched = u.length; break; }
      }
      if (matched) {
        sym[n] = this.pieceId.get(seg.slice(i, i + matched))!;
      } else {
        const cp = seg.codePointAt(i)!;
        matched = cp > 0xffff ? 2 : 1;
        sym[n] = this.symOfCodePoint(cp);
      }
      start[n] = i;
      end[n] = i + matched;
      prv[n] = n - 1;
      nxt[n] = n + 1;
      n++;
      i += matched;
    }
    if (n === 0) return new Int32Array(0);
    nxt[n - 1] = -1;
    this.hn = 0;
    for (let i = 0; i + 1 < n; i++) this.tryPair(i, i + 1);
    let revMerge: Map<number, [number, number]> | null = null;
    while (this.hn > 0) {
      const l = this.hl[0]!, r = this.hr[0]!, sl = this.hsl[0]!, sr = this.hsr[0]!;
      this.heapPop();
      if (sym[l] !== sl || sym[r] !== sr || nxt[l] !== r) continue; // stale
      const merged = this.pairMerged.get(sl * MAX_SYMBOL + sr)!;
      if (this.vocab.types[merged] === PieceType.Unused) (revMerge ??= new Map()).set(merged, [sl, sr]);
      sym[l] = merged;
      end[l] = end[r]!;
      const rn = nxt[r]!;
      nxt[l] = rn;
      if (rn >= 0) prv[rn] = l;
      sym[r] = -1;
      this.tryPair(prv[l]!, l);
      this.tryPair(l, rn);
    }
    const out: number[] = [];
    const V = this.vocab.pieces.length;
    let lastUnk = false;
    const emit = (s: number, from: number, to: number) => {
      if (s < V && revMerge?.has(s)) {
        const [a, b] = revMerge.get(s)!;
        // re-split an UNUSED piece into the pair it was merged from
        const aText = a < V ? this.vocab.pieces[a]! : this.orphanChar[a - V]!;
        emit(a, from, from + aText.length);
        emit(b, from + aText.length, to);
        return;
      }
      if (s < V && this.vocab.types[s] !== PieceType.Unused) {
        out.push(s);
        lastUnk = false;
        return;
      }
      // not in the vocabulary: bytes, or <unk>
      if (this.vocab.byteFallback) {
        for (const b of Buffer.from(seg.slice(from, to), 'utf8')) out.push(this.byteIds[b]!);
        lastUnk = false;
      } else if (!lastUnk) {
        out.push(this.vocab.unkId);
        lastUnk = true;
      }
    };
    for (let i = 0; i >= 0; i = nxt[i]!) emit(sym[i]!, start[i]!, end[i]!);
    return Int32Array.from(out);
  }

  /** Pieces to text, as SentencePiece decodes: bytes joined into UTF-8, "▁" to spaces, dummy prefix removed. */
  decode(ids: readonly number[]): string {
    const v = this.vocab;
    const parts: string[] = [];
    let bytes: number[] = [];
    const flushBytes = () => {
      if (bytes.length) {
        parts.push(new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)));
        bytes = [];
      }
    };
    let first = true;
    for (const id of ids) {
      if (id < 0 || id >= v.pieces.length) throw new RangeError(`token id ${id} is outside the vocabulary (0..${v.pieces.length - 1})`);
      const t = v.types[id];
      if (t === PieceType.Byte) {
        bytes.push(parseInt(v.pieces[id]!.slice(3, 5), 16));
        first = false;
        continue;
      }
      flushBytes();
      if (t === PieceType.Control) continue;
      let s = t === PieceType.Unknown ? v.unkSurface : v.pieces[id]!;
      if (first && v.addDummyPrefix && s.startsWith(SPACE)) s = s.slice(1);
      first = false;
      parts.push(v.escapeWhitespaces ? s.replaceAll(SPACE, ' ') : s);
    }
    flushBytes();
    return parts.join('');
  }
}
