/**
 * HumanEval: the prompt as it is (0-shot), completions cut at the Codex stop sequences, the
 * program prompt + completion + test + check(entry_point) run in the sandbox, and pass@k by
 * the unbiased estimator. One greedy sample gives pass@1; n >= 10 samples at a temperature
 * (seeded, so reruns hit the cache) give pass@1 and pass@10.
 */
import type { HumanEvalDoc } from '../data.js';
import { passAtK } from '../metrics.js';
import type { Gold, ItemResult, Request, Response, ScoreContext, Task } from '../task.js';

export const HUMANEVAL_STOP = ['\nclass', '\ndef', '\n#', '\nif', '\nprint'];

export function humanevalProgram(d: HumanEvalDoc, completion: string): string {
  return `${d.prompt}${completion}\n${d.test}\ncheck(${d.entryPoint})\n`;
}

export function humanevalTask(docs: HumanEvalDoc[], o: { samples?: number; temperature?: number; maxTokens?: number; timeoutMs?: number } = {}): Task<HumanEvalDoc & { subject: string }> {
  const n = o.samples ?? 1;
  const temperature = n === 1 ? (o.temperature ?? 0) : (o.temperature ?? 0.8);
  const maxTokens = o.maxTokens ?? 512;
  const ks = [1, 10].filter((k) => k <= n);
  return {
    name: 'humaneval',
    protocol: 'codex',
    scoring: `HumanEval prompt 0-shot, ${n} sample${n > 1 ? 's' : ''} per problem (${temperature === 0 ? 'greedy' : `temperature ${temperature}, top-p 0.95`}), stop at ${HUMANEVAL_STOP.map((s) => JSON.stringify(s)).join(' ')} (at most ${maxTokens} tokens), programs run in the sandbox; pass@${ks.join(', pass@')} by the unbiased estimator`,
    metrics: ks.map((k) => `pass@${k}`),
    docs: docs.map((d) => ({ ...d, subject: 'humaneval' })),
    needsSandbox: true,
    requests(d): Request[] {
      return Array.from({ length: n }, (_, i): Request => ({ type: 'generate', context: d.prompt, until: HUMANEVAL_STOP, maxTokens, temperature, topP: 0.95, seed: i + 1 }));
    },
    async score(d, res: Response[], ctx: ScoreContext): Promise<ItemResult> {
      if (!ctx.sandbox) throw new Error('humaneval needs a sandbox to run programs');
      const runs = [];
      for (const c of res as string[]) runs.push(await ctx.sandbox.run(humanevalProgram(d, c)));
      const c = runs.filter((r) => r.status === 'passed').length;
      const metrics: Record<string, number> = {};
      for (const k of ks) metrics[`pass@${k}`] = passAtK(n, c, k);
      return { id: d.id, subject: 'humaneval', metrics, details: { passed: c, samples: n, results: runs.map((r) => r.status === 'failed' ? `failed: ${r.reason}` : r.status), completion: res[0] } };
    },
    gold(d): Gold[] {
      return [{ type: 'generate', context: d.prompt, output: d.canonical }];
    },
  };
}
