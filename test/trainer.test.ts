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
