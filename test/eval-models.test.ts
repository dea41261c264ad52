// The harness's model back-ends: our engine (checked against its KV-cache decoding path), the
// OpenAI-compatible client against our own server (and against servers that cannot score,
// fail, or time out), llama.cpp through node-llama-cpp (parity with our engine on the same
// GGUF), and dataset-hub downloads from a local server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { openEngineLM, EngineLM } from '../src/eval/models/engine.js';
import { LlamaCppLM } from '../src/eval/models/llamacpp.js';
import { OpenAICompletionsLM } from '../src/eval/models/openai.js';
import { serveCompletions } from '../src/eval/serve.js';
import { buildTask } from '../src/eval/registry.js';
import { evaluate } from '../src/eval/runner.js';
import { hubFile, parseHubRef } from '../src/eval/hub.js';
import { loadMcSplit } from '../src/eval/data.js';
import { saveModel } from '../src/model/load.js';
import { generate } from '../src/model/generate.js';
import type { Request } from '../src/eval/task.js';

const STORIES = join(SHARED, 'llama2c-stories260k');
const have = existsSync(join(STORIES, 'stories260K.bin'));
const skip = have ? false : '../shared/data/llama2c-stories260k is absent';
const open = () => openEngineLM(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));

function logSoftmax(x: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  return Float64Array.from(x, (v) => v - m - Math.log(s));
}

test('engine: log-likelihoods equal token-by-token decoding with the KV cache; rolling scores every token once', { skip }, async () => {
  const lm = open();
  const reqs = [
    { context: 'Once upon a time, there was a little girl named Lily.', continuation: ' She loved to play.' },
    { context: 'Once upon a time, there was a little girl named Lily.', continuation: ' The sky was green.' },
    { context: 'Tom had a red ball. ', continuation: 'He threw it.' }, // trailing space moves into the continuation
    { context: '', continuation: 'Lily' },
  ];
  const got = await lm.loglikelihood(reqs);
  for (const [i, r] of reqs.entries()) {
    const { ctx, cont } = lm.encodePair(r.context, r.continuation);
    const cache = lm.model.newCache();
    let lp = 0, logits: Float32Array = new Float32Array(0);
    for (const t of ctx) logits = lm.model.step(t, cache);
    for (const t of cont) {
      lp += logSoftmax(logits)[t]!;
      logits = lm.model.step(t, cache);
    }
    assert.ok(Math.abs(lp - got[i]!.logprob) < 1e-3, `request ${i}: ${lp} vs ${got[i]!.logprob}`);
    assert.equal(got[i]!.tokens, cont.length);
  }
  assert.ok(got[0]!.logprob > got[1]!.logprob, 'a likely story continuation beats an unlikely one');
  // rolling: a text shorter than the context equals the summed decoding log-probabilities
  const text = 'Lily and Tom went to the park. They played with a ball.';
  const ids = [lm.tok.vocab.bosId, ...lm.tok.encode(text)];
  const cache = lm.model.newCache();
  let want = 0;
  for (let i = 0; i + 1 < ids.length; i++) want += logSoftmax(lm.model.step(ids[i]!, cache))[ids[i + 1]!]!;
  const [roll] = await lm.loglikelihoodRolling([{ text }]);
  assert.ok(Math.abs(roll!.logprob - want) < 1e-3);
  assert.equal(roll!.tokens, ids.length - 1);
  // a text four times the context: every token is scored exactly once
  const short = new EngineLM(lm.model, lm.tok, 'short', 'short', 48);
  const long = 'Once upon a time, there was a boy who liked to run. '.repeat(8);
  const [r2] = await short.loglikelihoodRolling([{ text: long }]);
  assert.equal(r2!.tokens, lm.tok.encode(long).length);
  assert.ok(Number.isFinite(r2!.logprob) && r2!.logprob < 0);
});

test('engine: greedy generation equals the sampler at temperature 0 and stops at the stop string', { skip }, async () => {
  const lm = open();
  const [out] = await lm.generateUntil([{ context: 'Once upon a time', until: ['\n'], maxTokens: 60 }]);
  const ref = generate(lm.model, lm.tok, 'Once upon a time', { temperature: 0, steps: 80 });
  const refText = ref.text.slice('Once upon a time'.length);
  assert.ok(refText.startsWith(out!), `${JSON.stringify(out)} vs ${JSON.stringify(refText)}`);
  assert.ok(out!.length > 20);
  const [cut] = await lm.generateUntil([{ context: 'Once upon a time', until: ['Lily'], maxTokens: 60 }]);
  assert.equal(cut, out!.slice(0, out!.indexOf('Lily')));
});

test('OpenAI-compatible client against our server: the same scores as the engine; refusals and failures are clear', { skip }, async () => {
  const lm = open();
  const { server, url } = await serveCompletions(lm, { port: 0 });
  const { server: mute, url: muteUrl } = await serveCompletions(lm, { port: 0, echoLogprobs: false });
  try {
    const client = new OpenAICompletionsLM({ baseUrl: url, model: 'ziya' });
    const task = await buildTask('mmlu', { dataRoot: SHARED, shots: 1 });
    const docs = task.docs.slice(0, 3);
    const reqs = docs.flatMap((d) => task.requests(d)) as Extract<Request, { type: 'loglikelihood' }>[];
    const a = await client.loglikelihood(reqs), b = await lm.loglikelihood(reqs);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]!.logprob - b[i]!.logprob) < 1e-3, `request ${i}: ${a[i]!.logprob} vs ${b[i]!.logprob}`);
    const [ra] = await client.loglikelihoodRolling([{ text: 'Lily saw a cat.' }]), [rb] = await lm.loglikelihoodRolling([{ text: 'Lily saw a cat.' }]);
    assert.ok(Math.abs(ra!.logprob - rb!.logprob) < 1e-3 && ra!.tokens === rb!.tokens);
    const g = { context: 'Once upon a time', until: ['.'], maxTokens: 40, temperature: 0 };
    assert.deepEqual(await client.generateUntil([g]), await lm.generateUntil([g]));
    // a server that returns log-probabilities only for generated tokens: refused, not scored at chance
    const muted = new OpenAICompletionsLM({ baseUrl: muteUrl, model: 'ziya' });
    await assert.rejects(evaluate(task, muted, { limit: 1 }), /returned no log-probabilities for the prompt .* multiple-choice tasks cannot be scored/);
  } finally {
    server.close();
    mute.close();
  }
  // server errors are retried, then reported with the URL and the item
  let hits = 0;
  const failing = createServer((_q, s) => {
    hits++;
    s.writeHead(503).end('overloaded');
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
  const port = (failing.address() as { port: number }).port;
  try {
    const c = new OpenAICompletionsLM({ baseUrl: `http://127.0.0.1:${port}`, model: 'm', retries: 2, backoffMs: 10 });
    const t = await buildTask('gsm8k', { dataRoot: SHARED, shots: 0 });
    await assert.rejects(evaluate(t, c, { limit: 1 }), /gsm8k: item test\/0: http:\/\/127\.0\.0\.1:\d+\/v1\/completions: HTTP 503: overloaded \(after 3 attempts\)/);
    assert.equal(hits, 6, 'three attempts for the batch, three more to name the item');
  } finally {
    failing.close();
  }
  // a server that never answers: the timeout, then the item
  const held: import('node:http').ServerResponse[] = [];
  const silent = createServer((_q, s) => void held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    const slow = new OpenAICompletionsLM({ baseUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, model: 'm', retries: 0, timeoutMs: 300 });
    const t = await buildTask('gsm8k', { dataRoot: SHARED, shots: 0 });
    await assert.rejects(evaluate(t, slow, { limit: 1 }), /gsm8k: item test\/0: .*no answer within 300 ms \(after 1 attempts\)/);
  } finally {
    for (const s of held) s.destroy();
    silent.close();
    silent.closeAllConnections();
  }
});

let peer = true;
try {
  await import('node-llama-cpp');
} catch {
  peer = false;
}

test('llama.cpp through node-llama-cpp: the same log-likelihoods and greedy text as our engine on the same GGUF', { skip: skip || (!peer && 'node-llama-cpp (optional dependency) is not installed') }, async () => {
  const lm = open();
  const gguf = join(tmp(), 's.gguf');
  saveModel(lm.model, gguf, { format: 'gguf', vocab: lm.tok.vocab });
  const lc = await LlamaCppLM.open(gguf, { threads: 1, contextSize: lm.maxLength });
  assert.ok(lc);
  try {
    assert.equal(lc.maxLength, lm.maxLength);
    const task = await buildTask('mmlu', { dataRoot: SHARED });
    const reqs = task.docs.slice(0, 3).flatMap((d) => task.requests(d)) as Extract<Request, { type: 'loglikelihood' }>[];
    const a = await lc.loglikelihood(reqs), b = await lm.loglikelihood(reqs);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]!.logprob - b[i]!.logprob) < 1e-3, `request ${i}: ${a[i]!.logprob} vs ${b[i]!.logprob}`);
    const g = { context: 'Once upon a time', until: ['\n'], maxTokens: 40 };
    assert.deepEqual(await lc.generateUntil([g]), await lm.generateUntil([g]));
  } finally {
    await lc.close();
  }
});

test('dataset hub: files download once into the cache, errors name the URL, hub layouts load', async () => {
  const root = tmp();
  const files: Record<string, string> = {};
  const lines = (n: number, split: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ question: `${split} q${i}`, subject: 'virology', choices: ['a', 'b', 'c', 'd'], answer: i % 4 })).join('\n') + '\n';
  files['/datasets/org/mmlu-like/resolve/main/all/test.jsonl'] = lines(7, 'test');
  files['/datasets/org/mmlu-like/resolve/main/all/dev.jsonl'] = lines(5, 'dev');
  let requests = 0;
  const srv = createServer((q, s) => {
    requests++;
    const body = files[q.url ?? ''];
    if (!body) return s.writeHead(404).end('not found');
    s.writeHead(200).end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  try {
    assert.deepEqual(parseHubRef('hf://datasets/org/mmlu-like@v1/all/test.jsonl'), { repo: 'org/mmlu-like', revision: 'v1', path: 'all/test.jsonl' });
    const cacheDir = join(root, 'cache');
    const t = await hubFile('hf://datasets/org/mmlu-like/all/test.jsonl', { endpoint, cacheDir });
    await hubFile('hf://datasets/org/mmlu-like/all/dev.jsonl', { endpoint, cacheDir });
    assert.equal(readFileSync(t, 'utf8'), files['/datasets/org/mmlu-like/resolve/main/all/test.jsonl']);
    await hubFile('hf://datasets/org/mmlu-like/all/test.jsonl', { endpoint, cacheDir });
    assert.equal(requests, 2, 'the second call is served from the cache');
    await assert.rejects(hubFile('hf://datasets/org/missing/x.parquet', { endpoint, cacheDir }), /resolve\/main\/x\.parquet: HTTP 404/);
    const docs = await loadMcSplit('mmlu', join(cacheDir, 'datasets/org/mmlu-like/main/all'), 'test');
    assert.equal(docs.length, 7);
    assert.deepEqual([docs[2]!.question, docs[2]!.answer, docs[2]!.subject], ['test q2', 2, 'virology']);
  } finally {
    srv.close();
  }
  // a Parquet file as the hub publishes MMLU (choices as a list, answers as int64)
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const dir = join(root, 'pq');
  mkdirSync(dir);
  writeFileSync(join(dir, 'test-00000-of-00001.parquet'), new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'question', data: ['What is 2+2?', 'Capital of France?'] },
    { name: 'subject', data: ['elementary_mathematics', 'geography'] },
    { name: 'choices', data: [['3', '4', '5', '6'], ['Rome', 'Paris', 'Bonn', 'Oslo']] },
    { name: 'answer', data: [1n, 1n], type: 'INT64' },
  ] })));
  const pq = await loadMcSplit('mmlu', dir, 'test');
  assert.deepEqual(pq.map((d) => [d.subject, d.choices[d.answer]]), [['elementary_mathematics', '4'], ['geography', 'Paris']]);
});

test('ziya eval killed with SIGKILL mid-run and started again ends with the results of an uninterrupted run', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const args = (out: string) => ['bin/ziya.js', 'eval', '--model', join(STORIES, 'stories260K.bin'), '--tokenizer', join(STORIES, 'tok512.bin'), '--tasks', 'mmlu', '--limit', '1', '--data', SHARED, '--out', out, '--quiet'];
  const runToEnd = (out: string) => new Promise<{ code: number; stdout: string }>((res) => {
    const c = spawn(process.execPath, args(out), { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.on('close', (code) => res({ code: code ?? -1, stdout }));
  });
  const a = tmp(), b = tmp();
  assert.equal((await runToEnd(a)).code, 0);
  // the interrupted run: killed a few seconds in, with part of the answers committed
  const child = spawn(process.execPath, args(b), { stdio: 'ignore' });
  const { statSync } = await import('node:fs');
  const size = () => (existsSync(join(b, 'cache.sqlite')) ? statSync(join(b, 'cache.sqlite')).size : 0);
  const t0 = Date.now();
  while (size() < 20000 && Date.now() - t0 < 120000) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(join(b, 'results.json')), 'the run was killed before it finished');
  assert.ok(existsSync(join(b, 'cache.sqlite.lock')), 'the killed run left its lock behind');
  const again = await runToEnd(b);
  assert.equal(again.code, 0);
  const reused = Number(/cache: (\d+) answers reused/.exec(again.stdout)?.[1]);
  assert.ok(reused > 0, `the second run resumed from the cache (${again.stdout.trim()})`);
  const ra = JSON.parse(readFileSync(join(a, 'results.json'), 'utf8')), rb = JSON.parse(readFileSync(join(b, 'results.json'), 'utf8'));
  assert.deepEqual(rb.results[0].overall, ra.results[0].overall);
  assert.deepEqual(rb.results[0].subjects, ra.results[0].subjects);
  assert.equal(readFileSync(join(b, 'items', 'mmlu-lm-eval.jsonl'), 'utf8'), readFileSync(join(a, 'items', 'mmlu-lm-eval.jsonl'), 'utf8'));
});
