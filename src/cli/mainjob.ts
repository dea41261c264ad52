/** `ziya run`: the main job (src/mainjob) on the embedded default, a factory recipe, or a full-scale plan. */
import { loadRecipe } from '../factory/recipe.js';
import { runFactory } from '../factory/executor.js';
import { runMainJob as runPipeline } from '../mainjob/pipeline.js';
import { planRecipe } from '../mainjob/plan.js';

export async function runMainJob(o: { recipe?: string; out: string; force?: boolean; plan?: boolean; quick?: boolean; gpus?: number; tflops?: number }): Promise<void> {
  if (o.plan) {
    if (!o.recipe) throw new Error('--plan needs a continual pre-training recipe, e.g. recipes/ziya2-13b.yaml');
    process.stdout.write(planRecipe(o.recipe, { gpus: o.gpus, tflopsPerGpu: o.tflops }) + '\n');
    return;
  }
  if (o.recipe) {
    // a factory recipe on its own
    const r = await runFactory(loadRecipe(o.recipe), { force: o.force });
    const s = r.stats;
    const q = Object.values(s.quarantined).reduce((a, b) => a + b, 0);
    process.stdout.write(`factory: read ${s.read} records → kept ${s.kept}, dropped ${s.read - s.kept - q}, quarantined ${q}\nreport: ${r.reportFile}\n`);
    return;
  }
  const res = await runPipeline({ out: o.out, quick: o.quick, force: o.force });
  process.stdout.write(`main job finished in ${(res.seconds / 60).toFixed(1)} minutes\n`);
  for (const e of res.evals) process.stdout.write(`  ${e.stage.padEnd(12)} ${e.results.map((r) => `${r.task} ${(100 * r.overall[r.metrics[0]!]!.micro.mean).toFixed(1)}%`).join(', ')}\n`);
  process.stdout.write(`report: ${res.report}\n`);
}
