/**
 * Training-engine benchmark: tokens/s of a full training step (forward, backward, gradient
 * clipping, AdamW) for the three shapes of the issue, against PyTorch running the same model
 * in the same session (interleaved, best thread setting), and GEMM GFLOP/s on 1024^3 against
 * OpenBLAS (a small C program linked with -lopenblas, built here when libopenblas-dev is
 * installed). Ends with one JSON line per figure and a summary JSON line.
 *
 *   node dist/bench/train.js [--shapes A,B,C] [--rounds 2] [--steps N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, llamaHiddenDim, type LlamaConfig } from '../src/model/config.js';
import { Llama } from '../src/model/llama.js';
import { backprop } from '../src/tensor/ops.js';
import { AdamW, clipGradNorm } from '../src/train/optim.js';
import { backend, nativeThreads, setNativeThreads, nativeGemmKernel } from '../src/tensor/index.js';
import { engine } from '../src/tensor/tensor.js';
import { rng } from '../src/core/hash.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1]! : d;
};

interface Shape { name: string; dim: number; layers: number; heads: number; vocab: number; seq: number; batch: number; steps: number }
const SHAPES: Shape[] = [
  { name: 'A', dim: 64, layers: 2, heads: 4, vocab: 512, seq: 256, batch: 8, steps: 30 },
  { name: 'B', dim: 288, layers: 6, heads: 6, vocab: 32000, seq: 256, batch: 8, steps: 4 },
  { name: 'C', dim: 512, layers: 8, heads: 8, vocab: 32000, seq: 512, batch: 4, steps: 3 },
];

function configOf(s: Shape): LlamaConfig {
  return defaultConfig({ dim: s.dim, nLayers: s.layers, nHeads: s.heads, vocabSize: s.vocab, maxSeqLen: s.seq, hiddenDim: llamaHiddenDim(s.dim, 32) });
}

function ours(s: Shape, steps: number): number {
  const m = Llama.init(configOf(s), 1);
  const opt = new AdamW(m.params, { lr: 3e-4, betas: [0.9, 0.95], weightDecay: 0.1 });
  const r = rng(2);
  const n = s.batch * s.seq;
  const x = Int32Array.from({ length: n }, () => Math.floor(r() * s.vocab));
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * s.vocab));
  const step = () => {
    const { loss } = m.loss({ ids: x, B: s.batch, T: s.seq }, y);
    backprop(loss);
    clipGradNorm(m.params.values(), 1.0);
    opt.update();
    opt.zeroGrad();
  };
  step(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (n * steps) / ((performance.now() - t0) / 1000);
}

function findTorchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

function torchRun(py: string, s: Shape, steps: number, threads: number): number | null {
  const r = spawnSync(py, [join(root, 'bench/peer/train_torch.py'), ...[s.dim, s.layers, s.heads, s.vocab, s.seq, s.batch, llamaHiddenDim(s.dim, 32), steps, threads].map(String)], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(r.stderr.split('\n').slice(-3).join('\n')); return null; }
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokens_per_s: number }).tokens_per_s;
}

function gemmOurs(n: number, threads: number, reps = 5): number {
  setNativeThreads(threads);
  const r = rng(3);
  const A = Float32Array.from({ length: n * n }, () => r() - 0.5), B = A.slice(), C = new Float32Array(n * n);
  const be = backend();
  be.gemm(false, false, n, n, n, 1, A, B, 0, C);
  let best = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) be.gemm(false, false, n, n, n, 1, A, B, 0, C);
    best = Math.max(best, (2 * n ** 3 * reps) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return best;
}

function buildOpenblas(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'ziya-openblas-'));
  const src = join(dir, 'sgemm.c'), bin = join(dir, 'sgemm');
  writeFileSync(src, `#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int c, char** v) { int n = atoi(v[1]), reps = 5; float *A = malloc(4L*n*n), *B = malloc(4L*n*n), *C = malloc(4L*n*n);
for (long i = 0; i < (long)n*n; i++) { A[i] = rand() / (float)RAND_MAX - .5f; B[i] = A[i]; }
cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n); double best = 0;
for (int k = 0; k < 3; k++) { struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
clock_gettime(CLOCK_MONOTONIC, &b); double g = 2.0*n*n*n*reps / ((b.tv_sec-a.tv_sec) + (b.tv_nsec-a.tv_nsec)*1e-9) / 1e9; if (g > best) best = g; }
printf("%.2f\\n", best); return 0; }
`);
  const r = spawnSync('cc', ['-O2', src, '-o', bin, '-lopenblas'], { encoding: 'utf8' });
  return r.status === 0 && existsSync(bin) ? bin : null;
}

function gemmOpenblas(bin: string, n: number, threads: number): number {
  const r = spawnSync(bin, [String(n)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads) } });
  return Number(r.stdout.trim());
}

const results: Record<string, unknown>[] = [];
const emit = (o: Record<string, unknown>) => { results.push(o); console.log(JSON.stringify(o)); };

engine.checkFinite = process.env.ZIYA_CHECK_FINITE === '1';
const maxThreads = nativeThreads();
console.log(`# backend ${backend().name}, GEMM kernel ${nativeGemmKernel ?? 'none'}, ${maxThreads} threads; NaN/Inf checks ${engine.checkFinite ? 'on' : 'off'}`);
const rounds = Number(arg('rounds', '2'));
const wanted = arg('shapes', 'A,B,C').split(',');

// ---- GEMM
const blas = buildOpenblas();
if (!blas) console.log('# OpenBLAS comparison skipped: cc -lopenblas failed (apt-get install libopenblas-dev)');
for (const threads of [1, maxThreads]) {
  let o = 0, p = 0;
  for (let k = 0; k < rounds; k++) {
    o = Math.max(o, gemmOurs(1024, threads));
    if (blas) p = Math.max(p, gemmOpenblas(blas, 1024, threads));
  }
  emit({ name: `gemm_1024_${threads}t`, value: +o.toFixed(1), unit: 'GFLOP/s', peer: blas ? 'OpenBLAS' : null, peer_value: blas ? +p.toFixed(1) : null, ratio: blas ? +(o / p).toFixed(2) : null });
  if (threads === maxThreads) break;
}
setNativeThreads(maxThreads);

// ---- training
const py = findTorchPython();
if (!py) console.log('# PyTorch comparison skipped: no python3 with torch (apt-get install python3-torch libopenblas0-pthread)');
for (const s of SHAPES.filter((x) => wanted.includes(x.name))) {
  const steps = Number(arg('steps', String(s.steps)));
  let best = 0, peer = 0, peerThreads = 0;
  for (let k = 0; k < rounds; k++) {
    best = Math.max(best, ours(s, steps));
    if (py)
      for (const t of [1, maxThreads]) {
        const v = torchRun(py, s, steps, t);
        if (v && v > peer) { peer = v; peerThreads = t; }
        if (t === maxThreads) break;
      }
    console.log(`# shape ${s.name} round ${k + 1}: ours ${best.toFixed(0)} tok/s, PyTorch ${peer.toFixed(0)} tok/s (best so far)`);
  }
  emit({ name: `train_${s.name}`, shape: `dim ${s.dim}, ${s.layers} layers, ${s.heads} heads, vocab ${s.vocab}, seq ${s.seq}, batch ${s.batch}`, value: +best.toFixed(0), unit: 'tokens/s', peer: py ? `PyTorch (${peerThreads} threads)` : null, peer_value: py ? +peer.toFixed(0) : null, ratio: py && peer ? +(best / peer).toFixed(2) : null });
}
const ratios = results.filter((r) => String(r.name).startsWith('train_') && typeof r.ratio === 'number').map((r) => r.ratio as number);
console.log(JSON.stringify({ name: 'bench_train', value: ratios.length ? Math.min(...ratios) : null, unit: 'x PyTorch tokens/s (lowest over the shapes run)', peer: py ? 'PyTorch (Debian python3-torch, best of 1 and all threads)' : null, peer_value: 1, ratio: ratios.length ? Math.min(...ratios) : null, results }));
