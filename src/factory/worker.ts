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

/** shards whose outputs are still being committed (the worker already took its next shard) */
const committing = new Set<Promise<void>>();

parentPort!.on('message', async (msg: { shard: ShardSpec } | { task: number; io: { dir: string; shards: string[] } } | { exit: true }) => {
  if ('exit' in msg) {
    // (a commit still waiting on the disk ends, and says so, first)
    await Promise.all(committing);
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
  // exactly one { next } per shard: as soon as its documents are through the steps (its commit,
  // mostly the fsync of its data, then overlaps the next shard), else once it is done or failed
  let asked = false;
  const ask = () => {
    if (asked) return;
    asked = true;
    parentPort!.postMessage({ next: true });
  };
  const run = (async () => {
    try {
      const stats = await runShard(recipe, msg.shard, outDir, (bytes, docs) => parentPort!.postMessage({ progress: { shard: msg.shard.index, bytes, docs } }), pass, globals, ask);
      parentPort!.postMessage({ done: msg.shard.index, stats });
    } catch (e) {
      parentPort!.postMessage({ failed: msg.shard.index, error: (e as Error).stack ?? String(e) });
    } finally {
      ask();
    }
  })();
  committing.add(run);
  void run.finally(() => committing.delete(run));
});
parentPort!.postMessage({ ready: true });
