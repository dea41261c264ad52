import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDemoInput } from '../src/demo/corpus.js';
import { runFactory } from '../src/factory/executor.js';
import { parseRecipe } from '../src/factory/recipe.js';
import { accounting, exampleKey } from '../src/core/stats.js';
import { fnv1a } from '../src/core/hash.js';
import { tmp, demoRecipe, outputDigest, STEPS } from './helpers.js';

const input = join(tmp('ziya-demo-'), 'input');
const ready = writeDemoInput(input, { scale: 0.15 });

test('the demo input exercises every reader and bad-input path; the accounting identity holds', async () => {
  await ready;
  const out = tmp();
  const r = await runFactory(demoRecipe(input, out), { inProcess: true, quiet: true });
  const acc = accounting(r.stats);
  assert.ok(acc.balanced, JSON.stringify(acc));
  assert.equal(acc.read, acc.kept + acc.droppedTotal + acc.quarantinedTotal);
  for (const reason of ['malformed-json', 'missing-text-field', 'binary-garbage', 'record-too-large', 'truncated-file', 'not-an-object']) assert.ok(acc.quarantined[reason]! > 0, reason);
  assert.ok(r.stats.warnings.some((w) => /empty file/.test(w)));
  // every step did something on this input
  const byName = Object.fromEntries(r.stats.steps.map((s) => [s.name, s]));
  const touched = (name: string) => Object.values(byName[name]!.rules).some((x) => x.docsDropped + x.docsCut > 0);
  for (const s of STEPS) assert.ok(touched(s.type), `${s.type} never fired`);
  // dropped + kept files agree with the counts
  let kept = 0;
  const { gunzipSync } = await import('node:zlib');
  for (const f of readdirSync(join(out, 'data'))) kept += gunzipSync(readFileSync(join(out, 'data', f))).toString().split('\n').filter(Boolean).length;
  assert.equal(kept, acc.kept);
  let dropped = 0;
  for (const f of readdirSync(join(out, 'dropped'))) dropped += readFileSync(join(out, 'dropped', f), 'utf8').split('\n').filter(Boolean).length;
  assert.equal(dropped, acc.droppedTotal);
  let q = 0;
  for (const f of readdirSync(join(out, 'quarantine'))) for (const l of readFileSync(join(out, 'quarantine', f), 'utf8').split('\n').filter(Boolean)) {
    const rec = JSON.parse(l) as { file: string; reason: string; record: number };
    assert.ok(rec.file && rec.reason && typeof rec.record === 'number');
    q++;
  }
  assert.equal(q, acc.quarantinedTotal);
  // the report exists and shows the funnel, the identity and examples in both languages
  const html = readFileSync(r.reportFile, 'utf8');
  assert.match(html, /Funnel/);
  assert.match(html, /balanced/);
  assert.match(html, /中文/);
  const stats = JSON.parse(readFileSync(r.statsFile, 'utf8')) as { accounting: { balanced: boolean } };
  assert.ok(stats.accounting.balanced);
});

test('worker threads and in-process execution write identical output; a rerun resumes without redoing work', async () => {
  await ready;
  const a = tmp();
  const b = tmp();
  await runFactory(demoRecipe(input, a), { inProcess: true, quiet: true });
  const rb = await runFactory(demoRecipe(input, b), { workers: 2, quiet: true });
  assert.equal(outputDigest(a), outputDigest(b));
  // second run: everything done, nothing rerun
  const again = await runFactory(demoRecipe(input, b), { workers: 2, quiet: true });
  assert.equal(again.resumedShards, rb.plan.shards.length);
  assert.equal(outputDigest(b), outputDigest(a));
  // lose some shards' commit markers (as after a crash): only those are redone, same output
  const stats = join(b, '_run', 'stats');
  const markers = readdirSync(stats).sort();
  for (const m of markers.filter((_, i) => i % 3 === 0)) rmSync(join(stats, m));
  const resumed = await runFactory(demoRecipe(input, b), { workers: 2, quiet: true });
  assert.equal(resumed.resumedShards, markers.length - markers.filter((_, i) => i % 3 === 0).length);
  assert.equal(outputDigest(b), outputDigest(a));
});

test('a different recipe on the same output folder is refused unless forced', async () => {
  await ready;
  const out = tmp();
  await runFactory(demoRecipe(input, out), { inProcess: true, quiet: true });
  const other = parseRecipe({ name: 'test', input: { paths: [input], shardBytes: '256KB', maxRecordBytes: '2MB' }, output: { dir: out }, steps: [{ type: 'normalize' }] }, 'test', '/');
  await assert.rejects(runFactory(other, { inProcess: true, quiet: true }), /different recipe or input/);
  const forced = await runFactory(other, { inProcess: true, quiet: true, force: true });
  assert.equal(forced.resumedShards, 0);
});

test('an example key is FNV-1a of rule, NUL and id (the rule hashed once and used as the seed)', () => {
  let x = 7;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pool = ['a', 'Z', '0', ' ', '\u0000', '#', '中', '文', '\ud83d', '\ude00', '\uffff', 'é'];
  const str = (n: number) => Array.from({ length: n }, () => pool[Math.floor(rnd() * pool.length)]).join('');
  for (let k = 0; k < 3000; k++) {
    const rule = k % 7 === 0 ? 'doc.min_words' : str(Math.floor(rnd() * 12));
    const id = str(Math.floor(rnd() * 40));
    assert.equal(exampleKey(rule, id), fnv1a(rule + '\u0000' + id), `${JSON.stringify(rule)} ${JSON.stringify(id)}`);
  }
});

test('a shard whose commit fails after its worker took the next shard is reported, the other shards are committed, and the run then resumes to the output of an unbroken run', async () => {
  await ready;
  const { makePlan } = await import('../src/factory/plan.js');
  const { mkdirSync, writeFileSync, existsSync } = await import('node:fs');
  const clean = tmp();
  await runFactory(demoRecipe(input, clean), { workers: 2, quiet: true });
  const out = tmp();
  const n = makePlan(demoRecipe(input, out)).shards.length;
  assert.ok(n >= 4, `${n} shards`);
  // the last shard's stats file (its commit marker) cannot be renamed into place: a directory
  // holds its name, so the shard fails in its commit, after its documents went through and its
  // worker asked for (and was refused, none being left) another shard
  const last = join(out, '_run', 'stats', `shard-${String(n - 1).padStart(5, '0')}.json`);
  mkdirSync(last, { recursive: true });
  writeFileSync(join(last, 'x'), 'x');
  await assert.rejects(runFactory(demoRecipe(input, out), { workers: 2, quiet: true }), (e: Error) => /1 shard\(s\) failed/.test(e.message) && e.message.includes(`shard ${n - 1}:`));
  for (let i = 0; i < n - 1; i++) assert.ok(existsSync(join(out, '_run', 'stats', `shard-${String(i).padStart(5, '0')}.json`)), `shard ${i} committed`);
  rmSync(last, { recursive: true });
  const r = await runFactory(demoRecipe(input, out), { workers: 2, quiet: true });
  assert.equal(r.resumedShards, n - 1);
  assert.equal(outputDigest(out), outputDigest(clean));
});
