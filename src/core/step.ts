import type { Document } from './document.js';

/**
 * A per-document pipeline step. Steps are small classes, built from a recipe
 * entry, that either return the (possibly modified) document or a Drop naming
 * the rule that removed it. Steps must be deterministic: same document in,
 * same result out, so that a killed run can be resumed shard by shard.
 *
 * Corpus-level stages (perplexity percentiles, de-duplication) are separate
 * executor stages with their own interface; they consume the output of a
 * document stage and can write a new one, so they plug in after these steps.
 */
export interface DocStep {
  /** Name used in reports, unique within a recipe. */
  readonly name: string;
  /** Every rule name this step may report, in evaluation order. */
  readonly rules: readonly string[];
  process(doc: Document, ctx: StepContext): Document | Drop;
}

/**
 * A step that needs to see the whole corpus before it can decide on a document
 * (de-duplication, percentile buckets). The executor runs an observation pass
 * over all shards (begin/observe per shard, summaries saved per shard), then
 * combines the summaries in shard order, then runs the shards again with the
 * combined state (decide). Every pass is resumable shard by shard, and the
 * document steps before a corpus step are simply run again in the next pass
 * (they are deterministic), so nothing intermediate is stored.
 */
export interface CorpusStep<S = unknown, G = unknown> {
  readonly name: string;
  readonly rules: readonly string[];
  readonly corpus: true;
  /** A fresh, JSON-serialisable summary for one shard. */
  begin(): S;
  /** Sees a document that reached the step; `order` is its position among the shard's documents. */
  observe(doc: Document, state: S, order: number): void;
  /**
   * Optional: called when a shard's observation ends, with the pass folder; may write bulky
   * per-shard files there (sorted runs) and return the (small) summary to keep instead.
   */
  end?(state: S, io: { dir: string; shard: string }): S;
  /** Optional: checks the files `end` wrote for a shard; returns what is wrong, or null. */
  verify?(state: S, io: { dir: string; shard: string }): string | null;
  /**
   * Optional parallel stage between observation and combine (e.g. one bucket task per band):
   * the number of tasks (fixed by the step's configuration, so that a scheduler can size the
   * stage before it starts), whether task i already finished intact, and running it.
   */
  tasks?(): number;
  taskDone?(i: number, io: { dir: string }): boolean;
  runTask?(i: number, states: S[], io: { dir: string; shards: string[] }): void;
  /** Combines the shard summaries (given in shard order) into what every shard needs; JSON-serialisable. */
  combine(states: S[], io: { dir: string; shards: string[] }): G;
  /** Decides on a document with the combined state. */
  decide(doc: Document, ctx: StepContext, global: G, shard: number, order: number): Document | Drop;
  /** Optional: what the final report needs from a document that reached the step (JSON), e.g. cluster members. */
  sample?(doc: Document, global: G, shard: number, order: number): unknown;
  /** Optional: figures for the report from the combined state and the samples of all shards. */
  summarize?(global: G, samples: unknown[]): Record<string, unknown>;
}

export type Step = DocStep | CorpusStep;

export function isCorpusStep(s: Step): s is CorpusStep {
  return (s as CorpusStep).corpus === true;
}

export interface Drop {
  readonly drop: true;
  /** The rule charged with the removal (the first one that fired). */
  readonly rule: string;
  /** Every rule of this step that fired on the document (for marginal and overlap figures). */
  readonly fired: readonly string[];
}

export function drop(rule: string, fired: readonly string[] = [rule]): Drop {
  return { drop: true, rule, fired };
}

export function isDrop(x: Document | Drop): x is Drop {
  return (x as Drop).drop === true;
}

/** What a step can tell the run about partial removals. */
export interface StepContext {
  /** Text cut out of a document (paragraph, line, sentence) or masked, by a named rule. */
  cut(rule: string, doc: Document, removed: string, chars?: number): void;
}
