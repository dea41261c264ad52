// The web app in a real browser (Debian's chromium driven by playwright-core): every dashboard
// page opens, hostile documents stay text, the annotation flow works from the keyboard with
// resume and two annotators, training curves update live; and, over plain HTTP, path traversal
// and missing tokens are refused and no acknowledged label is lost when the server is killed
// mid-save. Screenshots go to test-artifacts/ui/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from './helpers.js';
import { parseRecipe } from '../src/factory/recipe.js';
import { runFactory } from '../src/factory/executor.js';
import { startUi } from '../src/ui/server.js';
import { aggregate } from '../src/eval/runner.js';
import { appendTrack, writeReports } from '../src/eval/report.js';
import { cohensKappa } from '../src/ui/annotate.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
let playwright: typeof import('playwright-core') | null = null;
try {
  playwright = await import('playwright-core');
} catch {
  playwright = null;
}
const noBrowser = !CHROMIUM ? 'no chromium on this machine (apt-get install chromium; .ci/run installs it when it can)' : !playwright ? 'playwright-core is not installed' : false;
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'ui');

const HOSTILE = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '"><svg/onload=window.__pwned=3>',
  '</pre></main><script>window.__pwned = 4</script>',
  "'; window.__pwned = 5; '",
  '<iframe srcdoc="<script>parent.__pwned = 6</script>"></iframe>',
  '<a href="javascript:window.__pwned = 7">click</a>',
  '${window.__pwned = 8} {{constructor.constructor("window.__pwned = 9")()}}',
];

const filler = (i: number) => `Document number ${i} is about the river that runs through the old town. The people who live near it walk along its banks every evening, and the children learn to swim there in summer. `.repeat(3);

/** a root with a factory run (hostile documents kept), a training run and an evaluation */
async function makeRoot(): Promise<string> {
  const root = tmp('ziya-ui-');
  const input = join(root, 'input');
  mkdirSync(input);
  const docs = [];
  for (let i = 0; i < 30; i++) docs.push({ id: `doc-${i}`, text: `${filler(i)}\n\n${HOSTILE[i % HOSTILE.length]} ${filler(i + 100)}` });
  docs.push({ id: '<img src=x onerror="window.__pwned=10">', text: `${filler(99)} the id of this document is hostile` });
  writeFileSync(join(input, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const recipe = parseRecipe({ name: 'ui-test', input: { paths: [input] }, output: { dir: join(root, 'factory'), format: 'jsonl.gz' }, steps: [{ type: 'normalize' }, { type: 'exact_dedup' }] }, 'ui-test', root);
  await runFactory(recipe, { quiet: true, inProcess: true, log: () => undefined });
  const train = join(root, 'train');
  mkdirSync(train);
  writeFileSync(join(train, 'metrics.jsonl'), Array.from({ length: 20 }, (_, s) => JSON.stringify({ step: s, loss: 5 - s * 0.1, lr: 1e-3, grad_norm: 1 + 1 / (s + 1), tokens_per_s: 5000, ...(s % 10 === 9 ? { eval: { zh: 4 - s * 0.05, en: 3 - s * 0.02 } } : {}) })).join('\n') + '\n');
  const items = Array.from({ length: 20 }, (_, i) => ({ id: `q${i}`, subject: i % 2 ? 'physics' : '<script>window.__pwned=11</script>', metrics: { acc: i % 3 ? 1 : 0 }, details: {} }));
  const res = aggregate({ name: 'mmlu', protocol: 'lm-eval', scoring: 'test scoring', metrics: ['acc'] }, 'test model', items, [], 1);
  writeReports(join(root, 'eval'), [res], { model: 'test model', stage: 'stage1', started: new Date().toISOString() });
  appendTrack(join(root, 'eval', 'track.jsonl'), 'stage1', [res]);
  appendTrack(join(root, 'eval', 'track.jsonl'), 'stage2', [{ ...res, overall: { acc: { micro: { mean: 0.8, stderr: 0.05, n: 20 }, macro: { mean: 0.8, stderr: 0.05, n: 20 } } } }]);
  return root;
}

test("Cohen's kappa against hand-worked values", () => {
  // 10 items: both yes 3, both no 4, a-only 2, b-only 1 → po 0.7; pa 0.5, pb 0.4 → pe 0.5; kappa 0.4
  const a = [1, 1, 1, 0, 0, 0, 0, 1, 1, 0].map(Boolean), b = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1].map(Boolean);
  assert.ok(Math.abs(cohensKappa(a, b) - 0.4) < 1e-12);
  assert.equal(cohensKappa([true, false], [true, false]), 1);
});

test('the app in a browser: every page, hostile documents, annotation with keys, resume and two annotators, live curves', { skip: noBrowser }, async () => {
  const root = await makeRoot();
  mkdirSync(ARTIFACTS, { recursive: true });
  const ui = await startUi({ root, port: 0, sampleSize: 12 });
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    const visit = async (path: string, shot: string) => {
      const r = await page.goto(new URL(path, ui.url).href);
      assert.equal(r?.status(), 200, path);
      await page.waitForLoadState('networkidle');
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined, `${path}: injected script ran`);
      assert.equal(await page.locator('script').count(), 1, `${path}: only app.js`);
      await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: true });
    };
    await visit('/', 'index');
    assert.ok((await page.textContent('body'))!.includes('factory'));
    await visit('/factory?run=factory', 'factory');
    assert.ok(await page.locator('svg rect').count() > 0, 'funnel chart');
    await visit('/train?run=train', 'train');
    await visit('/eval?run=eval', 'eval');
    assert.ok((await page.textContent('body'))!.includes('<script>window.__pwned=11</script>'), 'hostile subject shown as text');
    assert.ok(await page.locator('svg polyline').count() > 0, 'tracking chart');
    // live training curves: append steps and watch the page pick them up
    await page.goto(new URL('/train?run=train', ui.url).href);
    await page.waitForFunction(() => /20 steps logged/.test(document.getElementById('live-status')!.textContent!));
    appendFileSync(join(root, 'train', 'metrics.jsonl'), Array.from({ length: 5 }, (_, i) => JSON.stringify({ step: 20 + i, loss: 3 - i * 0.1, lr: 1e-3, grad_norm: 1, tokens_per_s: 5000 })).join('\n') + '\n');
    await page.waitForFunction(() => /25 steps logged/.test(document.getElementById('live-status')!.textContent!), undefined, { timeout: 10000 });
    await page.screenshot({ path: join(ARTIFACTS, 'train-live.png'), fullPage: true });

    // annotation: alice labels five documents with the keyboard, one with a highlighted span
    await visit('/annotate?run=factory', 'annotate-start');
    await page.fill('#annotator', 'alice');
    await page.click('#who button');
    await page.waitForFunction(() => document.getElementById('doc')!.textContent!.length > 50);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    await page.keyboard.press('c');
    await page.evaluate(() => {
      const pre = document.getElementById('doc')!;
      const r = document.createRange();
      r.setStart(pre.firstChild!, 0);
      r.setEnd(pre.firstChild!, 15);
      const s = window.getSelection()!;
      s.removeAllRanges();
      s.addRange(r);
    });
    await page.keyboard.press('h');
    assert.equal(await page.locator('#doc mark.coherence').count(), 1);
    await page.screenshot({ path: join(ARTIFACTS, 'annotate-highlight.png'), fullPage: true });
    for (let i = 0; i < 5; i++) {
      if (i === 2) await page.keyboard.press('t');
      if (i === 3) await page.keyboard.press('r');
      const before = await page.textContent('#progress');
      await page.keyboard.press('Enter');
      await page.waitForFunction((b) => document.getElementById('progress')!.textContent !== b, before);
    }
    assert.match((await page.textContent('#progress'))!, /document 6 of 12 · 5 labelled by alice/);
    // resume after a reload
    await page.reload();
    await page.click('#who button');
    await page.waitForFunction(() => /document 6 of 12/.test(document.getElementById('progress')!.textContent!));
    // bob labels the same five, agreeing on everything but the toxic one
    await page.fill('#annotator', 'bob');
    await page.click('#who button');
    await page.waitForFunction(() => /document 1 of 12 · 0 labelled by bob/.test(document.getElementById('progress')!.textContent!));
    for (let i = 0; i < 5; i++) {
      if (i === 0) await page.keyboard.press('c');
      if (i === 3) await page.keyboard.press('r');
      const before = await page.textContent('#progress');
      await page.keyboard.press('Enter');
      await page.waitForFunction((b) => document.getElementById('progress')!.textContent !== b, before);
    }
    await page.waitForFunction(() => /kappa alice~bob/.test(document.getElementById('stats')!.textContent!));
    const stats = (await page.textContent('#stats'))!;
    // coherence and readability: identical labels → kappa 1; toxic: alice 1 of 5, bob 0 → kappa 0
    assert.match(stats, /coherence 1\.000, readability 1\.000, toxic 0\.000/);
    assert.match(stats, /CH 0\.800, RA 0\.800, non-toxic 0\.800 over 5 documents/);
    await page.screenshot({ path: join(ARTIFACTS, 'annotate-stats.png'), fullPage: true });
    const exported = await (await fetch(new URL('/api/annotate/export?run=factory', ui.url))).text();
    const lines = exported.trim().split('\n').map((l) => JSON.parse(l) as { annotator: string; spans: unknown[] });
    assert.equal(lines.length, 10);
    assert.equal(lines.filter((l) => l.annotator === 'alice' && l.spans.length === 1).length, 1);
    assert.ok(existsSync(join(root, 'factory', 'annotation', 'attributes.json')));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await ui.close();
  }
});

test('the server: no path traversal, clear errors for bad requests, a token off loopback', async () => {
  const root = await makeRoot();
  const ui = await startUi({ root, port: 0, sampleSize: 5 });
  try {
    const get = (p: string) => fetch(new URL(p, ui.url));
    for (const p of ['/factory?run=../../etc', '/factory?run=%2Fetc', '/static/../package.json', '/static/%2e%2e/package.json', '/api/train?run=../factory', '/eval?run=factory']) assert.equal((await get(p)).status, 404, p);
    const csp = (await get('/')).headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    const doc = await (await get('/api/annotate/doc?run=factory&annotator=carol')).json() as { run: string; doc: { id: string }; index: number };
    const post = (body: unknown) => fetch(new URL('/api/annotate/label?run=factory', ui.url), { method: 'POST', body: JSON.stringify(body) });
    const other = await post({ run: 'another:1', annotator: 'carol', index: doc.index, docId: doc.doc.id });
    assert.equal(other.status, 409);
    assert.match(((await other.json()) as { error: string }).error, /belongs to run another:1/);
    assert.equal((await post({ run: doc.run, annotator: '../x', index: 0, docId: doc.doc.id })).status, 400);
    assert.equal((await post({ run: doc.run, annotator: 'carol', index: 0, docId: doc.doc.id, spans: [{ start: 5, end: 2, problem: 'toxic' }] })).status, 400);
    assert.equal((await fetch(new URL('/api/annotate/label?run=factory', ui.url), { method: 'POST', body: 'not json' })).status, 400);
    // a label file carrying lines of another run: ignored, with a warning that names it
    appendFileSync(join(root, 'factory', 'annotation', 'labels-dave.jsonl'), JSON.stringify({ run: 'elsewhere:9', docId: doc.doc.id, index: doc.index, annotator: 'dave', coherence: true, readability: false, toxic: false, spans: [], at: 'x' }) + '\n');
    const st = await (await get('/api/annotate/stats?run=factory')).json() as { warnings: string[]; annotators: Record<string, number> };
    assert.equal(st.annotators['dave'], 0);
    assert.ok(st.warnings.some((w) => /labels-dave\.jsonl:1: a label of another run \(elsewhere:9\)/.test(w)), st.warnings.join('; '));
  } finally {
    await ui.close();
  }
  // the sample was drawn from another run (the folder was re-run since): a clear refusal
  const sample = JSON.parse(readFileSync(join(root, 'factory', 'annotation', 'sample.json'), 'utf8')) as { run: string };
  writeFileSync(join(root, 'factory', 'annotation', 'sample.json'), JSON.stringify({ ...sample, run: 'old-run:3' }));
  const u2 = await startUi({ root, port: 0, sampleSize: 5 });
  try {
    const r = await fetch(new URL('/api/annotate/doc?run=factory&annotator=carol', u2.url));
    assert.equal(r.status, 409);
    assert.match(((await r.json()) as { error: string }).error, /was drawn from another run \(old-run:3\)/);
  } finally {
    await u2.close();
  }
  // an empty run
  const empty = tmp('ziya-ui-empty-');
  mkdirSync(join(empty, 'in'));
  writeFileSync(join(empty, 'in', 'x.jsonl'), JSON.stringify({ id: 'a', text: 'short' }) + '\n');
  await runFactory(parseRecipe({ name: 'e', input: { paths: [join(empty, 'in')] }, output: { dir: join(empty, 'factory') }, steps: [{ type: 'doc_filter' }] }, 'e', empty), { quiet: true, inProcess: true, log: () => undefined });
  const ue = await startUi({ root: empty, port: 0 });
  try {
    const r = await fetch(new URL('/api/annotate/doc?run=factory&annotator=a', ue.url));
    assert.equal(r.status, 422);
    assert.match(((await r.json()) as { error: string }).error, /kept no documents/);
    assert.equal((await fetch(new URL('/factory?run=factory', ue.url))).status, 200);
  } finally {
    await ue.close();
  }
  // off loopback: a token is required
  const ut = await startUi({ root, host: '0.0.0.0', port: 0 });
  try {
    assert.ok(ut.token && ut.token.length >= 20);
    const base = ut.url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await fetch(base)).status, 401);
    const ok = await fetch(`${base}?token=${ut.token}`);
    assert.equal(ok.status, 200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(new URL('/api/runs', base), { headers: { cookie } })).status, 200);
    assert.equal((await fetch(new URL('/api/runs', base), { headers: { authorization: 'Bearer wrong' } })).status, 401);
  } finally {
    await ut.close();
  }
});

test('no acknowledged label is lost when the server is killed mid-save (SIGKILL, three times)', async () => {
  const root = await makeRoot();
  const acked = new Map<string, Set<number>>(); // annotator -> indexes acknowledged
  let port = 0;
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['bin/ziya.js', 'ui', '--root', root, '--port', '0', '--sample', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // listened for now: the exit can come before the code below gets to wait for it
    const exited = new Promise((r) => child.on('exit', r));
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (x: string) => (err += x));
    // the server prints its address (with the port the system chose) once it listens
    port = await new Promise<number>((res, rej) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (x: string) => {
        out += x;
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) res(Number(m[1]));
      });
      child.on('exit', (code) => rej(new Error(`ziya ui exited (${code}) before listening: ${err}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const one = async (annotator: string, index: number) => {
      const d = await (await fetch(`${base}/api/annotate/doc?run=factory&annotator=${annotator}&index=${index}`)).json() as { run: string; doc: { id: string } };
      const r = await fetch(`${base}/api/annotate/label?run=factory`, { method: 'POST', body: JSON.stringify({ run: d.run, annotator, index, docId: d.doc.id, coherence: index % 2 === 0, spans: [] }) });
      if (r.ok) {
        const s = acked.get(annotator) ?? new Set();
        s.add(index);
        acked.set(annotator, s);
      }
    };
    // two annotators saving at once until the kill
    const killAt = Date.now() + 300 + Math.random() * 700;
    const loop = async (annotator: string) => {
      for (let i = 0; Date.now() < killAt + 200; i = (i + 1) % 30) {
        try {
          await one(annotator, i);
        } catch {
          return; // the server is gone
        }
      }
    };
    const timer = new Promise<void>((res) => setTimeout(() => { child.kill('SIGKILL'); res(); }, killAt - Date.now()));
    await Promise.all([loop('ann1'), loop('ann2'), timer]);
    await exited;
  }
  // restart and read everything back
  const ui = await startUi({ root, port: 0, sampleSize: 30 });
  try {
    const lines = (await (await fetch(new URL('/api/annotate/export?run=factory', ui.url))).text()).trim().split('\n').map((l) => JSON.parse(l) as { annotator: string; index: number });
    for (const [a, idx] of acked) for (const i of idx) assert.ok(lines.some((l) => l.annotator === a && l.index === i), `${a} #${i} was acknowledged and must survive`);
    assert.ok([...acked.values()].reduce((s, x) => s + x.size, 0) > 5, 'saves happened');
  } finally {
    await ui.close();
  }
  const log = readFileSync(join(root, 'factory', 'annotation', 'labels-ann1.jsonl'), 'utf8');
  assert.ok(log.endsWith('\n'), 'a line cut short by the kill was dropped on restart');
});
