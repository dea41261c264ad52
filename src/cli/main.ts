/** The `ziya` command: a thin layer over the library. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runUntilPass } from '../dataeval/loop.js';
import { runGate, GateError } from '../dataeval/gate.js';
import { gateHtml } from '../dataeval/report.js';
import { startUi } from '../ui/server.js';
import { Command, CommanderError } from 'commander';
import { loadRecipe, RecipeError, resolveFrom } from '../factory/recipe.js';
import type { ShardStats } from '../core/stats.js';
import { runFactory, RunMismatchError } from '../factory/executor.js';
import { KneserNeyError } from '../lm/kneser-ney.js';
import { KneserNeyDiskError } from '../lm/kneser-ney-disk.js';
import { runFactorySlurm, SlurmError, taskItems } from '../factory/slurm.js';
import { formatStatus, runStatus } from '../factory/status.js';
import { runItem } from '../factory/stages.js';
import { STEP_ABOUT, STEP_TYPES } from '../factory/registry.js';
import { DOC_RULES } from '../factory/filter/doc-rules.js';
import { PARA_RULES, LINE_RULES } from '../factory/filter/cut-rules.js';
import { htmlToText } from '../io/html.js';
import { identifyLanguage } from '../factory/preprocess/langid.js';
import { runMainJob } from './mainjob.js';
import { tokenizerCommands } from './tokenizer.js';
import { lmCommands } from './lm.js';
import { modelCommands } from './model.js';
import { dataCommands } from './data.js';
import { cptCommands } from './cpt.js';
import { evalCommands } from './eval.js';
import { lawsCommands } from './laws.js';
import { LawsError } from '../laws/experiment.js';
import { FitError } from '../laws/fit.js';
import { EvalError } from '../eval/lm.js';
import { DataError } from '../eval/data.js';
import { CsvError } from '../eval/csv.js';
import { IndexedDatasetError } from '../data/indexed.js';
import { CheckpointError } from '../model/config.js';
import { NonFiniteError } from '../tensor/tensor.js';
import { ArpaError } from '../lm/arpa.js';
import { TokenizerFormatError } from '../tokenizer/vocab.js';

function summary(r: { stats: ShardStats; statsFile: string; reportFile: string }): string {
  const s = r.stats;
  const q = Object.values(s.quarantined).reduce((a, b) => a + b, 0);
  return `read ${s.read} records: kept ${s.kept}, dropped ${s.read - s.kept - q}, quarantined ${q}\nstats:  ${r.statsFile}\nreport: ${r.reportFile}`;
}

export function program(): Command {
  const prog = new Command('ziya')
    .description('Ziya-TS: data-centric pre-training after Ziya2 (data factory, tokenizer, trainer, evaluation)')
    .showHelpAfterError()
    .exitOverride();

  prog.command('run')
    .description('the main job: factory with its gate, base model, Chinese extension, three-stage CPT, evaluation, report (embedded default); or a factory recipe; or --plan a full-scale recipe')
    .argument('[recipe]', 'factory recipe, or with --plan a continual pre-training recipe (default: the embedded default end to end)')
    .option('--out <dir>', 'output folder for the embedded default', 'runs/default')
    .option('--force', 'start over when the output folder holds a different run')
    .option('--quick', 'a smaller run (about a seventh of the tokens), as CI runs it')
    .option('--plan', 'check and explain a full-scale recipe (tokens, FLOPs, time) without running it')
    .option('--gpus <n>', 'with --plan: GPUs (default 80, as Ziya2)', (v) => parseInt(v, 10))
    .option('--tflops <n>', 'with --plan: TFLOPS per GPU (default 163, as Ziya2 measured)', Number)
    .action(async (recipe: string | undefined, o: { out: string; force?: boolean; quick?: boolean; plan?: boolean; gpus?: number; tflops?: number }) => {
      await runMainJob({ recipe, out: o.out, force: o.force, quick: o.quick, plan: o.plan, gpus: o.gpus, tflops: o.tflops });
    });

  const factory = prog.command('factory').description('the data factory: preprocessing, filtering, reports');
  factory.command('run')
    .description('run a factory recipe; the same command resumes an interrupted run')
    .argument('<recipe>', 'YAML or JSON recipe')
    .option('--workers <n>', 'worker threads (default: one per core)', (v) => parseInt(v, 10))
    .option('--force', 'delete an existing run of a different recipe or input in the output folder')
    .option('--quiet', 'no progress line')
    .option('--until-pass', 'evaluate with the data gate and tighten the recipe until it passes (re-runs only what changed)')
    .option('--max-iterations <n>', 'gate loop: most iterations', (v) => parseInt(v, 10), 6)
    .option('--gate-limit <share>', 'gate: largest share of unqualified documents that passes', Number, 0.001)
    .option('--gate-fraction <share>', 'gate: fraction of kept documents evaluated', Number, 0.01)
    .option('--gate-min-sample <n>', 'gate: at least this many documents', (v) => parseInt(v, 10), 200)
    .option('--executor <kind>', 'local (worker threads) or slurm (one job array per stage, chained with afterok)', 'local')
    .option('--resume', 'slurm: continue an unfinished run, submitting only what did not finish')
    .option('--partition <name>', 'slurm: partition')
    .option('--time <limit>', 'slurm: time limit per task (sbatch --time, e.g. 2:00:00)')
    .option('--mem <size>', 'slurm: memory per task (sbatch --mem, e.g. 4G)')
    .option('--cpus-per-task <n>', 'slurm: CPUs per task', (v) => parseInt(v, 10))
    .option('--max-parallel <n>', 'slurm: most array tasks of a stage running at once', (v) => parseInt(v, 10))
    .option('--sbatch-arg <arg>', 'slurm: a further sbatch argument, e.g. --sbatch-arg=--qos=low (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--detach', 'slurm: submit and return (follow with ziya factory status)')
    .option('--poll <seconds>', 'slurm: seconds between looks at the queue', Number, 5)
    .action(async (file: string, o: { workers?: number; force?: boolean; quiet?: boolean; untilPass?: boolean; maxIterations: number; gateLimit: number; gateFraction: number; gateMinSample: number; executor: string; resume?: boolean; partition?: string; time?: string; mem?: string; cpusPerTask?: number; maxParallel?: number; sbatchArg: string[]; detach?: boolean; poll: number }) => {
      const recipe = loadRecipe(file);
      if (o.executor !== 'local' && o.executor !== 'slurm') throw new RecipeError(`--executor: "${o.executor}" is not an executor (local, slurm)`);
      if (o.executor === 'slurm') {
        if (o.untilPass) throw new RecipeError('--until-pass runs on the local executor only');
        const r = await runFactorySlurm(recipe, { force: o.force, quiet: o.quiet, resume: o.resume, partition: o.partition, time: o.time, mem: o.mem, cpusPerTask: o.cpusPerTask, maxParallel: o.maxParallel, sbatchArgs: o.sbatchArg, detach: o.detach, pollSeconds: o.poll });
        if (!r.stats) process.stdout.write(`submitted; follow with: ziya factory status ${r.outDir}\n`);
        else process.stdout.write(summary({ stats: r.stats, statsFile: r.statsFile!, reportFile: r.reportFile! }) + `\nwall time ${r.seconds.toFixed(1)} s on Slurm\n`);
        return;
      }
      if (o.untilPass) {
        const r = await runUntilPass(recipe, { workers: o.workers, quiet: o.quiet, maxIterations: o.maxIterations, limit: o.gateLimit, fraction: o.gateFraction, minSample: o.gateMinSample });
        const dir = resolve(resolveFrom(recipe.baseDir, recipe.output.dir));
        process.stdout.write(`${r.passed ? 'gate passed' : 'gate did not pass'} after ${r.iterations.length} iteration(s): ${r.stopped}\nfinal output: ${r.final}\nreport: ${dir}/gate.html\ntightened recipe: ${dir}/recipe.tightened.yaml\n`);
        if (!r.passed) process.exitCode = 3;
        return;
      }
      const r = await runFactory(recipe, { workers: o.workers, force: o.force, quiet: o.quiet });
      process.stdout.write(summary(r) + '\n');
    });
  factory.command('gate')
    .description("evaluate a finished run's output with the data gate (automatic metrics on a sample)")
    .argument('<dir>', 'factory output folder')
    .option('--limit <share>', 'largest share of unqualified documents that passes', Number, 0.001)
    .option('--fraction <share>', 'fraction of kept documents evaluated', Number, 0.01)
    .option('--min-sample <n>', 'at least this many documents', (v) => parseInt(v, 10), 200)
    .action(async (dir: string, o: { limit: number; fraction: number; minSample: number }) => {
      const g = await runGate(dir, { limit: o.limit, fraction: o.fraction, minSample: o.minSample });
      writeFileSync(join(dir, 'gate-single.html'), gateHtml(g));
      process.stdout.write(`${g.pass ? 'PASS' : 'FAIL'}: ${g.unqualified} of ${g.sampled} sampled documents unqualified (${(100 * g.share).toFixed(3)}%, limit ${(100 * g.limit).toFixed(3)}%)\n`);
      for (const [m, x] of Object.entries(g.metrics)) if (x.failed) process.stdout.write(`  ${m}: ${x.failed} (${x.examples.map((e) => e.id).join(', ')})\n`);
      process.stdout.write(`report: ${join(dir, 'gate-single.html')}\n`);
      if (!g.pass) process.exitCode = 3;
    });
  factory.command('status')
    .description('the state of every stage and shard of a run (with the Slurm queue for a Slurm run)')
    .argument('<dir>', 'factory output folder')
    .option('--json', 'as JSON')
    .action((dir: string, o: { json?: boolean }) => {
      const st = runStatus(dir);
      process.stdout.write((o.json ? JSON.stringify(st, null, 1) : formatStatus(st)) + '\n');
      if (!st.finished) process.exitCode = 4;
    });
  factory.command('slurm-task', { hidden: true })
    .description('run the items of one array task of a stage (what the Slurm executor\'s sbatch scripts call)')
    .argument('<dir>', 'factory output folder')
    .requiredOption('--stage <name>', 'stage name (p0-observe, p0-tasks, p0-combine, write, finalize)')
    .requiredOption('--items <file>', 'the items file of the submission')
    .option('--per-task <n>', 'items per array task', (v) => parseInt(v, 10), 1)
    .option('--index <i>', 'array task index (default: $SLURM_ARRAY_TASK_ID, or 0)', (v) => parseInt(v, 10))
    .action(async (dir: string, o: { stage: string; items: string; perTask: number; index?: number }) => {
      const index = o.index ?? Number(process.env.SLURM_ARRAY_TASK_ID ?? 0);
      for (const item of taskItems(o.items, o.perTask, index)) await runItem(dir, o.stage, item);
    });
  factory.command('check')
    .description('validate a recipe against the schema and print the resolved steps')
    .argument('<recipe>', 'YAML or JSON recipe')
    .action((file: string) => {
      const r = loadRecipe(file);
      process.stdout.write(`${file}: ok (${r.steps.length} steps: ${r.steps.map((s) => s.name ?? s.type).join(' → ')})\n`);
    });
  factory.command('steps')
    .description('list step types and every filtering rule with its defaults')
    .action(() => {
      const lines = STEP_TYPES.map((t) => `  ${t.padEnd(16)} ${STEP_ABOUT[t]}`);
      const rules = (title: string, list: { name: string; params: Record<string, number>; about: string }[]) =>
        [`${title}:`, ...list.map((r) => `  ${r.name.padEnd(26)} ${r.about}${Object.keys(r.params).length ? ` [${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(', ')}]` : ''}`)];
      process.stdout.write([ 'steps:', ...lines, ...rules('document rules (doc_filter)', DOC_RULES), ...rules('paragraph rules (para_filter)', PARA_RULES), ...rules('line and sentence rules (sentence_filter)', LINE_RULES)].join('\n') + '\n');
    });

  tokenizerCommands(prog);
  lmCommands(prog);
  modelCommands(prog);
  dataCommands(prog);
  cptCommands(prog);
  evalCommands(prog);
  lawsCommands(prog);

  prog.command('ui')
    .description('the web app: human evaluation of factory runs and a dashboard of runs, training and evaluations')
    .option('--root <dir>', 'folder searched for runs', 'runs')
    .option('--host <host>', 'address to listen on (anything but loopback requires an access token)', '127.0.0.1')
    .option('--port <n>', 'port', (v) => parseInt(v, 10), 8787)
    .option('--token <token>', 'access token (generated when the host is not loopback)')
    .option('--sample <n>', 'documents drawn for human evaluation', (v) => parseInt(v, 10), 1000)
    .action(async (o: { root: string; host: string; port: number; token?: string; sample: number }) => {
      const ui = await startUi({ root: o.root, host: o.host, port: o.port, token: o.token, sampleSize: o.sample });
      process.stdout.write(`ziya ui: ${ui.url}${ui.token ? `?token=${ui.token}` : ''} (runs under ${resolve(o.root)}; Ctrl-C stops)\n`);
      await new Promise(() => undefined);
    });

  prog.command('html')
    .description('extract the main text of an HTML file')
    .argument('<file>', 'HTML file')
    .action((file: string) => {
      process.stdout.write(htmlToText(readFileSync(file, 'utf8')) + '\n');
    });

  prog.command('langid')
    .description('identify the language of each line of a file (or stdin)')
    .argument('[file]', 'text file, one document per line (default: stdin)')
    .action((file: string | undefined) => {
      const text = readFileSync(file ?? 0, 'utf8');
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const g = identifyLanguage(line);
        process.stdout.write(`${g.language}\t${g.score.toFixed(3)}\t${line.slice(0, 60)}\n`);
      }
    });
  return prog;
}

export async function run(argv: string[]): Promise<number> {
  const prog = program();
  try {
    await prog.parseAsync(argv, { from: 'user' });
    // commands report a verdict (gate failed, run unfinished) through process.exitCode
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof RecipeError || e instanceof RunMismatchError || e instanceof SlurmError || e instanceof TokenizerFormatError || e instanceof ArpaError || e instanceof KneserNeyError || e instanceof KneserNeyDiskError || e instanceof CheckpointError || e instanceof NonFiniteError || e instanceof IndexedDatasetError || e instanceof EvalError || e instanceof LawsError || e instanceof FitError || e instanceof GateError || e instanceof DataError || e instanceof CsvError) {
      process.stderr.write(`ziya: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`ziya: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
