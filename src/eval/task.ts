/**
 * A task is data plus three small functions: the requests one document makes, how the answers
 * score it, and what a model that knows the answer would say (for the scripted sanity model).
 */
import type { GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult, RollingRequest, RollingResult } from './lm.js';
import type { Sandbox } from './sandbox.js';

export type Request =
  | ({ type: 'loglikelihood' } & LoglikelihoodRequest)
  | ({ type: 'rolling' } & RollingRequest)
  | ({ type: 'generate' } & GenerateRequest);
export type Response = LoglikelihoodResult | RollingResult | string;

export interface Doc {
  id: string;
  subject: string;
}

export interface ItemResult {
  id: string;
  subject: string;
  metrics: Record<string, number>;
  /** what the model answered and what was expected, for reports and debugging */
  details: Record<string, unknown>;
}

export interface ScoreContext {
  sandbox?: Sandbox;
}

/** the answer a model that knows it would give */
export type Gold =
  | { type: 'loglikelihood'; context: string; continuation: string }
  | { type: 'rolling'; text: string }
  | { type: 'generate'; context: string; output: string };

export interface Task<D extends Doc = Doc> {
  /** benchmark name (mmlu, cmmlu, ceval, gsm8k, math, humaneval) */
  name: string;
  /** which protocol rendered the prompts and scored them */
  protocol: string;
  /** one sentence for every report: prompt format, few-shot count and source, scoring rule */
  scoring: string;
  /** metric names; the first is the headline */
  metrics: string[];
  docs: D[];
  /** category of a subject, for group averages (none when the benchmark has no categories) */
  category?(subject: string): string | undefined;
  requests(doc: D): Request[];
  score(doc: D, responses: Response[], ctx: ScoreContext): ItemResult | Promise<ItemResult>;
  gold(doc: D): Gold[];
  /** facts about the data a report should carry (e.g. contradictory duplicate questions) */
  notes?: string[];
  /** needs to run model-written code */
  needsSandbox?: boolean;
}

export const LETTERS = ['A', 'B', 'C', 'D'];
