/**
 * MATH (the MATH-500 set by default) as lm-evaluation-harness's minerva_math: the four Minerva
 * exemplars ("Problem:\n…\n\nSolution: …", joined by blank lines), greedy until "Problem:", the
 * answer read from "Final Answer: The final answer is X. I hope it is correct.", normalised as
 * Minerva does and checked for equivalence (math-equiv.ts). A second figure applies
 * Hendrycks' is_equiv to the last \boxed{} of the output (or the final-answer line).
 */
import { lastBoxed, type MathDoc } from '../data.js';
import type { Gold, ItemResult, Request, Response, Task } from '../task.js';
import { hendrycksEquiv, isEquivalent, minervaExtract } from './math-equiv.js';
import { MINERVA_FEWSHOT } from './subjects.js';

export function minervaPrompt(problem: string, shots = 4): string {
  const ex = MINERVA_FEWSHOT.slice(0, shots).map((e) => `Problem:\n${e.problem}\n\nSolution: ${e.solution}\n\n`).join('');
  return `${ex}Problem:\n${problem}\n\nSolution:`;
}

export function mathTask(docs: MathDoc[], o: { shots?: number; maxTokens?: number } = {}): Task<MathDoc> {
  const k = o.shots ?? 4;
  if (k > MINERVA_FEWSHOT.length) throw new Error(`math: at most ${MINERVA_FEWSHOT.length} Minerva exemplars`);
  const maxTokens = o.maxTokens ?? 512;
  return {
    name: 'math',
    protocol: 'minerva',
    scoring: `lm-evaluation-harness minerva_math prompt, ${k}-shot (the Minerva exemplars), greedy until "Problem:" (at most ${maxTokens} tokens); exact_match = Minerva-normalised final answer equal or numerically equivalent (no SymPy); boxed = Hendrycks is_equiv on the last \\boxed{}`,
    metrics: ['exact_match', 'boxed'],
    docs,
    category: (s) => s,
    requests(d): Request[] {
      return [{ type: 'generate', context: minervaPrompt(d.problem, k), until: ['Problem:'], maxTokens }];
    },
    score(d, res: Response[]): ItemResult {
      const out = res[0] as string;
      const pred = minervaExtract(out);
      const boxed = lastBoxed(out) ?? (pred === '[invalidanswer]' ? null : pred);
      return {
        id: d.id,
        subject: d.subject,
        metrics: { exact_match: pred !== '[invalidanswer]' && isEquivalent(pred, d.answer) ? 1 : 0, boxed: hendrycksEquiv(boxed, d.answer) ? 1 : 0 },
        details: { gold: d.answer, pred, boxed, output: out },
      };
    },
    gold(d): Gold[] {
      return [{ type: 'generate', context: minervaPrompt(d.problem, k), output: ` The answer is $\\boxed{${d.answer}}$.\nFinal Answer: The final answer is $${d.answer}$. I hope it is correct.\n\n` }];
    },
  };
}
