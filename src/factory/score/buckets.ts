/**
 * Ziya2's automatic scoring as a corpus step: every document is scored with
 * the n-gram model of its language the way CCNet does it (per line, with
 * </s>; perplexity = 10^(-sum of log10 p / number of tokens)), the perplexity
 * goes into meta, and documents are bucketed high / medium / low by the
 * percentiles of the current run, per language (defaults 30% and 60%; low
 * dropped). Percentiles come from a mergeable log-scale histogram (2,000 bins
 * per decade span, deterministic whatever the sharding).
 */
import { readFileSync, existsSync } from 'node:fs';
import { withMeta, type Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { loadModelFile } from '../../lm/load.js';
import type { HashedModel } from '../../lm/hashed.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import type { SentencePieceBPE } from '../../tokenizer/bpe.js';

export interface BucketConfig {
  /** language -> ARPA model (its sidecar .json says whether units are words, chars or tokenizer pieces) */
  models: Record<string, string>;
  high: number;
  medium: number;
  dropLow: boolean;
}

const BINS = 4000;
const LOG_MIN = 0; // perplexity 1
const LOG_MAX = 8; // perplexity 1e8
const bin = (ppl: number) => Math.max(0, Math.min(BINS - 1, Math.floor(((Math.log10(Math.max(1, ppl)) - LOG_MIN) / (LOG_MAX - LOG_MIN)) * BINS)));
const binValue = (b: number) => Math.pow(10, LOG_MIN + ((b + 1) * (LOG_MAX - LOG_MIN)) / BINS);

type Summary = Record<string, number[]>; // language -> sparse histogram as [bin, count, bin, count, …]
interface Global {
  cutoffs: Record<string, { high: number; medium: number; docs: number }>;
  histograms: Record<string, number[]>;
  unscored: number;
}

/** Per-language bin counts during observation; serialises to sparse [bin, count, …] pairs. */
class ShardHistograms {
  private h = new Map<string, Map<number, number>>();
  add(lang: string, b: number): void {
    let m = this.h.get(lang);
    if (!m) this.h.set(lang, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  toJSON(): Summary {
    const out: Summary = {};
    for (const [lang, m] of this.h) out[lang] = [...m].sort((a, b) => a[0] - b[0]).flat();
    return out;
  }
}

interface LoadedModel {
  m: HashedModel;
  units: 'words' | 'chars' | 'pieces';
  /** for units = pieces: the tokenizer the model was trained with (its sidecar names it) */
  tok?: SentencePieceBPE;
}

const models = new Map<string, LoadedModel>();
function loadModel(path: string): LoadedModel {
  let x = models.get(path);
  if (!x) {
    const side = `${path}.json`;
    const info = existsSync(side) ? (JSON.parse(readFileSync(side, 'utf8')) as { units?: string; tokenizer?: string }) : {};
    const units = info.units === 'chars' ? 'chars' : info.units === 'pieces' ? 'pieces' : 'words';
    x = { m: loadModelFile(path), units, tok: units === 'pieces' ? loadTokenizer(info.tokenizer!) : undefined };
    models.set(path, x);
  }
  return x;
}

export class PerplexityBuckets implements CorpusStep<Summary, Global> {
  readonly corpus = true as const;
  readonly rules = ['score.low_bucket'] as const;
  constructor(readonly name: string, private cfg: BucketConfig) {
    // a model over tokenizer pieces is unusable without its tokenizer: said when the recipe is read
    for (const path of Object.values(cfg.models)) {
      const side = `${path}.json`;
      if (!existsSync(side)) continue;
      const info = JSON.parse(readFileSync(side, 'utf8')) as { units?: string; tokenizer?: string };
      if (info.units === 'pieces' && (!info.tokenizer || !existsSync(info.tokenizer))) throw new Error(`${side}: the model's units are tokenizer pieces, but its tokenizer ${info.tokenizer ? `${info.tokenizer} is missing` : 'is not named'}`);
    }
  }

  /** Model files the executor loads once and shares with every worker thread. */
  resources(): string[] {
    return Object.values(this.cfg.models);
  }

  /** CCNet-style document perplexity, or null when there is no model for the language or nothing to score. */
  perplexity(doc: Document): number | null {
    const path = this.cfg.models[String(doc.meta.language ?? '')];
    if (!path) return null;
    const { m, units, tok } = loadModel(path);
    let sum = 0;
    let tokens = 0;
    if (units === 'words') ({ total: sum, tokens } = m.scoreDocumentWords(doc.text));
    else
      for (const line of doc.text.split('\n')) {
        if (!line.trim()) continue;
        const s = units === 'chars' ? m.scoreChars(line) : m.scoreSentence(tok!.encodePieces(line).join(' '));
        if (!s.words) continue;
        sum += s.total;
        tokens += s.words + 1;
      }
    return tokens ? Math.pow(10, -sum / tokens) : null;
  }

  begin(): Summary {
    return new ShardHistograms() as unknown as Summary;
  }

  observe(doc: Document, s: Summary, _order: number): void {
    const st = s as unknown as ShardHistograms;
    const p = this.perplexity(doc);
    st.add(p === null ? '(unscored)' : String(doc.meta.language ?? 'unknown'), p === null ? 0 : bin(p));
  }

  combine(states: Summary[]): Global {
    const dense: Record<string, Float64Array> = {};
    let unscored = 0;
    for (const s of states) {
      for (const [lang, h] of Object.entries(s)) {
        if (lang === '(unscored)') {
          for (let j = 1; j < h.length; j += 2) unscored += h[j]!;
          continue;
        }
        const d = (dense[lang] ??= new Float64Array(BINS));
        for (let j = 0; j < h.length; j += 2) d[h[j]!]! += h[j + 1]!;
      }
    }
    const cutoffs: Global['cutoffs'] = {};
    const histograms: Global['histograms'] = {};
    for (const [lang, d] of Object.entries(dense)) {
      const total = d.reduce((a, b) => a + b, 0);
      const q = (f: number) => {
        let acc = 0;
        for (let b = 0; b < BINS; b++) {
          acc += d[b]!;
          if (acc >= f * total) return binValue(b);
        }
        return binValue(BINS - 1);
      };
      cutoffs[lang] = { high: q(this.cfg.high), medium: q(this.cfg.medium), docs: total };
      histograms[lang] = Array.from(d);
    }
    return { cutoffs, histograms: Object.fromEntries(Object.entries(histograms).map(([k, v]) => [k, compact(v)])), unscored };
  }

  decide(doc: Document, _ctx: StepContext, g: Global, _shard: number, _order: number): Document | Drop {
    const p = this.perplexity(doc);
    if (p === null) return { ...doc, meta: withMeta(doc.meta, { bucket: 'unscored' }) };
    const c = g.cutoffs[String(doc.meta.language)]!;
    // a document's bin edge is compared, so the split is exactly the histogram's
    const v = binValue(bin(p));
    const bucket = v <= c.high ? 'high' : v <= c.medium ? 'medium' : 'low';
    if (bucket === 'low' && this.cfg.dropLow) return drop('score.low_bucket');
    return { ...doc, meta: withMeta(doc.meta, { perplexity: Math.round(p * 10) / 10, bucket }) };
  }

  summarize(g: Global): Record<string, unknown> {
    const out: Record<string, unknown> = { unscored: g.unscored };
    for (const [lang, c] of Object.entries(g.cutoffs)) {
      out[`${lang}: documents`] = c.docs;
      out[`${lang}: high if perplexity ≤`] = Number(c.high.toPrecision(5));
      out[`${lang}: medium if perplexity ≤`] = Number(c.medium.toPrecision(5));
    }
    out.histograms = g.histograms;
    return out;
  }
}

/** Histogram in 40 coarse bins for the report. */
function compact(d: number[]): number[] {
  const out = new Array<number>(40).fill(0);
  d.forEach((n, b) => (out[Math.floor((b * 40) / BINS)]! += n));
  return out;
}
