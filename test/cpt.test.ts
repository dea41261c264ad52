// Continual pre-training runner: recipe checks, a three-stage run with replay on tiny data, resume
// after it finished, and the errors that must come before any training step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { parseCptRecipe } from '../src/train/cpt/recipe.js';
import { runCpt } from '../src/train/cpt/run.js';
import { blend } from '../src/train/cpt/data.js';
import { Llama } from '../src/model/llama.js';
import { defaultConfig } from '../src/model/config.js';
import { saveModel } from '../src/model/load.js';

const TOK = join(SHARED, 'llama2c-stories260k/tok512.bin');
const skip = existsSync(TOK) ? false : '../shared/data/llama2c-stories260k is absent';

function setup(vocab = 512) {
  const dir = tmp();
  const en = Array.from({ length: 120 }, (_, i) => JSON.stringify({ text: `Once upon a time there was a cat number ${i}. The cat liked to play in the sun.` })).join('\n');
  writeFileSync(join(dir, 'en.jsonl'), en + '\n');
  writeFileSync(join(dir, 'zh.txt'), Array.from({ length: 120 }, (_, i) => `今天天气很好，我们去公园散步，第${i}次看到小猫。`).join('\n') + '\n');
  writeFileSync(join(dir, 'qa.tsv'), 'q\ta\n' + Array.from({ length: 40 }, (_, i) => `${i} plus one?\t${i + 1}`).join('\n') + '\n');
  saveModel(Llama.init(defaultConfig({ dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: vocab, maxSeqLen: 64, hiddenDim: 64 }), 3), join(dir, 'base.bin'), { format: 'llama2c' });
  const raw = {
    name: 'tiny',
    base: { model: 'base.bin', tokenizer: TOK },
    seqLen: 32,
    batch: 4,
    optimizer: { lr: 0.003 },
    checkpointEvery: 5,
    heldout: [{ name: 'en', path: 'en.jsonl', skip: 100, documents: 20 }],
    stages: [
      { name: 'general', tokens: 32 * 4 * 12, sources: [{ name: 'en', path: 'en.jsonl', maxDocuments: 100, weight: 1 }, { name: 'zh', path: 'zh.txt', lines: true, weight: 1 }] },
      { name: 'supervised', tokens: 32 * 4 * 6, sources: [{ name: 'qa', path: 'qa.tsv', task: 'qa', prompt: 'Question: {q} Answer:', answer: ' {a}', weight: 1 }], replay: { general: 1 } },
      { name: 'math', tokens: 32 * 4 * 4, sources: [{ name: 'qa2', path: 'qa.tsv', task: 'math', prompt: 'Q: {q} A:', answer: ' {a}', weight: 1 }], replay: { general: 0.25, supervised: 0.25 } },
    ],
  };
  return { dir, raw };
}

test('blending gives every component its share in every prefix (within one row)', () => {
  const a = blend([0.5, 0.3, 0.2], 1000);
  const count = [0, 0, 0];
  a.forEach((c, r) => {
    count[c]!++;
    [0.5, 0.3, 0.2].forEach((w, k) => assert.ok(Math.abs(count[k]! - w * (r + 1)) <= 1));
  });
});

test('recipe errors name the path: replay of a later stage, unknown keys, too few tokens for one step', () => {
  const { raw } = setup();
  const bad = (mut: (r: any) => void, re: RegExp) => { const r = structuredClone(raw); mut(r); assert.throws(() => parseCptRecipe(r, 'x.yaml', '/'), re); };
  bad((r) => { r.stages[0].replay = { math: 1 }; }, /stages\[0\]\.replay: "math" is not an earlier stage/);
  bad((r) => { r.stages[1].sources[0].colour = 1; }, /unknown key "colour"/);
  bad((r) => { r.stages[2].tokens = 10; }, /stages\[2\]\.tokens: 10 is less than one step/);
  bad((r) => { r.stages[0].sources[0].weight = -1; }, /stages\[0\]\.sources\[0\]/);
  bad((r) => { r.stages[0].sources[0].tokens = 100; }, /either a weight or a token budget/);
  bad((r) => { r.stages[2].replay = { general: { tokens: 10_000 } }; }, /stages\[2\]: the token budgets \(10,000\) exceed the stage's 512 tokens/);
  bad((r) => { r.stages[0].sources = [{ name: 'en', path: 'en.jsonl', tokens: 500 }, { name: 'zh', path: 'zh.txt', tokens: 200 }]; }, /the token budgets sum to 700, the stage has 1,536 tokens/);
});

test('stage shares: token budgets take their part, weights split the rest; without replay the sources are renormalised', async () => {
  const { stageShares } = await import('../src/train/cpt/recipe.js');
  const stage = { name: 's', tokens: 1000, sources: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }], replay: { x: { tokens: 100 }, y: 1 } } as never;
  const sh = stageShares(stage);
  const by = Object.fromEntries(sh.map((c) => [c.name, c.share]));
  assert.ok(Math.abs(by['replay:x']! - 0.1) < 1e-12);
  assert.ok(Math.abs(by.a! - 0.9 * 0.6) < 1e-12 && Math.abs(by.b! - 0.9 * 0.2) < 1e-12 && Math.abs(by['replay:y']! - 0.9 * 0.2) < 1e-12);
  const nr = stageShares(stage, { noReplay: true });
  assert.deepEqual(nr.map((c) => c.name), ['a', 'b']);
  assert.ok(Math.abs(nr[0]!.share - 0.75) < 1e-12);
});

test('three stages with replay on tiny data: report, held-out loss, resume skips finished stages', { skip }, async () => {
  const { dir, raw } = setup();
  writeFileSync(join(dir, 'r.json'), JSON.stringify(raw));
  const r = parseCptRecipe(raw, join(dir, 'r.json'), dir);
  const rep = await runCpt(r, { out: join(dir, 'run'), quiet: true });
  assert.deepEqual(rep.stages.map((s) => s.name), ['general', 'supervised', 'math']);
  assert.deepEqual(rep.stages.map((s) => s.steps), [12, 6, 4]);
  assert.ok(Number.isFinite(rep.base.en!) && rep.stages.every((s) => Number.isFinite(s.heldout.en!)));
  const sup = rep.stages[1]!.usage;
  assert.deepEqual(sup.map((u) => [u.name, u.rows]), [['qa', 12], ['replay:general', 12]]);
  assert.ok(existsSync(join(dir, 'run/stages/math/model/model.safetensors')));
  assert.match(readFileSync(join(dir, 'run/report.md'), 'utf8'), /\| general \| 12 \|/);
  // every step of every stage logged once
  for (const s of rep.stages) {
    const recs = readFileSync(join(dir, 'run/stages', s.name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; eval?: Record<string, number> });
    assert.deepEqual(recs.filter((x) => !x.eval).map((x) => x.step), Array.from({ length: s.steps }, (_, i) => i));
    // held-out loss at the end of the stage, as the report has it
    assert.deepEqual(recs.filter((x) => x.eval).pop(), { step: s.steps, eval: s.heldout });
    const html = readFileSync(join(dir, 'run/stages', s.name, 'monitor.html'), 'utf8');
    assert.match(html, /finished/);
    assert.match(html, /held-out loss per domain<\/figcaption><svg/);
    assert.doesNotMatch(html, /http-equiv="refresh"/);
  }
  const again = await runCpt(r, { out: join(dir, 'run'), quiet: true });
  assert.deepEqual(again.stages.map((s) => s.heldout.en), rep.stages.map((s) => s.heldout.en));
});

test('a tokenizer larger than the checkpoint\'s vocabulary is refused before training', { skip }, async () => {
  const { dir, raw } = setup(300);
  const r = parseCptRecipe(raw, join(dir, 'r.json'), dir);
  await assert.rejects(runCpt(r, { out: join(dir, 'run'), quiet: true }), /the tokenizer has 512 pieces but the model's vocabulary is 300/);
  assert.equal(existsSync(join(dir, 'run/stages')), false);
});

test('export megatron: token files per source, one launch script per stage with the blend, replays and budgets', { skip }, async () => {
  const { dir, raw } = setup();
  const { gzipSync } = await import('node:zlib');
  writeFileSync(join(dir, 'code.jsonl.gz'), gzipSync(Array.from({ length: 10 }, (_, i) => JSON.stringify({ language: 'python', code: `print(${i})` })).join('\n') + '\n'));
  (raw.stages[0]!.sources as unknown[]).push({ name: 'code', path: 'code.jsonl.gz', template: '```{language}\n{code}\n```', weight: 2 });
  const r = parseCptRecipe(raw, join(dir, 'r.json'), dir);
  const { exportMegatron } = await import('../src/train/cpt/export.js');
  const { IndexedDataset } = await import('../src/data/indexed.js');
  const { loadTokenizer } = await import('../src/tokenizer/load.js');
  const out = join(dir, 'megatron');
  const res = await exportMegatron(r, { out });
  assert.equal(res.scripts.length, 3);
  const code = IndexedDataset.open(join(out, 'data/general/code'));
  const tok = loadTokenizer(TOK);
  assert.equal(code.documentCount, 10);
  assert.deepEqual([...code.get(3)], [...tok.encode('```python\nprint(3)\n```', { bos: true }), 2]);
  const qa = IndexedDataset.open(join(out, 'data/supervised/qa'));
  assert.equal(qa.documentCount, 40);
  assert.deepEqual([...qa.get(0)], [...tok.encode('Question: 0 plus one? Answer:', { bos: true }), ...tok.encode(' 1'), 2]);
  const s2 = readFileSync(res.scripts[1]!, 'utf8');
  // stage 2: qa 1 + replay of general (en 1, zh 1, code 2 → 0.25, 0.25, 0.5 of weight 1), normalised over 2
  assert.match(s2, /--data-path 0\.500000 data\/supervised\/qa 0\.125000 data\/general\/en 0\.125000 data\/general\/zh 0\.250000 data\/general\/code/);
  assert.match(s2, /--train-samples 24 /);
  assert.match(s2, /--load "\$CKPT\/general" --finetune/);
  assert.match(s2, /--group-query-attention --num-query-groups 2/);
  assert.match(readFileSync(res.scripts[0]!, 'utf8'), /--load "\$CKPT\/base" --finetune --no-load-optim --no-load-rng/);
  // the scripts are valid bash and run pretrain_gpt.py with these arguments (torchrun stubbed)
  const { spawnSync } = await import('node:child_process');
  for (const sc of res.scripts) assert.equal(spawnSync('bash', ['-n', sc]).status, 0, sc);
  const run = spawnSync('bash', ['-c', `torchrun() { printf '%s\\n' "$@"; }; export -f torchrun; bash ${JSON.stringify(res.scripts[2]!)}`], { encoding: 'utf8', env: { ...process.env, MEGATRON: '/opt/megatron' } });
  assert.equal(run.status, 0, run.stderr);
  const args = run.stdout.split('\n');
  assert.equal(args[args.indexOf('--train-samples') + 1], '16');
  assert.equal(args[args.indexOf('--load') + 1], '$CKPT/supervised'.replace('$CKPT', 'checkpoints'));
  assert.ok(args.includes('/opt/megatron/pretrain_gpt.py'));
  code.close();
  qa.close();
});
