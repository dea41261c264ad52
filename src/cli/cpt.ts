/** `ziya cpt run|check`: continual pre-training in stages (src/train/cpt). */
import type { Command } from 'commander';
import { loadCptRecipe, stageShares } from '../train/cpt/recipe.js';
import { runCpt, reportMarkdown } from '../train/cpt/run.js';
import { exportMegatron } from '../train/cpt/export.js';
import { loadModel, saveModel } from '../model/load.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { FloatDtype } from '../model/formats/safetensors.js';

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
  const e = prog.command('export').description('hand data and models to Megatron-LM, Hugging Face and llama.cpp');
  e.command('megatron')
    .description('token files (.bin/.idx) for every source of a CPT recipe and one pretrain_gpt.py launch script per stage')
    .argument('<recipe>', 'continual pre-training recipe')
    .requiredOption('--out <dir>', 'output folder')
    .option('--tp <n>', 'tensor parallel size', (v) => Number(v), 1)
    .option('--pp <n>', 'pipeline parallel size', (v) => Number(v), 2)
    .option('--global-batch-tokens <n>', "tokens per global batch (default: the recipe's batch x accumulate sequences)", (v) => Number(v))
    .option('--dry-run', 'write the scripts only, not the token files')
    .action(async (file: string, o: { out: string; tp: number; pp: number; globalBatchTokens?: number; dryRun?: boolean }) => {
      const res = await exportMegatron(loadCptRecipe(file), { out: o.out, tp: o.tp, pp: o.pp, globalBatchTokens: o.globalBatchTokens, dryRun: o.dryRun });
      for (const d of res.datasets) if (!o.dryRun) process.stdout.write(`${d.prefix}.{bin,idx}: ${d.documents} documents, ${d.tokens.toLocaleString('en-US')} tokens\n`);
      for (const s of res.scripts) process.stdout.write(s + '\n');
    });
  for (const [fmt, what] of [['hf', 'a Hugging Face folder (config.json + safetensors)'], ['gguf', 'a GGUF file for llama.cpp']] as const)
    e.command(fmt)
      .description(`a trained checkpoint as ${what}`)
      .argument('<input>', 'checkpoint (llama2.c .bin, HF folder, .gguf)')
      .argument('<output>', 'output path')
      .option('--dtype <type>', 'F32, F16 or BF16', 'F32')
      .option('--tokenizer <file>', 'vocabulary (needed for GGUF)')
      .action((input: string, output: string, o: { dtype: string; tokenizer?: string }) => {
        const { model, vocab } = loadModel(input);
        const v = o.tokenizer ? loadTokenizer(o.tokenizer).vocab : vocab ?? undefined;
        for (const f of saveModel(model, output, { format: fmt, dtype: o.dtype as FloatDtype, vocab: v })) process.stdout.write(f + '\n');
      });
  c.command('check')
    .description('validate a recipe and print its stages')
    .argument('<recipe>', 'YAML or JSON recipe')
    .action((file: string) => {
      const r = loadCptRecipe(file);
      for (const s of r.stages) {
        const w = stageShares(s).map((c) => [c.name, c.share] as const);
        const tot = 1;
        process.stdout.write(`${s.name}: ${s.tokens.toLocaleString('en-US')} tokens = ${Math.floor(s.tokens / (r.batch * r.accumulate * r.seqLen))} steps of ${r.batch}${r.accumulate > 1 ? ` x ${r.accumulate}` : ''} x ${r.seqLen}; ${w.map(([n, x]) => `${n} ${((100 * x) / tot).toFixed(1)}%`).join(', ')}\n`);
      }
    });
}
