// Scaling laws: the optimiser on a known function, recovery of known constants (Ziya2's
// published fit and Chinchilla's) from noisy points, refusals of meaningless fits, the repetition
// discount and the recommender, and the attribute measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { lbfgs } from '../src/laws/lbfgs.js';
import { fitChinchilla, fitZiya2, ziya2Predict, chinchillaPredict, ZIYA2_PUBLISHED, type Ziya2Point } from '../src/laws/fit.js';
import { effectiveTokens, predictMixture, recommend, R_STAR } from '../src/laws/mixture.js';
import { cohesion, crossValidate, docFeatures, heuristicProblems, HashedTfidfEmbedder, OpenAIEmbedder, similarity, trainLogistic, predictLogistic } from '../src/laws/attributes.js';

function rand(seed: number) {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return { r, gauss };
}

test('L-BFGS finds the Rosenbrock minimum and respects lower bounds', () => {
  const rosen = (x: Float64Array, g: Float64Array) => {
    const [a, b] = [x[0]!, x[1]!];
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  };
  const m = lbfgs(rosen, [-1.2, 1], { maxIter: 1000 });
  assert.ok(m.converged && Math.abs(m.x[0]! - 1) < 1e-5 && Math.abs(m.x[1]! - 1) < 1e-5, JSON.stringify(m));
  // minimum of (x-(-2))^2 with x >= 0 is at the bound
  const b = lbfgs((x, g) => { g[0] = 2 * (x[0]! + 2); return (x[0]! + 2) ** 2; }, [3], { lower: [0] });
  assert.equal(b.x[0], 0);
});

test('the Ziya2 law: constants recovered from points made with the published fit plus noise', () => {
  const { r, gauss } = rand(7);
  const pts: Ziya2Point[] = [];
  for (let i = 0; i < 84; i++) {
    const p = { CH: 0.5 + 0.5 * r(), RA: 0.5 + 0.5 * r(), SIM: 0.5 + 0.5 * r(), V: i % 7 === 0 ? 0 : 10 ** (9 + 3 * r()) };
    pts.push({ ...p, L: ziya2Predict(ZIYA2_PUBLISHED, p) * Math.exp(1e-4 * gauss()) });
  }
  const f = fitZiya2(pts, { bootstrap: 40, gridStride: 2 });
  const c = f.constants as Record<string, number>;
  const rel = (k: string, tol: number) => assert.ok(Math.abs(c[k]! / (ZIYA2_PUBLISHED as Record<string, number>)[k]! - 1) < tol, `${k}: ${c[k]} vs ${(ZIYA2_PUBLISHED as Record<string, number>)[k]}`);
  rel('alpha', 0.05);
  rel('E', 0.03);
  rel('A', 0.15);
  rel('B', 0.15);
  rel('C', 0.15);
  rel('F', 0.15);
  for (const k of ['alpha', 'A', 'B', 'C', 'E', 'F']) {
    const iv = f.intervals[k]!;
    const truth = (ZIYA2_PUBLISHED as Record<string, number>)[k]!;
    assert.ok(iv.lo <= truth && truth <= iv.hi, `${k}: ${truth} outside [${iv.lo}, ${iv.hi}]`);
  }
  assert.ok(f.rmseLog < 2e-4, `residuals at the noise level: ${f.rmseLog}`);
  assert.equal(f.starts, 16384);
});

test('the Chinchilla form: constants recovered from points made with the published fit plus noise', () => {
  const truth = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
  const { r, gauss } = rand(11);
  const pts = Array.from({ length: 60 }, () => {
    const p = { N: 10 ** (7 + 3 * r()), D: 10 ** (9 + 3 * r()) };
    return { ...p, L: chinchillaPredict(truth, p) * Math.exp(1e-3 * gauss()) };
  });
  const f = fitChinchilla(pts, { bootstrap: 20 });
  const c = f.constants as Record<string, number>;
  assert.ok(Math.abs(c['alpha']! - 0.34) < 0.03 && Math.abs(c['beta']! - 0.28) < 0.03 && Math.abs(c['E']! - 1.69) < 0.1, JSON.stringify(c));
});

test('refusals: too few points, constant columns, non-positive losses, attributes outside [0, 1]', () => {
  const p = (i: number): Ziya2Point => ({ CH: 0.5 + i / 100, RA: 0.6 + i / 100, SIM: 0.7 - i / 100, V: 1e9 * (i + 1), L: 2 - i / 100 });
  const ok = Array.from({ length: 12 }, (_, i) => p(i));
  assert.throws(() => fitZiya2(ok.slice(0, 8)), /8 points for 6 constants: .* at least 12/);
  assert.throws(() => fitZiya2(ok.map((x) => ({ ...x, SIM: 0.7 }))), /SIM is the same \(0\.7\) in every point/);
  assert.throws(() => fitZiya2(ok.map((x, i) => (i === 3 ? { ...x, L: 0 } : x))), /point 3: loss 0 is not positive/);
  assert.throws(() => fitZiya2(ok.map((x, i) => (i === 5 ? { ...x, RA: 1.2 } : x))), /point 5: RA = 1\.2 is outside \[0, 1\]/);
  assert.throws(() => fitChinchilla([{ N: 1, D: 1, L: 1 }]), /needs at least 10/);
});

test('repetition discount and the recommender', () => {
  assert.equal(effectiveTokens(50, 100), 50);
  assert.ok(Math.abs(effectiveTokens(200, 100) - (100 + 100 * R_STAR * (1 - Math.exp(-1 / R_STAR)))) < 1e-9);
  const c = { alpha: 0.1, A: 1, B: 1, C: 1, E: 1, F: 1e3 };
  const sources = [
    { name: 'good-small', CH: 1, RA: 1, SIM: 1, tokens: 1000 },
    { name: 'poor-large', CH: 0.2, RA: 0.2, SIM: 0.2, tokens: 1e6 },
  ];
  // a small budget goes to the good source; a large one uses it up to the repetition limit
  const small = recommend(c, sources, 800);
  assert.ok(Math.abs(small.shares['good-small']! - 1) < 1e-9);
  const large = recommend(c, sources, 20000, { maxEpochs: 4 });
  assert.ok(large.epochs['good-small']! <= 4 + 1e-9 && large.volumes['poor-large']! > 0);
  // the greedy answer is at least as good as any split on a fine grid
  for (let k = 0; k <= 100; k++) {
    const v = [Math.min(4000, (20000 * k) / 100), 0];
    v[1] = 20000 - v[0]!;
    assert.ok(large.predictedLoss <= predictMixture(c, sources, v) + 1e-12);
  }
});

test('attributes: cohesion, the calibrated classifier and its agreement, heuristics, similarity with both embedders', async () => {
  const clean = 'The river rises in the hills. The river then turns west past the mill. Near the mill the river is deep and slow. Fishermen like the slow river.';
  const glued = 'The river rises in the hills. Parliament passed the budget late at night. Near the mill the water is deep. Chocolate cake needs eggs and flour. Tigers hunt alone.';
  assert.ok(cohesion(clean) > 0.7 && cohesion(glued) < 0.35, `${cohesion(clean)} ${cohesion(glued)}`);
  const x = docFeatures(glued, 'en');
  assert.ok(heuristicProblems(x).coherence);
  const unp = 'the river rises in the hills and then turns west past the old mill where the water runs deep and slow and the fishermen wait all day long for trout that rarely come';
  assert.ok(heuristicProblems(docFeatures(unp, 'en')).readability);
  // a separable problem: the classifier learns it and agrees with the labels
  const X = Array.from({ length: 60 }, (_, i) => [i % 2 ? 1 + (i % 7) / 10 : -1 - (i % 5) / 10, (i % 3) / 3]);
  const y = X.map((r) => r[0]! > 0);
  const m = trainLogistic(X, y);
  assert.ok(predictLogistic(m, [2, 0]) > 0.9 && predictLogistic(m, [-2, 0]) < 0.1);
  const cv = crossValidate(X, y);
  assert.ok(cv.accuracy === 1 && cv.kappa === 1);
  // similarity: a set against itself beats a set against unrelated text
  const a = ['the river and the mill by the hills', 'fishermen on the river bank', 'the mill wheel turns in the river'];
  const b = ['tax law passed by parliament', 'the budget vote in parliament', 'ministers and the new tax'];
  const emb = new HashedTfidfEmbedder(1 << 12);
  const same = await similarity(emb, a, a), diff = await similarity(emb, a, b);
  assert.ok(same > 0.2 && diff < same / 3, `${same} ${diff}`);
  // an OpenAI-compatible endpoint that serves the hashed vectors gives the same similarity
  const srv = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      const { input } = JSON.parse(raw) as { input: string[] };
      const e = new HashedTfidfEmbedder(1 << 12);
      const vs = await e.embed(input);
      res.end(JSON.stringify({ data: vs.map((v, index) => ({ index, embedding: Array.from(v) })) }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const remote = new OpenAIEmbedder(`http://127.0.0.1:${(srv.address() as { port: number }).port}`, 'hashed');
    const plain = new HashedTfidfEmbedder(1 << 12);
    const viaApi = await similarity(remote, a, b), local = await (async () => {
      const ea = await plain.embed(a), eb = await plain.embed(b);
      const mean = (vs: Float32Array[]) => vs.reduce((acc, v) => acc.map((x, i) => x + v[i]! / vs.length), new Float64Array(v0(vs)));
      const ma = mean(ea), mb = mean(eb);
      return ma.reduce((s, x, i) => s + x * mb[i]!, 0);
    })();
    assert.ok(Math.abs(viaApi - local) < 1e-6, `${viaApi} vs ${local}`);
  } finally {
    srv.close();
  }
});

function v0(vs: Float32Array[]): number {
  return vs[0]!.length;
}

import { existsSync as exists, readFileSync as readF, writeFileSync as writeF } from 'node:fs';
import { join as pjoin } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { loadLawsRecipe, runLaws } from '../src/laws/experiment.js';

const haveLawsData = ['llama2c-stories260k/stories260K.bin', 'wikitext2', 'tinyshakespeare/input.txt', 'gsm8k'].every((p) => exists(pjoin(SHARED, p)));

/** A tiny laws recipe over shared data: three slices, WikiText-2 test text as the task; `base` and `rest` vary. */
function tinyLawsRun(name: string, base: string, rest: string): Promise<{ r: Awaited<ReturnType<typeof runLaws>>; dir: string }> {
  const dir = tmp();
  const wt = pjoin(SHARED, 'wikitext2/word_language_model/data/wikitext-2');
  writeF(pjoin(dir, 'r.yaml'), `name: ${name}
base: { model: ${pjoin(SHARED, 'llama2c-stories260k/stories260K.bin')}, tokenizer: ${pjoin(SHARED, 'llama2c-stories260k/tok512.bin')}${base} }
slices:
  - { name: wiki, source: { path: ${wt}/valid.txt, format: lines, minChars: 300, documents: 60 } }
  - { name: wiki-unpunctuated, from: wiki, corrupt: { readability: 0.9 } }
  - { name: shakespeare, source: { path: ${pjoin(SHARED, 'tinyshakespeare/input.txt')}, format: paragraphs, minChars: 150, documents: 80 } }
tasks:
  - { name: wikitext, source: { path: ${wt}/test.txt, format: lines, minChars: 300, documents: 40 } }
attributes: { documents: 50 }
${rest}`);
  return runLaws(loadLawsRecipe(pjoin(dir, 'r.yaml')), pjoin(dir, 'out'), () => undefined).then((r) => ({ r, dir }));
}

test('ziya laws run on shared data: slices, measured attributes, points, fits, held-out mixtures, report', { skip: haveLawsData ? false : '../shared/data lacks stories260K, WikiText-2, Tiny Shakespeare or GSM8K' }, async () => {
  const { r, dir } = await tinyLawsRun('tiny', '', `train: { batch: 2, seqLen: 32, lr: 0.001, checkpoints: [0, 2, 4, 6], warmup: 2 }
heldoutMixtures: [{ name: mix, weights: { wiki: 0.5, shakespeare: 0.5 } }]
bootstrap: 5
gridStride: 64
`);
  assert.equal(r.points.length, 12);
  const s = Object.fromEntries(r.slices.map((x) => [x.name, x]));
  assert.ok(s['wiki-unpunctuated']!.RA < s['wiki']!.RA, 'stripping punctuation lowers the measured readability');
  assert.ok(s['wiki']!.SIM['wikitext']! > s['shakespeare']!.SIM['wikitext']!, 'Wikipedia is closer to WikiText test text than Shakespeare is');
  assert.ok(r.points.filter((p) => p.step === 0).every((p) => p.L === r.points[0]!.L), 'V = 0 is the base model for every slice');
  assert.ok(Number.isFinite(r.perTask['wikitext']!.objective));
  assert.equal(r.heldout.length, 1);
  assert.ok(Number.isFinite(r.heldout[0]!.predicted) && r.heldout[0]!.observed > 0);
  assert.ok(readF(pjoin(dir, 'out', 'laws.html'), 'utf8').includes('Held-out mixtures'));
  assert.equal(readF(pjoin(dir, 'out', 'points.jsonl'), 'utf8').trim().split('\n').length, 12);
});

test('ziya laws run with init: scratch trains the checkpoint\'s shape from fresh weights (every run starts near ln(vocab))', { skip: haveLawsData ? false : '../shared/data lacks stories260K, WikiText-2, Tiny Shakespeare or GSM8K' }, async () => {
  const { r } = await tinyLawsRun('tiny-scratch', ', init: scratch', `train: { batch: 2, seqLen: 32, lr: 0.003, checkpoints: [0, 2, 4, 6] }
bootstrap: 2
gridStride: 256
fScale: 0.001
`);
  const start = r.points.filter((p) => p.step === 0);
  // random weights predict nearly uniformly over the 512 pieces: ln 512 = 6.238
  for (const p of start) assert.ok(Math.abs(p.L - Math.log(512)) < 0.05, String(p.L));
  // and a few steps of training lower the loss on every slice
  for (const s of ['wiki', 'wiki-unpunctuated', 'shakespeare']) assert.ok(r.points.find((p) => p.slice === s && p.step === 6)!.L < start[0]!.L - 0.1, s);
  assert.equal(r.fScale, 0.001);
});
