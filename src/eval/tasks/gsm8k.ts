/**
 * GSM8K as lm-evaluation-harness's `gsm8k` task: k-shot chain of thought from the train split
 * ("Question: …\nAnswer: <reference solution>"), greedy generation until "Question:", and two
 * answer extractions, both reported: strict ("#### N", or "The answer is N") and flexible (the
 * last number in the output). Both sides pass the harness's normalisation (commas, "$", a
 * trailing period and everything up to "#### " removed; case ignored) before comparison.
 */
import type { Gsm8kDoc } from '../data.js';
import type { Gold, ItemResult, Request, Response, Task } from '../task.js';

export const GSM8K_UNTIL = ['Question:', '</s>', '<|im_end|>'];

export function gsm8kPrompt(shots: Gsm8kDoc[], d: Gsm8kDoc): string {
  return shots.map((s) => `Question: ${s.question}\nAnswer: ${s.answer}\n\n`).join('') + `Question: ${d.question}\nAnswer:`;
}

/** "#### N" first, then "The answer is N." (gsm8k-cot's strict pattern); "[invalid]" when neither */
export function strictExtract(text: string): string {
  const m = /#### (-?[0-9.,]+)/.exec(text) ?? /The answer is (-?[0-9.,]+)\./.exec(text);
  return m ? m[1]!.trim() : '[invalid]';
}

/** the harness's flexible-extract: last match of (-?[$0-9.,]{2,})|(-?[0-9]+), first non-empty group */
export function flexibleExtract(text: string): string {
  const re = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  if (!last) return '[invalid]';
  return (last[1] || last[2] || '').trim();
}

/** exact_match's normalisation with the task's regexes_to_ignore and ignore_case */
export function normalizeNumber(s: string): string {
  return s.replace(/,/g, '').replace(/\$/g, '').replace(/[\s\S]*#### /, '').replace(/\.$/, '').toLowerCase();
}

export function gsm8kTask(docs: Gsm8kDoc[], train: Gsm8kDoc[], o: { shots?: number; maxTokens?: number } = {}): Task<Gsm8kDoc & { subject: string }> {
  const k = o.shots ?? 5;
  if (train.length < k) throw new Error(`gsm8k: ${k}-shot needs ${k} train questions, found ${train.length}`);
  const shots = train.slice(0, k);
  const maxTokens = o.maxTokens ?? 256;
  return {
    name: 'gsm8k',
    protocol: 'lm-eval',
    scoring: `lm-evaluation-harness gsm8k prompt ("Question: …\\nAnswer:"), ${k}-shot chain of thought (first ${k} train solutions), greedy until "Question:" (at most ${maxTokens} tokens); strict = "#### N" or "The answer is N", flexible = last number; exact match after the harness's normalisation`,
    metrics: ['strict', 'flexible'],
    docs: docs.map((d) => ({ ...d, subject: 'gsm8k' })),
    requests(d): Request[] {
      return [{ type: 'generate', context: gsm8kPrompt(shots, d), until: GSM8K_UNTIL, maxTokens }];
    },
    score(d, res: Response[]): ItemResult {
      const out = res[0] as string;
      const gold = normalizeNumber(d.answer);
      const strict = strictExtract(out), flex = flexibleExtract(out);
      return {
        id: d.id,
        subject: 'gsm8k',
        metrics: { strict: normalizeNumber(strict) === gold ? 1 : 0, flexible: normalizeNumber(flex) === gold ? 1 : 0 },
        details: { gold, strict, flexible: flex, output: out },
      };
    },
    gold(d): Gold[] {
      return [{ type: 'generate', context: gsm8kPrompt(shots, d), output: ` ${d.answer}\n\n` }];
    },
  };
}
