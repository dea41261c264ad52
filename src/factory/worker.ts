/** Worker thread: runs the shards the executor sends, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ShardSpec } from '../io/readers.js';
import type { Recipe } from './recipe.js';
import { runShard } from './shard.js';
import { registerSharedModels } from '../lm/load.js';
import { buildStep, loadStepModules } from './build.js';
import { isCorpusStep } from '../core/step.js';
import { readChecked } from '../io/writers.js';
import { join } from 'node:path';

const { recipe, outDir, pass, globals, sharedModels } = workerData as { recipe: Recipe; outDir: string; pass: number; globals: unknown[]; sharedModels?: Record<string, { buf: SharedArrayBuffer; unkMissing: boolean }> };
registerSharedModels(sharedModels);

parentPort!.on('message', async (msg: { shard: ShardSpec } | { task: number; io: { dir: string; shards: string[] } } | { exit: true }) => {
  if ('exit' in msg) {
    process.exit(0);
  }
  if ('task' in msg) {
    // a corpus step's parallel task (e.g. the bucket stage of one band)
    try {
      await loadStepModules(recipe.steps);
      const step = recipe.steps.map((x) => buildStep(x)).filter(isCorpusStep)[pass]!;
      const states = msg.io.shards.map((s) => readChecked(join(msg.io.dir, `${s}.json`)));
      step.runTask!(msg.task, states, msg.io);
      parentPort!.postMessage({ taskDone: msg.task });
    } catch (e) {
      parentPort!.postMessage({ taskFailed: msg.task, error: (e as Error).stack ?? String(e) });
    }
    return;
  }
  try {
    const stats = await runShard(recipe, msg.shard, outDir, (bytes, docs) => parentPort!.postMessage({ progress: { shard: msg.shard.index, bytes, docs } }), pass, globals);
    parentPort!.postMessage({ done: msg.shard.index, stats });
  } catch (e) {
    parentPort!.postMessage({ failed: msg.shard.index, error: (e as Error).stack ?? String(e) });
  }
});
parentPort!.postMessage({ ready: true });
