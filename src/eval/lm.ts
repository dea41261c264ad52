/**
 * Models behind three request types, as lm-evaluation-harness defines them:
 * log-likelihood of a continuation, rolling log-likelihood of a whole text, and generation
 * until a stop string. Tasks only ever talk to this interface.
 */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}
export interface LoglikelihoodResult {
  /** summed natural-log probability of the continuation's tokens */
  logprob: number;
  /** every continuation token was the arg-max */
  isGreedy: boolean;
  /** number of continuation tokens scored */
  tokens: number;
}
export interface RollingRequest {
  text: string;
}
export interface RollingResult {
  /** summed natural-log probability of every token of the text */
  logprob: number;
  tokens: number;
}
export interface GenerateRequest {
  context: string;
  /** stop strings: the output is cut before the first one */
  until: string[];
  maxTokens: number;
  /** 0 = greedy */
  temperature?: number;
  topP?: number;
  seed?: number;
}

export interface LM {
  /** what the reports call this model */
  readonly name: string;
  /** changes whenever the model's answers could change (weights, tokenizer, settings): part of every cache key */
  readonly fingerprint: string;
  /** can it score prompts (false for servers that return no prompt log-probabilities) */
  readonly canScore: boolean;
  loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]>;
  loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]>;
  generateUntil(reqs: GenerateRequest[]): Promise<string[]>;
  close?(): Promise<void>;
}

/** a failure that names the task and the item it happened on */
export class EvalError extends Error {
  constructor(message: string, readonly itemId?: string) {
    super(message);
  }
}

/** cuts text before the first occurrence of any stop string */
export function cutAtStop(text: string, until: readonly string[]): { text: string; stopped: boolean } {
  let cut = -1;
  for (const s of until) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/**
 * lm-evaluation-harness's `_encode_pair` rule: trailing whitespace of the context moves to the
 * start of the continuation, so that " A" is scored as one unit whatever the prompt ends with.
 */
export function movedWhitespace(context: string, continuation: string): { context: string; continuation: string } {
  const n = context.length - context.trimEnd().length;
  if (n === 0) return { context, continuation };
  return { context: context.slice(0, context.length - n), continuation: context.slice(context.length - n) + continuation };
}
