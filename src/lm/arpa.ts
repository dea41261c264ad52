/**
 * ARPA back-off language models: reading (with errors that name the line),
 * writing (KenLM's layout), and scoring exactly as KenLM's `query` does:
 * the longest n-gram present wins, the back-off weights of the longer contexts
 * that are present are added, `<s>` is context only, `</s>` is scored at the
 * end of every line, words outside the vocabulary are scored as `<unk>` (and
 * counted), and lower orders may be missing entries (pruned models).
 */
export class ArpaError extends Error {}

export interface NgramModel {
  order: number;
  /** per order (index 0 = unigrams): n-gram (words joined by a space) -> [log10 prob, log10 backoff] */
  grams: Map<string, [number, number]>[];
  /** the order of each section as declared in \data\ */
  counts: number[];
  /** log10 probability used for <unk> when the model has none (KenLM substitutes -100) */
  unkMissing: boolean;
}

/** Where a reader puts what it reads; `add` returns an error message to refuse an entry. */
export interface ArpaSink {
  begin(counts: number[]): void;
  /** whether the n-gram's context (its first n-1 words) was read */
  hasContext(n: number, words: string[]): boolean;
  add(n: number, words: string[], log10p: number, backoff: number): string | null;
  /** entries of order n kept so far */
  size(n: number): number;
}

/**
 * Reads ARPA line by line into a sink, with every check KenLM makes and errors that name
 * the line: the \data\ counts, the sections in order, numbers, words per entry, back-offs
 * only below the highest order, every context present, section sizes, \end\.
 */
export function readArpa(lines: Iterable<string>, where: string, sink: ArpaSink): number[] {
  const it = lines[Symbol.iterator]();
  let lineNo = 0;
  let cur: string | undefined;
  const next = () => {
    const r = it.next();
    lineNo++;
    cur = r.done ? undefined : r.value;
  };
  const err = (msg: string): never => {
    throw new ArpaError(`${where}:${lineNo}: ${msg}`);
  };
  const skipBlank = () => {
    while (cur !== undefined && cur.trim() === '') next();
  };
  next();
  skipBlank();
  if (cur?.trim() !== '\\data\\') err('expected "\\data\\"');
  const counts: number[] = [];
  for (next(); cur !== undefined; next()) {
    const l = cur.trim();
    if (l === '') break;
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(l);
    if (!m) err(`expected "ngram N=count", got "${l}"`);
    if (Number(m![1]) !== counts.length + 1) err(`ngram orders must be 1, 2, … in order; got ${m![1]}`);
    counts.push(Number(m![2]));
  }
  if (!counts.length) err('no "ngram N=count" lines');
  sink.begin(counts);
  for (let n = 1; n <= counts.length; n++) {
    skipBlank();
    if (cur?.trim() !== `\\${n}-grams:`) err(`expected "\\${n}-grams:" section${cur === undefined ? ' (file ends early)' : ''}`);
    for (next(); cur !== undefined; next()) {
      const raw = cur;
      if (raw.trim() === '') break;
      const f = raw.split('\t');
      if (f.length < 2) err(`expected "log10prob<TAB>${n}-gram[<TAB>backoff]"`);
      const p = Number(f[0]);
      if (!Number.isFinite(p) || f[0]!.trim() === '') err(`probability "${f[0]}" is not a number`);
      const words = f[1]!.trim().split(/\s+/);
      if (words.length !== n) err(`expected ${n} words, got ${words.length} ("${f[1]}")`);
      let b = 0;
      if (f.length >= 3 && f[2]!.trim() !== '') {
        b = Number(f[2]);
        if (!Number.isFinite(b)) err(`backoff "${f[2]}" is not a number`);
        if (n === counts.length) err(`the highest order cannot carry a backoff`);
      }
      // KenLM requires every n-gram's context (its first n-1 words) to be present
      if (n > 1 && !sink.hasContext(n, words)) err(`the context "${words.slice(0, -1).join(' ')}" of this ${n}-gram is not in the ${n - 1}-grams`);
      const problem = sink.add(n, words, p, b);
      if (problem) err(problem);
    }
    if (sink.size(n) !== counts[n - 1]) err(`\\data\\ declares ${counts[n - 1]} ${n}-grams but the section has ${sink.size(n)}`);
  }
  skipBlank();
  if (cur?.trim() !== '\\end\\') err('expected "\\end\\"');
  return counts;
}

export function parseArpa(text: string, where = 'model.arpa'): NgramModel {
  let grams: Map<string, [number, number]>[] = [];
  const counts = readArpa(text.split('\n'), where, {
    begin: (c) => {
      grams = c.map(() => new Map());
    },
    hasContext: (n, words) => grams[n - 2]!.has(words.slice(0, -1).join(' ')),
    add: (n, words, p, b) => {
      grams[n - 1]!.set(words.join(' '), [p, b]);
      return null;
    },
    size: (n) => grams[n - 1]!.size,
  });
  return { order: counts.length, grams, counts, unkMissing: !grams[0]!.has('<unk>') };
}

export interface SentenceScore {
  /** log10 probability of the words and </s> */
  total: number;
  words: number;
  oov: number;
  perWord: { word: string; log10: number; ngram: number; oov: boolean }[];
}

const UNK_MISSING_PROB = -100;

/** log10 p(word | context) with KenLM's back-off rule; context is oldest first. */
export function wordScore(m: NgramModel, context: string[], word: string): { log10: number; ngram: number } {
  const maxCtx = Math.min(context.length, m.order - 1);
  for (let len = maxCtx; len >= 0; len--) {
    const ctx = context.slice(context.length - len);
    const g = m.grams[len]!.get([...ctx, word].join(' '));
    if (g === undefined) continue;
    let lp = g[0];
    // back-off weights of the longer contexts that exist
    for (let k = len + 1; k <= maxCtx; k++) {
      const c = m.grams[k - 1]!.get(context.slice(context.length - k).join(' '));
      if (c) lp += c[1];
    }
    return { log10: lp, ngram: len + 1 };
  }
  // only <unk> can fall through here, in a model that has no <unk>
  let lp = UNK_MISSING_PROB;
  for (let k = 1; k <= maxCtx; k++) {
    const c = m.grams[k - 1]!.get(context.slice(context.length - k).join(' '));
    if (c) lp += c[1];
  }
  return { log10: lp, ngram: 0 };
}

/** Scores one line of space-separated units, as KenLM's query does (with </s>). */
export function scoreSentence(m: NgramModel, line: string): SentenceScore {
  const words = line.split(/\s+/).filter(Boolean);
  const uni = m.grams[0]!;
  let context = ['<s>'];
  let total = 0;
  let oov = 0;
  const perWord: SentenceScore['perWord'] = [];
  for (const w0 of [...words, '</s>']) {
    const known = uni.has(w0) && w0 !== '<unk>';
    const w = known || w0 === '</s>' ? w0 : '<unk>';
    if (!known && w0 !== '</s>') oov++;
    const s = wordScore(m, context, w);
    total += s.log10;
    perWord.push({ word: w0, log10: s.log10, ngram: s.ngram, oov: !known && w0 !== '</s>' });
    context = [...context, w].slice(-(m.order - 1));
  }
  return { total, words: words.length, oov, perWord };
}

export function perplexity(s: SentenceScore): number {
  return Math.pow(10, -s.total / (s.words + 1));
}

/** Seven significant digits, trailing zeros dropped, as KenLM prints floats (-0.4771212, -0.30103, -99). */
export function fmt(x: number): string {
  const s = x.toPrecision(7);
  // the shortest form of a number with at most 7 significant digits is its digits without trailing zeros
  if (s.includes('e')) return String(Number(s));
  let end = s.length;
  if (s.includes('.')) {
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
  }
  const r = end === s.length ? s : s.slice(0, end);
  return r === '-0' ? '0' : r;
}

/** One ARPA entry line; the back-off is written only below the highest order and where it is not zero. */
export function arpaEntry(words: string, log10p: number, backoff: number, belowHighest: boolean): string {
  const hasBackoff = belowHighest && (backoff !== 0 || Object.is(backoff, -0));
  return hasBackoff ? `${fmt(log10p)}\t${words}\t${Object.is(backoff, -0) ? '-0.0' : fmt(backoff)}` : `${fmt(log10p)}\t${words}`;
}

/** Writes ARPA as KenLM's lmplz lays it out (sections in order, entries as stored, backoffs only where non-zero or on prefixes). */
export function writeArpa(m: NgramModel): string {
  const out: string[] = ['', '\\data\\'];
  m.grams.forEach((g, i) => out.push(`ngram ${i + 1}=${g.size}`));
  m.grams.forEach((g, i) => {
    out.push('', `\\${i + 1}-grams:`);
    for (const [k, [p, b]] of g) out.push(arpaEntry(k, p, b, i + 1 < m.order));
  });
  out.push('', '\\end\\', '');
  return out.join('\n');
}
