/** `ziya cpt run|check`: continual pre-training in stages (src/train/cpt). */
import type { Command } from 'commander';
import { loadCptRecipe } from '../train/cpt/recipe.js';
import { runCpt, reportMarkdown } from '../train/cpt/run.js';

export function cptCommands(prog: Command): void {
  const c = prog.command('cpt').description('continual pre-training in stages with replay (Ziya2 recipe)');
  c.command('run')
    .description('run a continual pre-training recipe (resumes where it stopped)')
    .argument('<recipe>', 'YAML or JSON recipe')
    .requiredOption('--out <dir>', 'run folder (checkpoints, metrics, stage models, report)')
    .option('--no-replay', 'leave out the replay of earlier stages (for comparison)')
    .option('--quiet', 'no progress output')
    .action(async (file: string, o: { out: string; replay: boolean; quiet?: boolean }) => {
      const rep = await runCpt(loadCptRecipe(file), { out: o.out, noReplay: !o.replay, quiet: o.quiet });
      process.stdout.write(reportMarkdown(rep) + `\n${o.out}/report.md\n`);
    });
  c.command('check')
    .description('validate a recipe and print its stages')
    .argument('<recipe>', 'YAML or JSON recipe')
    .action((file: string) => {
      const r = loadCptRecipe(file);
      for (const s of r.stages) {
        const w = [...s.sources.map((x) => [x.name, x.weight] as const), ...Object.entries(s.replay).map(([k, v]) => [`replay:${k}`, v] as const)];
        const tot = w.reduce((a, [, x]) => a + x, 0);
        process.stdout.write(`${s.name}: ${s.tokens.toLocaleString('en-US')} tokens = ${Math.floor(s.tokens / (r.batch * r.seqLen))} steps of ${r.batch} x ${r.seqLen}; ${w.map(([n, x]) => `${n} ${((100 * x) / tot).toFixed(1)}%`).join(', ')}\n`);
      }
    });
}
