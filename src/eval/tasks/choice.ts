/**
 * A generic multiple-choice task for data a project makes itself: a context and its options,
 * each option's continuation scored by summed log-likelihood (acc) and per character (acc_norm),
 * as lm-evaluation-harness's multiple_choice output type does.
 */
import type { LoglikelihoodResult } from '../lm.js';
import type { Gold, ItemResult, Request, Response, Task } from '../task.js';

export interface ChoiceDoc {
  id: string;
  subject: string;
  context: string;
  choices: string[];
  answer: number;
}

export function choiceTask(name: string, docs: ChoiceDoc[], scoring: string): Task<ChoiceDoc> {
  const argmax = (xs: number[]) => xs.reduce((b, x, i) => (x > xs[b]! ? i : b), 0);
  return {
    name,
    protocol: 'choice',
    scoring: `${scoring}; each option scored per character (acc_norm, the headline: options differ in length) and by summed log-likelihood (acc)`,
    metrics: ['acc_norm', 'acc'],
    docs,
    requests(d): Request[] {
      return d.choices.map((c) => ({ type: 'loglikelihood', context: d.context, continuation: c }));
    },
    score(d, res: Response[]): ItemResult {
      const ll = res as LoglikelihoodResult[];
      const pred = argmax(ll.map((r) => r.logprob)), predNorm = argmax(ll.map((r, i) => r.logprob / Math.max(1, d.choices[i]!.length)));
      return { id: d.id, subject: d.subject, metrics: { acc: pred === d.answer ? 1 : 0, acc_norm: predNorm === d.answer ? 1 : 0 }, details: { gold: d.answer, pred } };
    },
    gold(d): Gold[] {
      return [{ type: 'loglikelihood', context: d.context, continuation: d.choices[d.answer]! }];
    },
  };
}
