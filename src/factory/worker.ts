/** Worker thread: runs the shards the executor sends, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ShardSpec } from '../io/readers.js';
import type { Recipe } from './recipe.js';
import { runShard } from './shard.js';

const { recipe, outDir, pass, globals } = workerData as { recipe: Recipe; outDir: string; pass: number; globals: unknown[] };

parentPort!.on('message', async (msg: { shard: ShardSpec } | { exit: true }) => {
  if ('exit' in msg) {
    process.exit(0);
  }
  try {
    const stats = await runShard(recipe, msg.shard, outDir, (bytes, docs) => parentPort!.postMessage({ progress: { shard: msg.shard.index, bytes, docs } }), pass, globals);
    parentPort!.postMessage({ done: msg.shard.index, stats });
  } catch (e) {
    parentPort!.postMessage({ failed: msg.shard.index, error: (e as Error).stack ?? String(e) });
  }
});
parentPort!.postMessage({ ready: true });
