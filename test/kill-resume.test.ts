/**
 * The kill-and-resume property: a run killed with SIGKILL at random moments,
 * many times, and started again with the same command each time, ends with
 * exactly the output of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeDemoInput } from '../src/demo/corpus.js';
import { rng } from '../src/core/hash.js';
import { tmp, STEPS, outputDigest } from './helpers.js';

const BIN = resolve('bin/ziya.js');

function recipeFile(input: string, out: string, steps: object[] = STEPS): string {
  const f = join(tmp(), 'recipe.json');
  writeFileSync(f, JSON.stringify({ name: 'kill', input: { paths: [input], shardBytes: '96KB', maxRecordBytes: '2MB' }, output: { dir: out, format: 'jsonl.gz', maxFileBytes: '64KB', writeDropped: true }, executor: { workers: 2 }, steps }));
  return f;
}

const DEDUP_STEPS = [
  { type: 'langid' }, { type: 'bloom_dedup', key: 'url', expected: 100000 }, { type: 'bloom_dedup', name: 'text_bloom', key: 'text', expected: 100000 },
  { type: 'minhash_dedup' }, { type: 'simhash_dedup' }, { type: 'exact_dedup' },
];

function runUntil(recipe: string, killAfterMs: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, 'factory', 'run', recipe, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== null && code !== 0) process.stderr.write(err);
      res({ code, signal });
    });
  });
}

async function killAndResume(steps: object[], minKills: number): Promise<void> {
  const input = join(tmp('ziya-kill-'), 'input');
  await writeDemoInput(input, { scale: 0.4 });
  // reference: one uninterrupted run, timed
  const refOut = join(tmp(), 'out');
  const t0 = Date.now();
  const ref = spawnSync(process.execPath, [BIN, 'factory', 'run', recipeFile(input, refOut, steps), '--quiet'], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const full = Date.now() - t0;
  const want = outputDigest(refOut);

  const out = join(tmp(), 'out');
  const recipe = recipeFile(input, out, steps);
  const r = rng(20231106);
  let kills = 0;
  let finished = false;
  for (let attempt = 0; attempt < 40 && !finished; attempt++) {
    // early kills (start-up, planning) and kills spread over the whole run
    const delay = attempt === 0 ? 30 : attempt === 1 ? 150 : Math.round(100 + r() * full * 0.3);
    const res = await runUntil(recipe, kills >= 12 ? 10 * 60_000 : delay);
    if (res.signal === 'SIGKILL') kills++;
    else {
      assert.equal(res.code, 0, 'the resumed run failed');
      finished = true;
    }
  }
  assert.ok(finished, 'never finished');
  process.stderr.write(`kill-resume: ${kills} kills (uninterrupted run ${full} ms, ${steps.length} steps)\n`);
  assert.ok(kills >= minKills, `only ${kills} kills landed before the run finished`);
  assert.equal(outputDigest(out), want, `output differs after ${kills} kills`);
  for (const sub of ['data', 'quarantine', 'dropped']) assert.ok(readdirSync(join(out, sub)).every((f) => !f.includes('.tmp')), `temporary files left in ${sub}`);
  const a = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { accounting: unknown };
  const b = JSON.parse(readFileSync(join(refOut, 'stats.json'), 'utf8')) as { accounting: unknown };
  assert.deepEqual(a.accounting, b.accounting);
}

test('kill -9 at random points, many times: the resumed run ends with the uninterrupted output (full recipe)', { timeout: 600_000 }, async () => {
  await killAndResume(STEPS, 8);
});

test('kill -9 during every de-duplication pass (Bloom URL, Bloom text, MinHash, SimHash, exact): same output', { timeout: 600_000 }, async () => {
  await killAndResume(DEDUP_STEPS, 8);
});
