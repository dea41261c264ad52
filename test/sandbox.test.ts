// The HumanEval sandbox: legitimate programs run; every hostile program is contained, with the
// full sandbox and (where the kernel allows namespaces) with the kernel isolation alone; and the
// checks themselves are shown to catch escapes when the protections are off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../src/eval/sandbox.js';
import { connectionCounter, HOSTILE, processesWith, runHostileSuite } from '../src/eval/hostile.js';

const python = process.env['ZIYA_PYTHON'] ?? 'python3';
const havePython = spawnSync(python, ['-c', 'print(1)']).status === 0;
const skip = havePython ? false : 'no python3 on this machine (HumanEval needs one; set ZIYA_PYTHON)';

test('legitimate programs run: output, files in the working directory, imports; failures carry the exception', { skip }, async () => {
  const sb = Sandbox.open();
  console.log(`sandbox: ${sb.describe()}`);
  const ok = await sb.run('import math, hashlib, os\nopen("scratch.txt", "w").write("x" * 10)\nprint(math.factorial(5), len(open("scratch.txt").read()), hashlib.md5(b"a").hexdigest()[:6])\n');
  assert.equal(ok.status, 'passed', ok.stderr);
  assert.equal(ok.stdout, '120 10 0cc175\n');
  const bad = await sb.run('def f(x):\n    return x + 1\nassert f(1) == 3, "wrong"\n');
  assert.equal(bad.status, 'failed');
  assert.match(bad.reason, /AssertionError: wrong/);
  const syntax = await sb.run('def f(:\n');
  assert.equal(syntax.status, 'failed');
  assert.match(syntax.reason, /SyntaxError/);
});

test('hostile programs are all contained by the full sandbox', { skip }, async () => {
  const res = await runHostileSuite(Sandbox.open(), { timeoutMs: 3000 });
  assert.equal(res.length, 8);
  for (const r of res) assert.ok(r.contained, `${r.name}: ${r.escaped}`);
  // the time-wasters were stopped by the limits, not left running
  assert.equal(res.find((r) => r.name === 'infinite loop')!.status, 'timed out');
  assert.ok(res.every((r) => r.wallMs < 6000));
});

const nsAvailable = havePython && Sandbox.open().isolation.namespaces;

test('the kernel isolation alone (no interpreter guard) contains them too', { skip: skip || (!nsAvailable && 'user namespaces are not available here') }, async () => {
  const res = await runHostileSuite(Sandbox.open({ guard: false }), { timeoutMs: 3000 });
  for (const r of res) assert.ok(r.contained, `${r.name}: ${r.escaped}`);
});

test('the checks catch escapes: with every protection off, writing, deleting and connecting get through', { skip }, async () => {
  const open = Sandbox.open({ isolation: 'none', guard: false });
  const outside = mkdtempSync(join(tmpdir(), 'ziya-sbx-control-'));
  const sentinel = join(outside, 'sentinel.txt');
  const listener = await connectionCounter();
  const port = listener.port;
  const env = { outside, sentinel, port, secret: 'unused', marker: `2999.${Date.now() % 100000}` };
  try {
    for (const name of ['write outside the directory', 'delete files', 'open sockets']) {
      mkdirSync(outside, { recursive: true });
      writeFileSync(sentinel, 'sentinel');
      listener.reset();
      const h = HOSTILE.find((x) => x.name === name)!;
      const r = await open.run(h.program(env), { timeoutMs: 5000 });
      assert.ok(h.escaped(env, r, listener.count()), `${name} should escape an unprotected run`);
    }
    // even unprotected, the environment is clean: no variable of ours reaches the program
    process.env['ZIYA_CONTROL_SECRET'] = 'do-not-leak';
    const r = await open.run('import os\nprint(sorted(os.environ))\n');
    assert.ok(!r.stdout.includes('ZIYA_CONTROL_SECRET'));
    delete process.env['ZIYA_CONTROL_SECRET'];
  } finally {
    listener.close();
    rmSync(outside, { recursive: true, force: true });
    rmSync(`/tmp/ziya-sbx-escaped-${env.marker}`, { force: true });
    rmSync(join(tmpdir(), `ziya-sbx-escaped-${env.marker}`), { force: true });
  }
  assert.deepEqual(processesWith(env.marker), []);
});
