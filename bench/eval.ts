// Evaluation throughput: MMLU questions per second with the stories260K model (dim 64, 5 layers,
// vocab 512, context 512) on our engine and through llama.cpp (node-llama-cpp 3.21.1, its
// prebuilt CPU binary) on the same GGUF, same questions, same prompts (lm-eval protocol,
// 5-shot, left-truncated to the context), in this session. The two must pick the same answers.
// Also GSM8K generation (tokens/s of greedy decoding) on both. Prints one JSON line at the end.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openEngineLM } from '../src/eval/models/engine.js';
import { LlamaCppLM } from '../src/eval/models/llamacpp.js';
import { buildTask } from '../src/eval/registry.js';
import { evaluate, limitDocs } from '../src/eval/runner.js';
import { saveModel } from '../src/model/load.js';
import type { LM } from '../src/eval/lm.js';
import type { Request } from '../src/eval/task.js';

const SHARED = process.env['ZIYA_SHARED_DATA'] ?? join(process.cwd(), '../shared/data');
const STORIES = join(SHARED, 'llama2c-stories260k');
const perSubject = Number(process.env['BENCH_PER_SUBJECT'] ?? 3);
const threads = Number(process.env['ZIYA_THREADS'] ?? 2);

async function main(): Promise<void> {
  if (!existsSync(join(STORIES, 'stories260K.bin')) || !existsSync(join(SHARED, 'mmlu'))) {
    process.stdout.write('bench/eval: ../shared/data (llama2c-stories260k, mmlu) is absent; skipped\n');
    return;
  }
  const engine = openEngineLM(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));
  const gguf = join(tmpdir(), `ziya-bench-eval-${process.pid}.gguf`);
  saveModel(engine.model, gguf, { format: 'gguf', vocab: engine.tok.vocab });
  const peer = await LlamaCppLM.open(gguf, { threads, contextSize: engine.maxLength });
  const task = await buildTask('mmlu', { dataRoot: SHARED });
  const docs = limitDocs(task.docs, perSubject);
  const sub = { ...task, docs };
  const lines: string[] = [];
  const time = async (lm: LM) => {
    await evaluate({ ...task, docs: docs.slice(0, 4) }, lm); // warm-up
    const t0 = performance.now();
    const { result, items } = await evaluate(sub, lm);
    return { qps: docs.length / ((performance.now() - t0) / 1000), acc: result.overall['acc']!.micro, preds: items.map((i) => i.details['pred']) };
  };
  const ours = await time(engine);
  lines.push(`MMLU (lm-eval, 5-shot, ${docs.length} questions, ${perSubject} per subject), stories260K on our engine: ${ours.qps.toFixed(2)} questions/s, acc ${(100 * ours.acc.mean).toFixed(2)} ± ${(100 * ours.acc.stderr).toFixed(2)}%`);
  const out: Record<string, unknown> = { name: 'eval_mmlu_questions_per_s', value: Number(ours.qps.toFixed(2)), unit: 'questions/s', questions: docs.length, acc: Number(ours.acc.mean.toFixed(4)) };
  // greedy generation speed on GSM8K prompts
  const gsm = await buildTask('gsm8k', { dataRoot: SHARED, maxTokens: 128 });
  const greqs = gsm.docs.slice(0, 6).flatMap((d) => gsm.requests(d)) as Extract<Request, { type: 'generate' }>[];
  const genSpeed = async (lm: LM) => {
    const t0 = performance.now();
    const outs = await lm.generateUntil(greqs.map(({ type: _t, ...g }) => ({ ...g, until: [] })));
    const tokens = outs.reduce((s, o) => s + engine.encode(o).length, 0);
    return { tps: tokens / ((performance.now() - t0) / 1000), outs };
  };
  const gOurs = await genSpeed(engine);
  out['gsm8k_generate_tokens_per_s'] = Math.round(gOurs.tps);
  if (peer) {
    const theirs = await time(peer);
    const agree = ours.preds.filter((p, i) => p === theirs.preds[i]).length;
    const gTheirs = await genSpeed(peer);
    const sameText = gOurs.outs.filter((o, i) => o === gTheirs.outs[i]).length;
    lines.push(`the same questions through llama.cpp (node-llama-cpp, ${threads} threads): ${theirs.qps.toFixed(2)} questions/s, acc ${(100 * theirs.acc.mean).toFixed(2)}%; ${agree}/${docs.length} answers identical`);
    lines.push(`ratio ours / llama.cpp: ${(ours.qps / theirs.qps).toFixed(2)}×`);
    lines.push(`GSM8K greedy generation (128 tokens × ${greqs.length}): ours ${Math.round(gOurs.tps)} tokens/s, llama.cpp ${Math.round(gTheirs.tps)} tokens/s (${sameText}/${greqs.length} texts identical)`);
    Object.assign(out, { peer: `llama.cpp via node-llama-cpp (${threads} threads)`, peer_value: Number(theirs.qps.toFixed(2)), ratio: Number((ours.qps / theirs.qps).toFixed(2)), answers_identical: `${agree}/${docs.length}`, peer_gsm8k_generate_tokens_per_s: Math.round(gTheirs.tps) });
    await peer.close();
  } else {
    lines.push('node-llama-cpp is not installed: no peer figure');
    Object.assign(out, { peer: 'llama.cpp (not installed)', peer_value: null, ratio: null });
  }
  process.stdout.write(lines.join('\n') + '\n' + JSON.stringify(out) + '\n');
}

await main();
