/**
 * Interpolated modified Kneser-Ney estimation, following the method of KenLM's
 * lmplz: counts of every order with <s> and </s> around each sentence;
 * adjusted counts (the number of distinct left extensions) for every order but
 * the highest, except n-grams that begin with <s>; per-order discounts D1, D2,
 * D3+ from the counts of counts (Chen & Goodman); back-off weights from the
 * discounted mass; interpolation down to a uniform distribution over the
 * vocabulary (with <unk>) at the unigram level; <s> gets log10 probability -99.
 * In memory, for small reference texts; kneser-ney-disk.ts computes the same
 * model with bounded memory, in partitions on disk.
 */
import type { NgramModel } from './arpa.js';

export interface KneserNeyOptions {
  order: number;
}

export class KneserNeyError extends Error {}

export interface Discount {
  d1: number;
  d2: number;
  d3: number;
}

export function discounts(countsOfCounts: number[], order: number): Discount {
  const [t1, t2, t3, t4] = countsOfCounts as [number, number, number, number];
  if (!t1 || !t2 || !t3 || !t4) throw new KneserNeyError(`order ${order}: counts of counts ${countsOfCounts.join('/')} are too small to estimate discounts (need n-grams seen once, twice, three and four times; use more text or a lower order)`);
  const y = t1 / (t1 + 2 * t2);
  return { d1: 1 - (2 * y * t2) / t1, d2: 2 - (3 * y * t3) / t2, d3: 3 - (4 * y * t4) / t3 };
}

export const disc = (d: Discount, c: number) => (c === 0 ? 0 : c === 1 ? d.d1 : c === 2 ? d.d2 : d.d3);

/** Trains a model from sentences of space-separated units. */
export function trainKneserNey(sentences: Iterable<string>, opts: KneserNeyOptions): NgramModel & { discounts: Discount[] } {
  const N = opts.order;
  const raw: Map<string, number>[] = Array.from({ length: N }, () => new Map());
  const vocab = new Set<string>();
  for (const s of sentences) {
    const w = s.split(/\s+/).filter(Boolean);
    for (const x of w) if (x !== '<s>' && x !== '</s>' && x !== '<unk>') vocab.add(x);
    const seq = ['<s>', ...w, '</s>'];
    for (let n = 1; n <= N; n++) {
      const m = raw[n - 1]!;
      for (let i = 0; i + n <= seq.length; i++) {
        if (n === 1 && i === 0) continue; // <s> is never predicted
        const key = seq.slice(i, i + n).join(' ');
        m.set(key, (m.get(key) ?? 0) + 1);
      }
    }
  }
  // adjusted counts: below the highest order, the number of distinct left extensions
  const adj: Map<string, number>[] = raw.map((m, i) => (i === N - 1 ? new Map(m) : new Map()));
  for (let n = N; n >= 2; n--) {
    for (const key of raw[n - 1]!.keys()) {
      const suffix = key.slice(key.indexOf(' ') + 1);
      const lower = adj[n - 2]!;
      lower.set(suffix, (lower.get(suffix) ?? 0) + 1);
    }
  }
  for (let n = 1; n < N; n++) for (const [key, c] of raw[n - 1]!) if (key === '<s>' || key.startsWith('<s> ')) adj[n - 1]!.set(key, c);
  // discounts per order from the counts of counts of adjusted counts
  const ds: Discount[] = adj.map((m, i) => {
    const t = [0, 0, 0, 0];
    for (const c of m.values()) if (c >= 1 && c <= 4) t[c - 1]!++;
    return discounts(t, i + 1);
  });
  // per context: total adjusted count and the number of continuations seen 1, 2, 3+ times
  const ctxStats: Map<string, { sum: number; n1: number; n2: number; n3: number }>[] = adj.map(() => new Map());
  adj.forEach((m, i) => {
    for (const [key, c] of m) {
      const ctx = i === 0 ? '' : key.slice(0, key.lastIndexOf(' '));
      let st = ctxStats[i]!.get(ctx);
      if (!st) ctxStats[i]!.set(ctx, (st = { sum: 0, n1: 0, n2: 0, n3: 0 }));
      st.sum += c;
      if (c === 1) st.n1++;
      else if (c === 2) st.n2++;
      else st.n3++;
    }
  });
  const gamma = (order: number, ctx: string): number => {
    const st = ctxStats[order - 1]!.get(ctx);
    if (!st) return 1;
    const d = ds[order - 1]!;
    return (d.d1 * st.n1 + d.d2 * st.n2 + d.d3 * st.n3) / st.sum;
  };
  // interpolated probabilities, lowest order first
  const vocabSize = vocab.size + 2; // the words, </s> and <unk> (<s> is never predicted; a literal <unk> in the text is <unk>)
  const prob: Map<string, number>[] = adj.map(() => new Map());
  const uniform = 1 / vocabSize;
  const g0 = gamma(1, '');
  for (const [w, c] of adj[0]!) {
    const st = ctxStats[0]!.get('')!;
    prob[0]!.set(w, (c - disc(ds[0]!, c)) / st.sum + g0 * uniform);
  }
  for (let n = 2; n <= N; n++) {
    for (const [key, c] of adj[n - 1]!) {
      const ctx = key.slice(0, key.lastIndexOf(' '));
      const st = ctxStats[n - 1]!.get(ctx)!;
      const lowerKey = key.slice(key.indexOf(' ') + 1);
      const lower = prob[n - 2]!.get(lowerKey) ?? uniform;
      prob[n - 1]!.set(key, (c - disc(ds[n - 1]!, c)) / st.sum + gamma(n, ctx) * lower);
    }
  }
  // the model in ARPA terms: log10 probabilities and back-off weights (for n-grams that are contexts)
  const grams: Map<string, [number, number]>[] = [];
  for (let n = 1; n <= N; n++) {
    const m = new Map<string, [number, number]>();
    if (n === 1) {
      m.set('<s>', [-99, n < N ? Math.log10(gamma(2, '<s>')) : 0]);
      if (!prob[0]!.has('<unk>')) m.set('<unk>', [Math.log10(g0 * uniform), 0]);
    }
    for (const [key, p] of [...prob[n - 1]!].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      const b = n < N && ctxStats[n]!.has(key) ? Math.log10(gamma(n + 1, key)) : 0;
      m.set(key, [Math.log10(p), b]);
    }
    grams.push(m);
  }
  return { order: N, grams, counts: grams.map((g) => g.size), unkMissing: false, discounts: ds };
}
