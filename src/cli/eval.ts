/** `ziya eval`: the benchmark harness (src/eval) on our engine, llama.cpp, a server or a scripted model. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runHarness } from '../eval/harness.js';
import { BENCHMARKS, parseBenchmarks, parseProtocol, type Benchmark } from '../eval/registry.js';
import { openEngineLM } from '../eval/models/engine.js';
import { LlamaCppLM } from '../eval/models/llamacpp.js';
import { OpenAICompletionsLM } from '../eval/models/openai.js';
import { RandomLM } from '../eval/models/scripted.js';
import { Sandbox } from '../eval/sandbox.js';
import { runHostileSuite } from '../eval/hostile.js';
import { readTrack, trackHtml } from '../eval/report.js';
import { serveCompletions } from '../eval/serve.js';
import { hubFile } from '../eval/hub.js';
import type { LM } from '../eval/lm.js';

interface RunOpts {
  model?: string;
  tokenizer?: string;
  llamacpp?: string;
  server?: string;
  serverModel: string;
  apiKey?: string;
  logprobs: boolean;
  scripted?: string;
  tasks: string;
  data: string;
  protocol: string;
  shots?: number;
  limit?: number;
  samples?: number;
  temperature?: number;
  maxTokens?: number;
  maxLength?: number;
  cevalSplit: string;
  threads: number;
  out: string;
  cache?: string | false;
  stage?: string;
  track?: string;
  timeoutMs: number;
  quiet?: boolean;
  [k: string]: unknown;
}

async function openModel(o: RunOpts): Promise<LM | 'gold'> {
  const given = [o.model, o.llamacpp, o.server, o.scripted].filter(Boolean).length;
  if (given !== 1) throw new Error('give exactly one of --model, --llamacpp, --server, --scripted');
  if (o.scripted) {
    if (o.scripted === 'gold') return 'gold';
    if (o.scripted === 'random') return new RandomLM(0);
    throw new Error(`--scripted ${o.scripted}: expected gold or random`);
  }
  if (o.model) return openEngineLM(o.model, o.tokenizer, o.maxLength);
  if (o.llamacpp) {
    const lm = await LlamaCppLM.open(o.llamacpp, { threads: o.threads, contextSize: o.maxLength });
    if (!lm) throw new Error('node-llama-cpp (an optional dependency) is not installed or cannot load its prebuilt binary');
    return lm;
  }
  return new OpenAICompletionsLM({ baseUrl: o.server!, model: o.serverModel, apiKey: o.apiKey ?? process.env['OPENAI_API_KEY'], scoring: o.logprobs });
}

const int = (v: string) => parseInt(v, 10);

export function evalCommands(prog: Command): void {
  const e = prog.command('eval').description('benchmarks (MMLU, CMMLU, C-Eval, GSM8K, MATH, HumanEval) for our checkpoints and real models');
  const run = e.command('run', { isDefault: true })
    .description('evaluate one model; prints a table, writes results.json, report.html and a tracking line (cached: a rerun computes only what changed)')
    .option('--model <path>', 'our engine: a checkpoint (llama2.c .bin, HF folder, .gguf)')
    .option('--tokenizer <path>', 'tokenizer for --model (not needed for GGUF)')
    .option('--llamacpp <gguf>', 'llama.cpp through node-llama-cpp')
    .option('--server <url>', 'an OpenAI-compatible completions server')
    .option('--server-model <name>', 'model name sent to the server', 'default')
    .option('--api-key <key>', 'bearer token for the server (default: OPENAI_API_KEY)')
    .option('--no-logprobs', 'the server returns no prompt log-probabilities (multiple-choice tasks are refused)')
    .option('--scripted <kind>', 'sanity models: gold (knows every answer) or random (uniform guess)')
    .option('--tasks <list>', `comma-separated benchmarks (${BENCHMARKS.join(', ')})`, BENCHMARKS.join(','))
    .option('--data <dir>', 'data root laid out like ../shared/data', '../shared/data')
    .option('--protocol <p>', 'multiple-choice protocol: lm-eval, original or opencompass', 'lm-eval')
    .option('--shots <n>', 'few-shot examples (default: 5 for MMLU/CMMLU/C-Eval/GSM8K, 4 for MATH)', int)
    .option('--limit <n>', 'at most n questions per subject', int)
    .option('--samples <n>', 'HumanEval samples per problem (>= 10 gives pass@10)', int)
    .option('--temperature <t>', 'HumanEval sampling temperature when samples > 1', Number)
    .option('--max-tokens <n>', 'generation limit (default: GSM8K 256, MATH 512, HumanEval 512)', int)
    .option('--max-length <n>', "model context (default: the model's)", int)
    .option('--ceval-split <split>', 'C-Eval split to score', 'val')
    .option('--threads <n>', 'llama.cpp threads', int, 2)
    .option('--out <dir>', 'output folder', 'runs/eval')
    .option('--cache <file>', 'SQLite result cache (default OUT/cache.sqlite)')
    .option('--no-cache', 'no result cache')
    .option('--stage <name>', 'training stage this checkpoint belongs to (for tracking)')
    .option('--track <file>', 'tracking file shared across checkpoints (default OUT/track.jsonl)')
    .option('--timeout-ms <ms>', 'HumanEval wall-clock limit per program', int, 5000)
    .option('--quiet', 'no progress lines');
  for (const b of BENCHMARKS) run.option(`--${b} <path>`, `${b} data (folder, file, or hf://datasets/... file)`);
  run.action(async (o: RunOpts) => {
    const paths: Partial<Record<Benchmark, string>> = {};
    for (const b of BENCHMARKS) {
      const v = o[b];
      if (typeof v === 'string') paths[b] = v.startsWith('hf://') ? await hubFile(v) : v;
    }
    const model = await openModel(o);
    const r = await runHarness(model, {
      benchmarks: parseBenchmarks(o.tasks),
      dataRoot: o.data,
      paths,
      protocol: parseProtocol(o.protocol),
      shots: o.shots,
      samples: o.samples,
      temperature: o.temperature,
      maxTokens: o.maxTokens,
      cevalSplit: o.cevalSplit,
      out: o.out,
      cache: o.cache === false ? null : o.cache,
      limit: o.limit,
      stage: o.stage,
      track: o.track,
      sandbox: { timeoutMs: o.timeoutMs },
      progress: !o.quiet,
    });
    for (const t of r.results) process.stdout.write(`${t.task} [${t.protocol}]: ${t.scoring}\n`);
    process.stdout.write(`\n${r.table}\n\ncache: ${r.cacheHits} answers reused, ${r.cacheMisses} computed\nresults: ${r.json}\nreport:  ${r.html}\ntrack:   ${r.track}\n`);
    for (const t of r.results) for (const w of t.warnings) process.stderr.write(`warning: ${w}\n`);
  });
  e.command('track')
    .description("draw a tracking file as Ziya2's Figure 6 (every benchmark across training stages)")
    .argument('<file>', 'track.jsonl')
    .option('--out <html>', 'output HTML', 'track.html')
    .action((file: string, o: { out: string }) => {
      writeFileSync(o.out, trackHtml(readTrack(file)));
      process.stdout.write(`${o.out}\n`);
    });
  e.command('serve')
    .description('an OpenAI-compatible completions server (echo + logprobs) over one of our checkpoints')
    .requiredOption('--model <path>', 'checkpoint')
    .option('--tokenizer <path>', 'tokenizer (not needed for GGUF)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port', int, 8080)
    .option('--name <name>', 'model name reported by /v1/models', 'ziya')
    .action(async (o: { model: string; tokenizer?: string; host: string; port: number; name: string }) => {
      const lm = openEngineLM(o.model, o.tokenizer);
      const { url } = await serveCompletions(lm, { host: o.host, port: o.port, modelName: o.name });
      process.stdout.write(`serving ${o.model} at ${url}/v1/completions\n`);
    });
  e.command('sandbox-check')
    .description('run the hostile-program suite (fork bomb, memory bomb, network, files, environment, stray processes) in the HumanEval sandbox')
    .option('--no-guard', 'leave out the interpreter guard (test the kernel isolation alone)')
    .option('--timeout-ms <ms>', 'wall-clock limit per program', int, 3000)
    .action(async (o: { guard: boolean; timeoutMs: number }) => {
      const sb = Sandbox.open({ guard: o.guard });
      process.stdout.write(`${sb.describe()}\n`);
      const res = await runHostileSuite(sb, { timeoutMs: o.timeoutMs });
      for (const r of res) process.stdout.write(`${r.contained ? 'contained' : 'ESCAPED  '}  ${r.name.padEnd(42)} ${r.status.padEnd(10)} ${String(r.wallMs).padStart(5)} ms${r.escaped ? `  ${r.escaped}` : ''}\n`);
      if (res.some((r) => !r.contained)) process.exitCode = 1;
    });
  e.command('fetch')
    .description('download a dataset-hub file into the local cache and print its path')
    .argument('<ref>', 'hf://datasets/<owner>/<name>[@revision]/<path>')
    .action(async (ref: string) => {
      process.stdout.write((await hubFile(ref)) + '\n');
    });
}
