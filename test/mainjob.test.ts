// The main job end to end, reduced (--quick: about a seventh of the tokens), as CI runs it: every
// phase on the embedded default and nothing else, the report, the figures each stage should move,
// a second run that resumes everything already done, and the full-scale plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from './helpers.js';
import { spawn } from 'node:child_process';
import { runMainJob, type MainJobResult } from '../src/mainjob/pipeline.js';
import { planRecipe } from '../src/mainjob/plan.js';

let first: MainJobResult | null = null;

test('the main job, reduced: factory with its gate, base model, extension, three stages, evaluation, report; a rerun resumes', async () => {
  const out = tmp('ziya-main-');
  const r = await runMainJob({ out, quick: true, log: () => undefined });
  first = r;
  assert.ok(r.factory.passed, r.factory.stopped);
  assert.ok(r.data.enTrain > 100 && r.data.zhTrain > 100);
  assert.equal(r.cpt.stages.map((s) => s.name).join(','), 'general,supervised,math');
  assert.ok(r.cpt.tokenizer.added >= 1000, `Chinese characters added: ${r.cpt.tokenizer.added}`);
  // the base model learned English from scratch; stage 1 teaches Chinese; stage 3 teaches the arithmetic format
  assert.ok(r.base.stages[0]!.heldout['en']! < r.base.base['en']! - 1);
  assert.ok(r.cpt.stages[0]!.heldout['zh']! < r.cpt.base['zh']! - 2);
  assert.ok(r.cpt.stages[2]!.heldout['math']! < r.cpt.stages[1]!.heldout['math']! - 1);
  assert.deepEqual(r.evals.map((e) => e.stage), ['base', 'general', 'supervised', 'math']);
  for (const e of r.evals) assert.deepEqual(e.results.map((x) => x.task), ['gsm8k', 'poem-next-line', 'sentence-end']);
  assert.equal(r.attributes.length, 4);
  const html = readFileSync(r.report, 'utf8');
  for (const part of ['1. Data factory', 'Evaluation gate', '2. Data attributes per stage', '4. Training', '5. After each stage', 'score (%) per stage']) assert.ok(html.includes(part), part);
  assert.ok(existsSync(join(out, 'base', 'recipe.yaml')) && existsSync(join(out, 'cpt', 'recipe.yaml')), 'the generated recipes are kept');
  // a second run finds every phase done: nothing is trained again, the results are the same
  const t0 = performance.now();
  const again = await runMainJob({ out, quick: true, log: () => undefined });
  assert.ok((performance.now() - t0) / 1000 < r.seconds / 2, `the rerun took ${((performance.now() - t0) / 1000).toFixed(0)} s of ${r.seconds.toFixed(0)}`);
  assert.deepEqual(again.cpt.stages.map((s) => s.heldout), r.cpt.stages.map((s) => s.heldout));
  assert.deepEqual(again.evals.map((e) => e.results.map((x) => x.overall)), r.evals.map((e) => e.results.map((x) => x.overall)));
});

test('the main job killed (SIGKILL) during continual pre-training and started again ends with the uninterrupted run\'s figures', async () => {
  assert.ok(first, 'the uninterrupted run of the first test');
  const out = tmp('ziya-main-kill-');
  const child = spawn(process.execPath, ['bin/ziya.js', 'run', '--quick', '--out', out], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  // kill once the base model is done and the continual pre-training has started
  const t0 = Date.now();
  while (!existsSync(join(out, 'cpt', 'stages', 'general')) && Date.now() - t0 < 600000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(join(out, 'base', 'report.json')) && !existsSync(join(out, 'report.html')), 'killed between the base model and the end');
  const r = await runMainJob({ out, quick: true, log: () => undefined });
  assert.deepEqual(r.base.stages.map((s) => s.heldout), first!.base.stages.map((s) => s.heldout));
  assert.deepEqual(r.cpt.stages.map((s) => s.heldout), first!.cpt.stages.map((s) => s.heldout));
  assert.deepEqual(r.evals.map((e) => e.results.map((x) => x.overall)), first!.evals.map((e) => e.results.map((x) => x.overall)));
});

test('ziya run --plan explains the full-scale recipe: parameters, tokens, FLOPs and time', () => {
  const text = planRecipe('recipes/ziya2-13b.yaml');
  // LLaMA-2-13B with its vocabulary grown by 7,400 to 39,424 rows: 2 x 39,424 x 5,120 embedding and output
  // weights, 40 layers of 4 x 5120^2 attention + 3 x 5120 x 13824 MLP + 2 norms, and the final norm
  const params = 2 * 39424 * 5120 + 40 * (4 * 5120 * 5120 + 3 * 5120 * 13824 + 2 * 5120) + 5120;
  assert.ok(text.includes(`${(params / 1e9).toFixed(2)}B parameters`), text);
  const tokens = 650e9 + 58e9 + 3e9;
  const flops = 6 * params * tokens + 12 * 40 * 5120 * 4096 * tokens;
  assert.ok(text.includes(`${flops.toExponential(2)} FLOPs`), text);
  assert.ok(text.includes(`${(flops / (80 * 163e12) / 86400).toFixed(1)} days on 80 × A100-80G`), text);
});
