// The continual pre-training demonstration: stories260K (English) → Chinese + English in three stages.
// 1. samples in-domain English stories from the model itself (train and held-out seeds differ),
// 2. runs recipes/cpt-stories260k.yaml with replay and without it,
// 3. prints held-out loss per domain after each stage for both runs.
// Needs ../shared/data (the model and the corpora); resumable (run it again after an interruption).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
const root = resolve(new URL('..', import.meta.url).pathname);
const shared = resolve(process.env.ZIYA_SHARED_DATA ?? join(root, '../shared/data'));
if (!existsSync(join(shared, 'llama2c-stories260k/stories260K.bin'))) {
  console.log(`skipped: ${shared}/llama2c-stories260k is absent`);
  process.exit(0);
}
const { loadModel } = await import(join(root, 'dist/src/model/load.js'));
const { loadTokenizer } = await import(join(root, 'dist/src/tokenizer/load.js'));
const { generate } = await import(join(root, 'dist/src/model/generate.js'));
const { loadCptRecipe } = await import(join(root, 'dist/src/train/cpt/recipe.js'));
const { runCpt, reportMarkdown } = await import(join(root, 'dist/src/train/cpt/run.js'));

const t0 = performance.now();
const dataDir = join(root, 'runs/cpt-demo/data');
mkdirSync(dataDir, { recursive: true });
const { model } = loadModel(join(shared, 'llama2c-stories260k/stories260K.bin'));
const tok = loadTokenizer(join(shared, 'llama2c-stories260k/tok512.bin'), 'llama2c');
for (const [file, count, seed] of [['stories-heldout.jsonl', 100, 1000000], ['stories-train.jsonl', 800, 1]]) {
  const path = join(dataDir, file);
  if (existsSync(path)) continue;
  const lines = [];
  for (let i = 0; i < count; i++) {
    const g = generate(model, tok, '', { steps: 256, temperature: 1, topP: 0.9, seed: seed + i });
    lines.push(JSON.stringify({ id: `story-${seed + i}`, text: g.text.trim() }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  console.log(`sampled ${count} stories → ${path}`);
}
const recipe = loadCptRecipe(join(root, 'recipes/cpt-stories260k.yaml'));
const withReplay = await runCpt(recipe, { out: join(root, 'runs/cpt-demo/replay') });
const noReplay = await runCpt(recipe, { out: join(root, 'runs/cpt-demo/no-replay'), noReplay: true });
const names = withReplay.heldout.map((h) => h.name);
const row = (label, rep, s) => `| ${label} | ${names.map((n) => (s ? s.heldout[n] : rep.base[n]).toFixed(3)).join(' | ')} |`;
const md = [
  '# Continual pre-training of stories260K: held-out loss per domain (nats/token)',
  '',
  `| after | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---').join('|')}|`,
  row('start', withReplay),
  ...withReplay.stages.map((s) => row(`${s.name} (replay)`, withReplay, s)),
  ...noReplay.stages.map((s) => row(`${s.name} (no replay)`, noReplay, s)),
  '',
  `Wall time ${((performance.now() - t0) / 1000).toFixed(0)} s for both runs (${withReplay.seconds.toFixed(0)} s with replay, ${noReplay.seconds.toFixed(0)} s without).`,
].join('\n');
writeFileSync(join(root, 'runs/cpt-demo/summary.md'), md + '\n');
console.log('\n' + reportMarkdown(withReplay) + '\n' + md);
