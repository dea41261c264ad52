/**
 * The training loop, read top to bottom as in nanoGPT/llm.c: batch → forward → loss → backward →
 * clip → AdamW with the scheduled learning rate → metrics, with checkpoints that make a killed run
 * resume exactly (the batch of step s is a pure function of s; weights, AdamW moments and the step
 * are saved atomically; kernels are deterministic), metrics as JSONL and a progress line.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../io/writers.js';
import { readSafetensors, writeSafetensors } from '../model/formats/safetensors.js';
import type { Llama } from '../model/llama.js';
import type { Precision } from '../model/config.js';
import { backprop } from '../tensor/ops.js';
import { NonFiniteError, discardTape } from '../tensor/tensor.js';
import { Progress } from '../ui/progress.js';
import { monitorHtml, type MonitorPoint } from '../ui/monitor.js';
import { AdamW, clipGradNorm, cosineLr, type Schedule } from './optim.js';
import type { TrainBatch } from '../data/packing.js';

/** batches as a pure function of the step, so that a resumed run sees the same data */
export interface BatchSource {
  batch(step: number): TrainBatch;
}

export interface TrainConfig {
  steps: number;
  schedule: Schedule;
  clip?: number;
  betas?: [number, number];
  weightDecay?: number;
  eps?: number;
  precision?: Precision;
  checkpointDir?: string;
  checkpointEvery?: number;
  /** checkpoints kept (oldest removed) */
  keep?: number;
  metricsPath?: string;
  /** a self-refreshing HTML view of the metrics, rewritten every couple of seconds */
  monitorPath?: string;
  evalEvery?: number;
  evaluate?: (model: Llama, step: number) => Record<string, number>;
  /** label for the progress line */
  label?: string;
  quiet?: boolean;
  /** what identifies this run; a checkpoint of another run is refused */
  fingerprint?: string;
}

export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  skipped?: string;
}

export class TrainerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainerError';
  }
}

export class Trainer {
  readonly opt: AdamW;
  step = 0;
  resumedFrom: number | null = null;
  readonly history: StepMetrics[] = [];

  constructor(readonly model: Llama, readonly data: BatchSource, readonly cfg: TrainConfig) {
    this.opt = new AdamW(model.params, { betas: cfg.betas ?? [0.9, 0.95], weightDecay: cfg.weightDecay ?? 0.1, eps: cfg.eps ?? 1e-8 });
  }

  private fingerprint(): string {
    return createHash('sha256').update(JSON.stringify({ config: this.model.config, steps: this.cfg.steps, schedule: this.cfg.schedule, precision: this.cfg.precision ?? 'fp32', extra: this.cfg.fingerprint ?? '' })).digest('hex').slice(0, 16);
  }

  /** one optimisation step on the batch of `step`; returns its metrics */
  trainStep(step: number): StepMetrics {
    const t0 = performance.now();
    const batch = this.data.batch(step);
    const lr = cosineLr(step, this.cfg.schedule);
    let m: StepMetrics;
    try {
      const { loss, count } = this.model.loss(batch, batch.targets, { precision: this.cfg.precision });
      backprop(loss);
      const gradNorm = clipGradNorm(this.model.params.values(), this.cfg.clip ?? 1.0);
      if (!Number.isFinite(gradNorm)) throw new NonFiniteError('clip_grad_norm', 'backward', 0, gradNorm);
      this.opt.update(lr);
      m = { step, loss: loss.item(), lr, grad_norm: gradNorm, tokens: count, tokens_per_s: 0 };
    } catch (e) {
      // FP16 overflow: the step is skipped (as a loss scaler would), anything else stops the run
      if (!(e instanceof NonFiniteError) || this.cfg.precision !== 'fp16') throw e;
      discardTape();
      this.opt.step++; // the schedule moves on; the skipped step leaves the weights alone
      m = { step, loss: NaN, lr, grad_norm: NaN, tokens: 0, tokens_per_s: 0, skipped: e.message };
    }
    this.opt.zeroGrad();
    m.tokens_per_s = (batch.B * batch.T) / ((performance.now() - t0) / 1000);
    return m;
  }

  run(): { steps: number; resumedFrom: number | null; lastLoss: number } {
    const c = this.cfg;
    if (c.checkpointDir) this.resume();
    if (c.metricsPath) this.trimMetrics();
    let lastDraw = 0, lastMonitor = 0;
    const points: MonitorPoint[] = c.monitorPath && c.metricsPath && existsSync(c.metricsPath) ? readFileSync(c.metricsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as MonitorPoint) : [];
    const monitor = (done: boolean) => {
      if (!c.monitorPath) return;
      writeFileAtomic(c.monitorPath, monitorHtml(c.label ?? 'training', points, { done, totalSteps: c.steps }));
      lastMonitor = performance.now();
    };
    let last = NaN;
    let tokens = 0;
    const t0 = performance.now();
    for (let s = this.step; s < c.steps; s++) {
      const m = this.trainStep(s);
      this.step = s + 1;
      last = m.loss;
      tokens += m.tokens;
      this.history.push(m);
      if (c.metricsPath) appendFileSync(c.metricsPath, JSON.stringify(m) + '\n');
      points.push(m);
      if (c.evaluate && c.evalEvery && (this.step % c.evalEvery === 0 || this.step === c.steps)) {
        const ev = c.evaluate(this.model, this.step);
        if (c.metricsPath) appendFileSync(c.metricsPath, JSON.stringify({ step: this.step, eval: ev }) + '\n');
        points.push({ step: this.step, eval: ev });
      }
      if (c.monitorPath && performance.now() - lastMonitor > 2000) monitor(false);
      if (c.checkpointDir && c.checkpointEvery && (this.step % c.checkpointEvery === 0 || this.step === c.steps)) this.save();
      const now = performance.now(), el = (now - t0) / 1000;
      if (!c.quiet && (now - lastDraw > 1000 || this.step === c.steps)) {
        lastDraw = now;
        const done = this.step - (this.resumedFrom ?? 0), eta = ((c.steps - this.step) * el) / Math.max(done, 1);
        const line = `${c.label ?? 'train'} step ${this.step}/${c.steps} (${((100 * this.step) / c.steps).toFixed(1)}%) | loss ${m.loss.toFixed(4)} | lr ${m.lr.toExponential(2)} | ${Math.round(tokens / Math.max(el, 1e-9)).toLocaleString('en-US')} tok/s | ETA ${Progress.fmtTime(eta)}`;
        process.stderr.write(process.stderr.isTTY ? `\r${line}${this.step === c.steps ? '\n' : ''}` : line + '\n');
      }
    }
    monitor(true);
    return { steps: this.step, resumedFrom: this.resumedFrom, lastLoss: last };
  }

  // ---------------------------------------------------------------- checkpoints
  /** writes <dir>/step-NNNNNNN/{model,optimizer}.safetensors + state.json, then points <dir>/latest at it */
  save(): string {
    const dir = this.cfg.checkpointDir!;
    mkdirSync(dir, { recursive: true });
    const name = `step-${String(this.step).padStart(7, '0')}`;
    const tmp = join(dir, `${name}.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const params = [...this.model.params];
    writeFileSync(join(tmp, 'model.safetensors'), writeSafetensors(params.map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
    writeFileSync(join(tmp, 'optimizer.safetensors'), writeSafetensors(params.flatMap(([k, t]) => [[`exp_avg.${k}`, { shape: t.shape, data: this.opt.m.get(k)! }], [`exp_avg_sq.${k}`, { shape: t.shape, data: this.opt.v.get(k)! }]] as [string, { shape: number[]; data: Float32Array }][])));
    writeFileSync(join(tmp, 'state.json'), JSON.stringify({ step: this.step, optimizer_step: this.opt.step, fingerprint: this.fingerprint(), config: this.model.config }, null, 1));
    rmSync(join(dir, name), { recursive: true, force: true });
    renameSync(tmp, join(dir, name));
    writeFileAtomic(join(dir, 'latest'), name + '\n');
    const keep = this.cfg.keep ?? 2;
    const all = readdirSync(dir).filter((f) => /^step-\d+$/.test(f)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, old), { recursive: true, force: true });
    return join(dir, name);
  }

  /** loads <dir>/latest when there is one; returns whether it did */
  resume(): boolean {
    const dir = this.cfg.checkpointDir!;
    const latest = join(dir, 'latest');
    if (!existsSync(latest)) return false;
    const name = readFileSync(latest, 'utf8').trim();
    const ck = join(dir, name);
    const state = JSON.parse(readFileSync(join(ck, 'state.json'), 'utf8')) as { step: number; optimizer_step: number; fingerprint: string };
    if (state.fingerprint !== this.fingerprint()) throw new TrainerError(`${ck}: the checkpoint belongs to another run (model, steps, schedule or data differ); use a new checkpoint folder`);
    const { tensors } = readSafetensors(readFileSync(join(ck, 'model.safetensors')), join(ck, 'model.safetensors'));
    const { tensors: o } = readSafetensors(readFileSync(join(ck, 'optimizer.safetensors')), join(ck, 'optimizer.safetensors'));
    for (const [k, t] of this.model.params) {
      const w = tensors.get(k), m = o.get(`exp_avg.${k}`), v = o.get(`exp_avg_sq.${k}`);
      if (!w || !m || !v || w.data.length !== t.size) throw new TrainerError(`${ck}: tensor ${k} is missing or has the wrong size`);
      t.data.set(w.data);
      this.opt.m.get(k)!.set(m.data);
      this.opt.v.get(k)!.set(v.data);
    }
    this.step = state.step;
    this.opt.step = state.optimizer_step;
    this.resumedFrom = state.step;
    return true;
  }

  /** drops metrics lines past the resumed step, so a resumed run's file has each step once */
  private trimMetrics(): void {
    const p = this.cfg.metricsPath!;
    if (!existsSync(p)) return;
    const keep = readFileSync(p, 'utf8').split('\n').filter((l) => {
      if (!l.trim()) return false;
      try {
        const r = JSON.parse(l) as { step: number; eval?: unknown };
        return r.eval ? r.step <= this.step : r.step < this.step;
      } catch {
        return false; // a line cut by the kill
      }
    });
    writeFileAtomic(p, keep.map((l) => l + '\n').join(''));
  }
}
