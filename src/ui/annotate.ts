/**
 * Human evaluation of a factory run (Ziya2: 1,000 random documents checked by people):
 * a seeded sample of the run's kept documents, labels per annotator in an append-only log
 * (one JSON line per save, fsynced before the save is acknowledged; a line cut short by a
 * crash is dropped on the next start, so no acknowledged label is ever lost), agreement
 * between annotators (Cohen's kappa per problem), export as JSONL, and the run's attribute
 * scores (share of documents without each problem) for the scaling-law work.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a, mix32 } from '../core/hash.js';
import { keptDocs, readRunStats } from '../dataeval/gate.js';

export const PROBLEMS = ['coherence', 'readability', 'toxic'] as const;
export type Problem = (typeof PROBLEMS)[number];

export class AnnotationError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

export interface Span {
  start: number;
  end: number;
  problem: Problem;
}

export interface Label {
  run: string;
  docId: string;
  index: number;
  annotator: string;
  coherence: boolean;
  readability: boolean;
  toxic: boolean;
  spans: Span[];
  note?: string;
  at: string;
}

export interface Sample {
  /** identifies the run: its recipe hash and kept count */
  run: string;
  seed: number;
  created: string;
  docs: { id: string; text: string; language: string }[];
}

const ANNOTATOR = /^[A-Za-z0-9_.-]{1,40}$/;

/** Cohen's kappa of two raters' yes/no judgements of the same items */
export function cohensKappa(a: boolean[], b: boolean[]): number {
  const n = a.length;
  if (n === 0 || n !== b.length) return NaN;
  let agree = 0, ya = 0, yb = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    if (a[i]) ya++;
    if (b[i]) yb++;
  }
  const po = agree / n;
  const pe = (ya / n) * (yb / n) + (1 - ya / n) * (1 - yb / n);
  return pe === 1 ? (po === 1 ? 1 : NaN) : (po - pe) / (1 - pe);
}

export class AnnotationStore {
  readonly dir: string;
  private sample: Sample | null = null;
  private labels = new Map<string, Map<string, Label>>(); // annotator -> docId -> latest label
  readonly warnings: string[] = [];
  private loaded = new Set<string>();

  constructor(readonly runDir: string, readonly size = 1000, readonly seed = 1) {
    this.dir = join(runDir, 'annotation');
  }

  /** the sample, drawn on first use (the same for every annotator) */
  async getSample(): Promise<Sample> {
    if (this.sample) return this.sample;
    const f = join(this.dir, 'sample.json');
    const st = readRunStats(this.runDir);
    const runKey = `${st.recipeHash}:${st.kept}`;
    if (existsSync(f)) {
      const s = JSON.parse(readFileSync(f, 'utf8')) as Sample;
      if (s.run !== runKey) throw new AnnotationError(`${f} was drawn from another run (${s.run}); this folder now holds run ${runKey}. Move the annotation folder away to start over.`, 409);
      this.sample = s;
      return s;
    }
    if (st.kept === 0) throw new AnnotationError(`${this.runDir}: the run kept no documents; there is nothing to annotate`, 422);
    // the `size` documents with the smallest seeded hashes of their ids: uniform, order-free
    const all: { h: number; id: string; text: string; language: string }[] = [];
    for await (const d of keptDocs(this.runDir)) {
      const h = mix32(fnv1a(d.id, this.seed));
      all.push({ h, id: d.id, text: d.text.slice(0, 20000), language: String(d.meta.language ?? '') });
      if (all.length > this.size * 4) {
        all.sort((x, y) => x.h - y.h);
        all.length = this.size;
      }
    }
    all.sort((x, y) => x.h - y.h);
    const s: Sample = { run: runKey, seed: this.seed, created: new Date().toISOString(), docs: all.slice(0, this.size).map(({ id, text, language }) => ({ id, text, language })) };
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(f + '.tmp', JSON.stringify(s));
    renameSync(f + '.tmp', f);
    this.sample = s;
    return s;
  }

  private logFile(annotator: string): string {
    return join(this.dir, `labels-${annotator}.jsonl`);
  }

  /** reads an annotator's log once; drops a line cut short by a crash */
  private load(annotator: string, run: string): Map<string, Label> {
    let m = this.labels.get(annotator);
    if (m && this.loaded.has(annotator)) return m;
    m = new Map();
    this.labels.set(annotator, m);
    this.loaded.add(annotator);
    const f = this.logFile(annotator);
    if (!existsSync(f)) return m;
    let text = readFileSync(f, 'utf8');
    if (text.length && !text.endsWith('\n')) {
      const cut = text.lastIndexOf('\n') + 1;
      this.warnings.push(`${f}: dropped an incomplete last line (${text.length - cut} bytes, a save interrupted before it was acknowledged)`);
      text = text.slice(0, cut);
      writeFileSync(f + '.tmp', text);
      renameSync(f + '.tmp', f);
    }
    text.split('\n').forEach((line, i) => {
      if (!line) return;
      let l: Label;
      try {
        l = JSON.parse(line) as Label;
      } catch {
        this.warnings.push(`${f}:${i + 1}: not a label, skipped`);
        return;
      }
      if (l.run !== run) {
        this.warnings.push(`${f}:${i + 1}: a label of another run (${l.run}), ignored`);
        return;
      }
      m!.set(l.docId, l);
    });
    return m;
  }

  private annotators(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).map((f) => /^labels-(.+)\.jsonl$/.exec(f)?.[1]).filter((x): x is string => !!x && ANNOTATOR.test(x)).sort();
  }

  checkAnnotator(a: unknown): string {
    if (typeof a !== 'string' || !ANNOTATOR.test(a)) throw new AnnotationError('annotator: 1-40 letters, digits, "_", "." or "-"');
    return a;
  }

  /** the document at an index with this annotator's label, and where the annotator stands */
  async doc(annotatorRaw: unknown, index?: number): Promise<{ index: number; total: number; done: number; doc: Sample['docs'][number]; label: Label | null; run: string }> {
    const annotator = this.checkAnnotator(annotatorRaw);
    const s = await this.getSample();
    const m = this.load(annotator, s.run);
    let i = index ?? s.docs.findIndex((d) => !m.has(d.id));
    if (i < 0) i = s.docs.length - 1; // all done: show the last one
    if (!Number.isInteger(i) || i < 0 || i >= s.docs.length) throw new AnnotationError(`index ${index} is outside the sample (0-${s.docs.length - 1})`, 404);
    const d = s.docs[i]!;
    return { index: i, total: s.docs.length, done: m.size, doc: d, label: m.get(d.id) ?? null, run: s.run };
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** appends a label; resolves once it is on disk */
  async save(body: Record<string, unknown>): Promise<Label> {
    const s = await this.getSample();
    const annotator = this.checkAnnotator(body['annotator']);
    if (body['run'] !== s.run) throw new AnnotationError(`this label belongs to run ${String(body['run'])}, the sample is of run ${s.run} (reload the page)`, 409);
    const index = Number(body['index']);
    const d = s.docs[index];
    if (!d || d.id !== body['docId']) throw new AnnotationError(`document ${String(body['docId'])} is not at index ${index} of the sample`, 409);
    const spans: Span[] = [];
    for (const x of Array.isArray(body['spans']) ? (body['spans'] as unknown[]) : []) {
      const sp = x as Record<string, unknown>;
      const start = Number(sp['start']), end = Number(sp['end']), problem = sp['problem'];
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > d.text.length || !PROBLEMS.includes(problem as Problem)) throw new AnnotationError(`bad span ${JSON.stringify(x)}`);
      spans.push({ start, end, problem: problem as Problem });
    }
    const label: Label = {
      run: s.run, docId: d.id, index, annotator,
      coherence: body['coherence'] === true, readability: body['readability'] === true, toxic: body['toxic'] === true,
      spans, at: new Date().toISOString(),
    };
    if (typeof body['note'] === 'string' && body['note']) label.note = body['note'].slice(0, 2000);
    const m = this.load(annotator, s.run);
    // one append at a time per store: lines never interleave
    const write = this.queue.then(() => {
      mkdirSync(this.dir, { recursive: true });
      const fd = openSync(this.logFile(annotator), 'a');
      try {
        writeSync(fd, JSON.stringify(label) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      m.set(d.id, label);
    });
    this.queue = write.catch(() => undefined);
    await write;
    return label;
  }

  /** progress per annotator, agreement, and the attribute scores (also written to attributes.json) */
  async stats(): Promise<{ run: string; total: number; annotators: Record<string, number>; kappa: Record<string, Record<Problem, number | null>>; attributes: Record<string, number | null>; labelled: number; warnings: string[] }> {
    const s = await this.getSample();
    const names = this.annotators();
    const maps = names.map((a) => this.load(a, s.run));
    const annotators = Object.fromEntries(names.map((a, i) => [a, maps[i]!.size]));
    const kappa: Record<string, Record<Problem, number | null>> = {};
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
      const both = [...maps[i]!.keys()].filter((k) => maps[j]!.has(k));
      const k = {} as Record<Problem, number | null>;
      for (const p of PROBLEMS) {
        const v = cohensKappa(both.map((id) => maps[i]!.get(id)![p]), both.map((id) => maps[j]!.get(id)![p]));
        k[p] = Number.isFinite(v) ? Number(v.toFixed(4)) : null;
      }
      kappa[`${names[i]}~${names[j]}`] = k;
    }
    // a document has a problem when any annotator who saw it says so
    const ids = new Set(maps.flatMap((m) => [...m.keys()]));
    const share = (p: Problem) => (ids.size ? [...ids].filter((id) => !maps.some((m) => m.get(id)?.[p])).length / ids.size : null);
    const attributes = { CH: share('coherence'), RA: share('readability'), nonToxic: share('toxic'), documents: ids.size };
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'attributes.json.tmp'), JSON.stringify({ run: s.run, ...attributes, annotators, kappa, at: new Date().toISOString() }, null, 1) + '\n');
    renameSync(join(this.dir, 'attributes.json.tmp'), join(this.dir, 'attributes.json'));
    return { run: s.run, total: s.docs.length, annotators, kappa, attributes, labelled: ids.size, warnings: this.warnings };
  }

  /** every annotator's latest label per document, as JSONL */
  async exportJsonl(): Promise<string> {
    const s = await this.getSample();
    const out: string[] = [];
    for (const a of this.annotators()) for (const l of this.load(a, s.run).values()) out.push(JSON.stringify(l));
    return out.join('\n') + (out.length ? '\n' : '');
  }
}
