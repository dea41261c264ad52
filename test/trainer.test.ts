// The training loop: a run killed with SIGKILL at random moments and resumed ends with exactly the
// weights of an uninterrupted run, and its metrics file has every step once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from './helpers.js';
import { rng } from '../src/core/hash.js';

const child = new URL('./train-child.js', import.meta.url).pathname;
const STEPS = 12;

function runToEnd(dir: string, metrics: string, slow = ''): { hash: string; resumedFrom: number | null } {
  const r = spawnSync(process.execPath, [child, dir, metrics, String(STEPS), ...(slow ? [slow] : [])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('kill -9 during training, resume: the final weights are bit-identical and every step is logged once', async () => {
  const ref = runToEnd(join(tmp(), 'ck'), join(tmp(), 'm.jsonl'));
  const dir = tmp();
  const ck = join(dir, 'ck'), metrics = join(dir, 'metrics.jsonl');
  const next = rng(42);
  let kills = 0;
  for (let attempt = 0; attempt < 30; attempt++) {
    const p = spawn(process.execPath, [child, ck, metrics, String(STEPS), '120'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const delay = 200 + next() * 500;
    const killed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { p.kill('SIGKILL'); resolve(true); }, delay);
      p.on('exit', (code) => { clearTimeout(timer); resolve(code !== 0); });
    });
    if (!killed) {
      const r = JSON.parse(out.trim().split('\n').pop()!) as { hash: string; resumedFrom: number | null };
      assert.equal(r.hash, ref.hash, `after ${kills} kills, resumed from step ${r.resumedFrom}`);
      break;
    }
    kills++;
  }
  assert.ok(kills >= 3, `only ${kills} kills landed`);
  // once finished, a new start resumes at the end and changes nothing
  assert.equal(runToEnd(ck, metrics, '60').hash, ref.hash);
  const steps = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; eval?: unknown }).filter((r) => !r.eval).map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: STEPS }, (_, i) => i));
  assert.ok(existsSync(join(ck, 'latest')));
  console.log(`# ${kills} kills, final weights identical to the uninterrupted run`);
});

test('a checkpoint folder of another run is refused', () => {
  const ck = join(tmp(), 'ck');
  runToEnd(ck, join(tmp(), 'm.jsonl'));
  const r = spawnSync(process.execPath, [child, ck, join(tmp(), 'm.jsonl'), String(STEPS + 5)], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /belongs to another run/);
});

test('spike guard: NaN and losses over factor x the running mean are spikes, after the window', async () => {
  const { SpikeGuard } = await import('../src/train/trainer.js');
  const g = new SpikeGuard({ factor: 2, window: 3, action: 'skip' });
  assert.match(g.check(NaN)!, /NaN/);
  for (const l of [4, 3.8, 3.6]) { assert.equal(g.check(l * 3), null); g.observe(l); } // inside the window: never
  assert.equal(g.check(7), null);
  assert.match(g.check(8)!, /over 2 x the running mean/);
  assert.match(g.check(Infinity)!, /Infinity/);
});

async function spikeRun(action: 'skip' | 'rollback', dir: string) {
  const { Trainer } = await import('../src/train/trainer.js');
  const { Llama } = await import('../src/model/llama.js');
  const { defaultConfig } = await import('../src/model/config.js');
  const { IGNORE } = await import('../src/data/packing.js');
  const V = 256, T = 16, B = 4, POISON = 14;
  const model = Llama.init(defaultConfig({ dim: 32, nLayers: 1, nHeads: 2, vocabSize: V, maxSeqLen: T, hiddenDim: 64 }), 5);
  const data = {
    batch(step: number) {
      const ids = new Int32Array(B * T), targets = new Int32Array(B * T), pos = new Int32Array(B * T), doc = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
        const k = b * T + t;
        ids[k] = (b * 3 + t) % 16;
        pos[k] = t;
        // the poisoned batch asks for tokens the model has learned never to predict
        targets[k] = step === POISON ? 200 + (t % 50) : t === T - 1 ? IGNORE : (b * 3 + t + 1) % 16;
      }
      return { ids, targets, pos, doc, keyMask: new Uint8Array(B * T).fill(1), B, T };
    },
  };
  const tr = new Trainer(model, data, { steps: 20, schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 1, totalSteps: 20 }, spike: { factor: 2, window: 5, action }, checkpointDir: join(dir, 'ck'), checkpointEvery: 5, metricsPath: join(dir, 'm.jsonl'), quiet: true });
  tr.run();
  return readFileSync(join(dir, 'm.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; skipped?: string; event?: string; to?: number });
}

test('spike guard: the poisoned batch is skipped and logged, or the run rolls back to its checkpoint and passes over it', async () => {
  const skipped = await spikeRun('skip', tmp());
  const bad = skipped.filter((r) => r.skipped);
  assert.deepEqual(bad.map((r) => r.step), [14]);
  assert.match(bad[0]!.skipped!, /over 2 x the running mean/);
  const rolled = await spikeRun('rollback', tmp());
  const ev = rolled.filter((r) => r.event === 'rollback');
  assert.deepEqual(ev.map((r) => [r.step, r.to]), [[14, 10]]);
  assert.deepEqual(rolled.filter((r) => !r.event).map((r) => r.step), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(rolled.find((r) => r.step === 14 && !r.event)!.skipped, 'skipped after a rollback');
});

test('gradient accumulation: k micro-batches give the update of one batch k times larger', async () => {
  const { Trainer } = await import('../src/train/trainer.js');
  const { Llama } = await import('../src/model/llama.js');
  const { defaultConfig } = await import('../src/model/config.js');
  const { stackRows } = await import('../src/data/packing.js');
  const T = 8;
  const row = (i: number) => ({ ids: Int32Array.from({ length: T }, (_, t) => (i * 5 + t) % 40), targets: Int32Array.from({ length: T }, (_, t) => (i * 5 + t + 1) % 40), pos: Int32Array.from({ length: T }, (_, t) => t), doc: new Int32Array(T), keyMask: new Uint8Array(T).fill(1) });
  const run = (k: number) => {
    const m = Llama.init(defaultConfig({ dim: 16, nLayers: 1, nHeads: 2, vocabSize: 40, maxSeqLen: T, hiddenDim: 32 }), 9);
    const per = 4 / k;
    new Trainer(m, { batch: (s: number) => stackRows(Array.from({ length: per }, (_, b) => row(s * per + b))) }, { steps: 3, accumulate: k, schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 1, totalSteps: 3 }, quiet: true }).run();
    return m.p('layers.0.attention.wq.weight').data;
  };
  const a = run(1), b = run(2), c = run(4);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `k=2 at ${i}`);
    assert.ok(Math.abs(a[i]! - c[i]!) < 1e-5, `k=4 at ${i}`);
  }
});
