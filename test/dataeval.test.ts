// Data evaluation: the automatic metrics on documents built to trip each one, the gate's sample
// and verdict, and the feedback loop: it tightens the rule behind the failures, re-runs only the
// segments after the change, and ends with exactly the output a plain run of the tightened
// recipe gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { tmp } from './helpers.js';
import { docMetrics, failures, DEFAULT_THRESHOLDS, topics } from '../src/dataeval/metrics.js';
import { keptDocs, runGate } from '../src/dataeval/gate.js';
import { runUntilPass, tighten } from '../src/dataeval/loop.js';
import { parseRecipe } from '../src/factory/recipe.js';
import { runFactory } from '../src/factory/executor.js';
import { discoverRuns } from '../src/ui/runs.js';
import { factoryPage } from '../src/ui/pages.js';
import type { Document } from '../src/core/document.js';

const d = (text: string, meta: Record<string, unknown> = {}): Document => ({ id: 'x', text, meta: { source: 't', language: 'en', ...meta } });
const SENTENCES = [
  'The committee met on a quiet morning in spring to discuss the plans for the new library.',
  'Everyone agreed that the reading room should face the garden.',
  "The children's section, they said, deserved far more light than it had.",
  'An architect from the coast promised drawings within a month.',
  'The treasurer explained how the town would pay for the work over ten years.',
  'Several neighbours asked whether the old oak tree could be saved.',
  'A retired teacher offered to catalogue the donated books by hand.',
  'The mayor reminded them that the roof of the school also needed repairs.',
  'Most of the evening was spent arguing about parking behind the hall.',
  'In the end a small group volunteered to visit libraries in nearby towns.',
  'They returned with photographs, notes and a long list of questions.',
  'Heating turned out to be the most expensive part of every design.',
  'One visitor suggested solar panels on the south side of the building.',
  'The baker across the street promised coffee for the opening day.',
  'Nobody could remember when the last public building had been finished on time.',
  'Still, the mood in the room was hopeful when the meeting closed.',
];
// ten different sentences per document (5 is prime to 16), in an order that depends on i
const prose = (i: number) => Array.from({ length: 10 }, (_, k) => SENTENCES[(i + k * 5) % SENTENCES.length]).join(' ') + ` (Record ${i}.) `;

test('metrics: each one fires on the document built for it and not on clean prose', () => {
  const clean = docMetrics(d(prose(1).repeat(2)));
  assert.deepEqual(failures(clean, DEFAULT_THRESHOLDS, {}), []);
  assert.equal(clean.privacy, 0);
  const pii = docMetrics(d(prose(2) + ' Write to jane.doe@example.com for details.'));
  assert.ok(pii.privacy > 0);
  assert.deepEqual(failures(pii, DEFAULT_THRESHOLDS, {}), ['privacy']);
  const masked = docMetrics(d(prose(3) + ' Write to <EMAIL> or call <PHONE>.'));
  assert.deepEqual(failures(masked, DEFAULT_THRESHOLDS, {}), [], 'the masking step\'s placeholders are neither PII nor markup');
  const html = docMetrics(d(prose(4) + '<div class="nav"><a href="/x">home</a></div> &nbsp; var x = 1; function(){}'));
  assert.ok(html.html > DEFAULT_THRESHOLDS.html.max);
  assert.ok(failures(html, DEFAULT_THRESHOLDS, {}).includes('html'));
  const ads = docMetrics(d(prose(5) + ' Click here to buy now! Free shipping, limited time offer, best price, discount code, order now.'));
  assert.ok(failures(ads, DEFAULT_THRESHOLDS, {}).includes('ads'), JSON.stringify(ads));
  const repetitive = docMetrics(d('buy cheap buy cheap buy cheap '.repeat(60) + '.'));
  assert.ok(failures(repetitive, DEFAULT_THRESHOLDS, {}).includes('informativeness'));
  const runOn = docMetrics(d(prose(6).replace(/[.,]/g, '').repeat(2)));
  assert.ok(failures(runOn, DEFAULT_THRESHOLDS, {}).includes('readability'));
  const ppl = docMetrics(d(prose(7), { perplexity: 900 }));
  assert.deepEqual(failures(ppl, DEFAULT_THRESHOLDS, { en: 400 }), ['perplexity']);
  assert.deepEqual(failures(ppl, DEFAULT_THRESHOLDS, { en: 1000 }), []);
});

test('topics: keyword clusters separate two subjects', () => {
  const sport = (i: number) => `football match goalkeeper striker stadium league season ${['penalty', 'referee', 'tournament'][i % 3]} football stadium`;
  const food = (i: number) => `recipe kitchen garlic onion simmer sauce oven ${['butter', 'pepper', 'flour'][i % 3]} kitchen recipe`;
  const t = topics([...Array.from({ length: 20 }, (_, i) => sport(i)), ...Array.from({ length: 20 }, (_, i) => food(i))], 2, 1);
  assert.equal(t.length, 2);
  assert.deepEqual(t.map((x) => x.share), [0.5, 0.5]);
  const kw = t.map((x) => x.keywords.join(' '));
  assert.ok(kw.some((k) => k.includes('football')) && kw.some((k) => k.includes('kitchen')), kw.join(' | '));
  assert.ok(!kw.some((k) => k.includes('football') && k.includes('kitchen')));
});

/** a corpus where 10% of documents carry advertising below the default filter but above the gate */
function corpus(dir: string): string {
  const input = join(dir, 'input');
  mkdirSync(input, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const ad = i % 10 === 3 ? ' Order now while the shelves are still being built.' : '';
    lines.push(`${prose(i)}${ad}`);
  }
  writeFileSync(join(input, 'docs.txt'), lines.join('\n') + '\n');
  return input;
}

test('the gate: a seeded sample of the kept documents and a verdict against the limit', async () => {
  const dir = tmp();
  const input = corpus(dir);
  const recipe = parseRecipe({ name: 'g', input: { paths: [input], format: 'lines' }, output: { dir: join(dir, 'out') }, steps: [{ type: 'normalize' }, { type: 'doc_filter' }] }, 'g', dir);
  await runFactory(recipe, { quiet: true, inProcess: true, log: () => undefined });
  const kept: Document[] = [];
  for await (const x of keptDocs(join(dir, 'out'))) kept.push(x);
  const withAds = kept.filter((x) => x.text.includes('Order now')).length;
  assert.ok(kept.length > 100 && withAds >= 10, `the default doc_filter lets the advertising through (below its 0.01 per word): ${withAds} of ${kept.length}`);
  const g = await runGate(join(dir, 'out'), { fraction: 0.2, minSample: 10 });
  const g2 = await runGate(join(dir, 'out'), { fraction: 0.2, minSample: 10 });
  assert.deepEqual(g.failedDocs, g2.failedDocs, 'the same sample every time');
  assert.ok(Math.abs(g.sampled - 0.2 * kept.length) < 0.1 * kept.length, `about 20% sampled: ${g.sampled} of ${kept.length}`);
  // the verdict, counted here from the documents themselves
  const expectFail = kept.filter((x) => g.failedDocs.some((f) => f.id === x.id)).length;
  assert.equal(g.unqualified, expectFail);
  assert.ok(g.metrics.ads.failed > 0 && !g.pass);
  assert.ok(g.failedDocs.every((f) => f.failed.includes('ads')));
  const all = await runGate(join(dir, 'out'), { fraction: 1 });
  assert.equal(all.sampled, kept.length);
  assert.equal(all.unqualified, withAds);
  assert.equal(all.share, withAds / kept.length);
});

test('the loop tightens the rule behind the failures, re-runs only what changed, and matches a plain run of the tightened recipe', async () => {
  const dir = tmp();
  const input = corpus(dir);
  const raw = { name: 'loop', input: { paths: [input], format: 'lines' }, output: { dir: join(dir, 'loop') }, steps: [{ type: 'normalize' }, { type: 'langid', keep: ['en'] }, { type: 'doc_filter' }, { type: 'exact_dedup' }] };
  const res = await runUntilPass(parseRecipe(raw, 'loop', dir), { fraction: 1, log: () => undefined, quiet: true });
  assert.ok(res.passed, res.stopped);
  assert.ok(res.iterations.length >= 2);
  assert.equal(res.iterations[0]!.segmentsRun, 3); // [normalize+langid], [doc_filter], [exact_dedup]
  for (const it of res.iterations.slice(1)) {
    assert.equal(it.segmentsReused, 1, 'the preprocessing segment is reused');
    assert.equal(it.segmentsRun, 2, 'doc_filter and what follows it are re-run');
    assert.ok(it.changes.some((c) => c.startsWith('doc_filter doc.ad_words.max')), it.changes.join('; '));
  }
  const first = res.iterations[0]!;
  assert.equal(res.iterations[res.iterations.length - 1]!.kept, first.kept - first.gate.unqualified, 'exactly the documents with advertising are gone');
  // a plain run of the tightened recipe gives the same documents
  const plain = parseRecipe({ ...raw, output: { dir: join(dir, 'plain') }, steps: res.recipe }, 'plain', dir);
  await runFactory(plain, { quiet: true, inProcess: true, log: () => undefined });
  const ids = async (p: string) => { const o: string[] = []; for await (const x of keptDocs(p)) o.push(`${x.id}\t${x.text}`); return o.sort(); };
  assert.deepEqual(await ids(res.final), await ids(join(dir, 'plain')));
  // reports: gate.json, gate.html, the tightened recipe, and the dashboard page
  assert.ok(readFileSync(join(dir, 'loop', 'gate.html'), 'utf8').includes('doc.ad_words'));
  assert.ok(readFileSync(join(dir, 'loop', 'recipe.tightened.yaml'), 'utf8').includes('doc.ad_words'));
  const run = discoverRuns(dir).find((r) => r.id === 'loop');
  assert.ok(run && run.kind === 'factory' && run.gateDir);
  assert.ok(factoryPage(run).includes('Data evaluation gate'));
  void stringify;
});

test('tighten: each failing metric moves its own setting, and says so', () => {
  const steps = parseRecipe({ input: { paths: ['x'] }, output: { dir: 'y' }, steps: [{ type: 'ppl_buckets', models: { en: 'm' } }, { type: 'doc_filter', rules: { 'doc.toxic_words': { max: 0.004 } } }, { type: 'pii' }] }, 't', '/').steps;
  const changes = tighten(steps, ['toxic', 'perplexity', 'privacy']);
  assert.deepEqual(changes, ['doc_filter doc.toxic_words.max: 0.004 → 0.002', 'ppl_buckets medium: 0.6 → 0.55', 'pii maskPrivateIp: false → true']);
  assert.deepEqual(tighten(steps, ['privacy']), [], 'nothing left to tighten for privacy');
});
