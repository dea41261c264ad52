/**
 * Any OpenAI-compatible completions server (/v1/completions): llama.cpp's server, vLLM, TGI,
 * our own `ziya eval serve`. Scoring sends the text with echo and logprobs and reads the
 * prompt's token log-probabilities back, split at the context by the tokens' text offsets;
 * a server that returns log-probabilities only for generated tokens is refused with a clear
 * error (never scored at chance). Retries with exponential back-off on network errors, 429 and
 * 5xx; every failure message names the server.
 */
import { cutAtStop, EvalError, movedWhitespace, type GenerateRequest, type LM, type LoglikelihoodRequest, type LoglikelihoodResult, type RollingRequest, type RollingResult } from '../lm.js';

export interface OpenAIOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  retries?: number;
  /** first back-off in ms (doubles each retry, at most 10 s) */
  backoffMs?: number;
  /** false when the server is known to return no prompt log-probabilities */
  scoring?: boolean;
}

interface Logprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[] | null;
  text_offset?: number[];
}
interface Completion {
  choices?: { text?: string; logprobs?: Logprobs | null; finish_reason?: string }[];
  error?: { message?: string };
}

export class OpenAICompletionsLM implements LM {
  readonly name: string;
  readonly fingerprint: string;
  readonly canScore: boolean;
  private url: string;
  constructor(readonly o: OpenAIOptions) {
    this.url = o.baseUrl.replace(/\/+$/, '') + (/\/v1$/.test(o.baseUrl.replace(/\/+$/, '')) ? '' : '/v1') + '/completions';
    this.name = `OpenAI-compatible server ${o.baseUrl} (model ${o.model})`;
    this.fingerprint = `openai:${o.baseUrl}:${o.model}`;
    this.canScore = o.scoring ?? true;
  }

  private async post(body: Record<string, unknown>): Promise<Completion> {
    const retries = this.o.retries ?? 3;
    let wait = this.o.backoffMs ?? 1000;
    let lastErr = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 10000);
      }
      let res: Response;
      try {
        res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
          body: JSON.stringify({ model: this.o.model, ...body }),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 300000),
        });
      } catch (e) {
        const err = e as Error;
        lastErr = err.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs ?? 300000} ms` : `${err.message}${(err as { cause?: Error }).cause ? ` (${(err as { cause?: Error }).cause!.message})` : ''}`;
        continue;
      }
      const text = await res.text();
      if (res.status === 429 || res.status >= 500) {
        lastErr = `HTTP ${res.status}: ${text.slice(0, 300)}`;
        continue;
      }
      if (!res.ok) throw new EvalError(`${this.url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
      try {
        return JSON.parse(text) as Completion;
      } catch {
        throw new EvalError(`${this.url}: the answer is not JSON: ${text.slice(0, 200)}`);
      }
    }
    throw new EvalError(`${this.url}: ${lastErr} (after ${retries + 1} attempts)`);
  }

  /** echoed prompt log-probabilities, validated */
  private async promptLogprobs(prompt: string): Promise<Required<Pick<Logprobs, 'token_logprobs' | 'text_offset'>> & Logprobs> {
    const maxTokens = 1;
    const r = await this.post({ prompt, max_tokens: maxTokens, temperature: 0, logprobs: 1, echo: true, seed: 1234 });
    const lp = r.choices?.[0]?.logprobs;
    const n = lp?.token_logprobs?.length ?? 0;
    if (!lp || !lp.token_logprobs || !lp.text_offset || n <= maxTokens || lp.text_offset.length !== n) {
      throw new EvalError(`${this.url} returned no log-probabilities for the prompt (echo with logprobs gave ${n} values for a ${maxTokens}-token completion); multiple-choice tasks cannot be scored with this server`);
    }
    return lp as Required<Pick<Logprobs, 'token_logprobs' | 'text_offset'>> & Logprobs;
  }

  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const out: LoglikelihoodResult[] = [];
    for (const r of reqs) {
      const m = movedWhitespace(r.context, r.continuation);
      const prompt = m.context + m.continuation;
      const lp = await this.promptLogprobs(prompt);
      let sum = 0, n = 0, greedy = true;
      lp.text_offset.forEach((off, i) => {
        if (off < m.context.length || off >= prompt.length) return;
        const v = lp.token_logprobs[i];
        if (v === null || v === undefined) return;
        sum += v;
        n++;
        const top = lp.top_logprobs?.[i];
        if (top && Object.values(top).some((x) => x > v + 1e-6)) greedy = false;
      });
      if (n === 0) throw new EvalError(`${this.url}: no token of the continuation ${JSON.stringify(m.continuation)} starts after the context`);
      out.push({ logprob: sum, isGreedy: greedy, tokens: n });
    }
    return out;
  }

  async loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]> {
    const out: RollingResult[] = [];
    for (const r of reqs) {
      const lp = await this.promptLogprobs(r.text);
      let sum = 0, n = 0;
      lp.text_offset.forEach((off, i) => {
        const v = lp.token_logprobs[i];
        if (off >= r.text.length || v === null || v === undefined) return;
        sum += v;
        n++;
      });
      out.push({ logprob: sum, tokens: n });
    }
    return out;
  }

  async generateUntil(reqs: GenerateRequest[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of reqs) {
      const res = await this.post({ prompt: r.context, max_tokens: r.maxTokens, temperature: r.temperature ?? 0, top_p: r.topP ?? 1, stop: r.until.filter(Boolean).slice(0, 4), seed: r.seed ?? 1234 });
      const text = res.choices?.[0]?.text;
      if (typeof text !== 'string') throw new EvalError(`${this.url}: the answer holds no choices[0].text`);
      out.push(cutAtStop(text, r.until).text);
    }
    return out;
  }
}
