/** `ziya laws run|fit|recommend`: data-centric scaling laws (src/laws). */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadLawsRecipe, runLaws } from '../laws/experiment.js';
import { fitChinchilla, fitZiya2, type FitResult } from '../laws/fit.js';
import { recommend, type Source } from '../laws/mixture.js';
import { constantsTable, scatter } from '../laws/report.js';

function readPoints<T>(file: string): T[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as T;
    } catch {
      throw new Error(`${file}:${i + 1}: not a JSON object`);
    }
  });
}

function show(f: FitResult): string {
  return Object.entries(f.intervals).map(([k, v]) => `${k.padEnd(6)} ${v.value.toPrecision(4).padStart(12)}   [${v.lo.toPrecision(4)}, ${v.hi.toPrecision(4)}]`).join('\n') + `\nRMS log error ${f.rmseLog.toPrecision(3)}; ${f.starts} starts, ${f.bootstrap} bootstrap resamples, ${f.seconds.toFixed(1)} s`;
}

export function lawsCommands(prog: Command): void {
  const l = prog.command('laws').description('data-centric scaling laws: experiments, fits, mixture recommendations');
  l.command('run')
    .description('train proxy models on data slices, record (CH, RA, SIM, V, loss), fit the Ziya2 law, check held-out mixtures')
    .argument('<recipe>', 'laws recipe (YAML)')
    .option('--out <dir>', 'output folder', 'runs/laws')
    .action(async (file: string, o: { out: string }) => {
      const r = await runLaws(loadLawsRecipe(file), o.out);
      process.stdout.write(`${Object.entries(r.perTask).map(([t, f]) => `${t}:\n${show(f)}`).join('\n')}\nall tasks:\n${show(r.fit)}\n${r.heldout.map((h) => `held-out ${h.name} / ${h.task}: observed ${h.observed.toFixed(4)}, predicted ${h.predicted.toFixed(4)} (${(100 * h.error).toFixed(2)}%)`).join('\n')}\nreport: ${o.out}/laws.html\n`);
    });
  l.command('fit')
    .description('fit a law to points in JSONL: {CH, RA, SIM, V, L} (ziya2) or {N, D, L} (chinchilla)')
    .argument('<points>', 'points.jsonl')
    .option('--law <law>', 'ziya2 or chinchilla', 'ziya2')
    .option('--bootstrap <n>', 'bootstrap resamples', (v) => parseInt(v, 10), 200)
    .option('--html <file>', 'write a report')
    .action((file: string, o: { law: string; bootstrap: number; html?: string }) => {
      const f = o.law === 'chinchilla' ? fitChinchilla(readPoints(file), { bootstrap: o.bootstrap }) : fitZiya2(readPoints(file), { bootstrap: o.bootstrap });
      process.stdout.write(show(f) + '\n');
      if (o.html) writeFileSync(o.html, `<!doctype html><meta charset="utf-8"><title>fit</title><h1>${o.law} fit of ${file}</h1>${constantsTable(f)}${scatter('predicted against observed', f.residuals)}`);
    });
  l.command('recommend')
    .description("the mixture with the lowest predicted loss under a token budget (a laws run's constants and sources)")
    .argument('<laws.json>', 'output of ziya laws run')
    .requiredOption('--budget <tokens>', 'tokens to train', Number)
    .option('--max-epochs <n>', 'most repetitions of a source', Number, 4)
    .option('--task <name>', 'task whose similarity counts (default: the first)')
    .action((file: string, o: { budget: number; maxEpochs: number; task?: string }) => {
      const r = JSON.parse(readFileSync(file, 'utf8')) as { fit: FitResult; slices: { name: string; tokens: number; CH: number; RA: number; SIM: Record<string, number> }[] };
      const task = o.task ?? Object.keys(r.slices[0]!.SIM)[0]!;
      const sources: Source[] = r.slices.map((s) => ({ name: s.name, CH: s.CH, RA: s.RA, SIM: s.SIM[task] ?? 0, tokens: s.tokens }));
      const rec = recommend(r.fit.constants as never, sources, o.budget, { maxEpochs: o.maxEpochs });
      for (const s of sources) process.stdout.write(`${s.name.padEnd(24)} ${(100 * rec.shares[s.name]!).toFixed(1).padStart(5)}%  ${rec.epochs[s.name]!.toFixed(2)} epochs\n`);
      process.stdout.write(`predicted loss ${rec.predictedLoss.toFixed(4)}\n`);
    });
}
