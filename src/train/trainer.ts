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

/** batches as a pure function of the (micro-)step, so that a resumed run sees the same data */
export interface BatchSource {
  batch(step: number): TrainBatch;
}

export interface SpikeGuardOptions {
  /** a loss above factor x the running mean (EMA) is a spike; NaN/Inf always is */
  factor: number;
  /** steps in the running mean (EMA span); no spike is called before this many steps */
  window: number;
  /** skip the batch, or roll back to the last checkpoint and then skip it */
  action: 'skip' | 'rollback';
}

/** loss-spike detection: an exponential moving average of the loss and a factor over it */
export class SpikeGuard {
  ema = NaN;
  seen = 0;
  constructor(readonly o: SpikeGuardOptions) {}
  /** why this loss is a spike, or null (a spike does not move the average) */
  check(loss: number): string | null {
    if (!Number.isFinite(loss)) return `loss is ${loss}`;
    if (this.seen >= this.o.window && loss > this.o.factor * this.ema) return `loss ${loss.toFixed(4)} is over ${this.o.factor} x the running mean ${this.ema.toFixed(4)}`;
    return null;
  }
  observe(loss: number): void {
    const a = 2 / (this.o.window + 1);
    this.ema = this.seen === 0 ? loss : a * loss + (1 - a) * this.ema;
    this.seen++;
  }
}

export interface TrainConfig {
  steps: number;
  schedule: Schedule;
  /** micro-batches per step (gradient accumulation); the batch source is asked for step * k + i */
  accumulate?: number;
  /** loss-spike guard (off when absent) */
  spike?: SpikeGuardOptions;
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
  guard: SpikeGuard | null;
  /** steps to skip (spikes that caused a rollback); saved with the checkpoints */
  skipSteps = new Set<number>();

  constructor(readonly model: Llama, readonly data: BatchSource, readonly cfg: TrainConfig) {
    this.opt = new AdamW(model.params, { betas: cfg.betas ?? [0.9, 0.95], weightDecay: cfg.weightDecay ?? 0.1, eps: cfg.eps ?? 1e-8 });
    this.guard = cfg.spike ? new SpikeGuard(cfg.spike) : null;
  }

  private fingerprint(): string {
    return createHash('sha256').update(JSON.stringify({ config: this.model.config, steps: this.cfg.steps, schedule: this.cfg.schedule, precision: this.cfg.precision ?? 'fp32', accumulate: this.cfg.accumulate ?? 1, spike: this.cfg.spike ?? null, extra: this.cfg.fingerprint ?? '' })).digest('hex').slice(0, 16);
  }

  /** one optimisation step on the batch(es) of `step`; returns its metrics */
  trainStep(step: number): StepMetrics {
    const t0 = performance.now();
    const k = this.cfg.accumulate ?? 1;
    const lr = cosineLr(step, this.cfg.schedule);
    let m: StepMetrics;
    let positions = 0;
    try {
      let lossSum = 0, tokens = 0;
      for (let i = 0; i < k; i++) {
        const batch = this.data.batch(step * k + i);
        positions += batch.B * batch.T;
        const { loss, count } = this.model.loss(batch, batch.targets, { precision: this.cfg.precision });
        lossSum += loss.item();
        tokens += count;
        backprop(loss, 1 / k); // the step's loss is the mean over its micro-batches
      }
      const loss = lossSum / k;
      const skip = this.skipSteps.has(step) ? 'skipped after a rollback' : this.guard?.check(loss) ?? null;
      if (skip) {
        this.opt.zeroGrad();
        return { step, loss, lr, grad_norm: NaN, tokens: 0, tokens_per_s: 0, skipped: skip };
      }
      const gradNorm = clipGradNorm(this.model.params.values(), this.cfg.clip ?? 1.0);
      if (!Number.isFinite(gradNorm)) throw new NonFiniteError('clip_grad_norm', 'backward', 0, gradNorm);
      this.opt.update(lr);
      this.guard?.observe(loss);
      m = { step, loss, lr, grad_norm: gradNorm, tokens, tokens_per_s: 0 };
    } catch (e) {
      // FP16 overflow or a guarded run: the step is skipped (as a loss scaler would); anything else stops the run
      if (!(e instanceof NonFiniteError) || (this.cfg.precision !== 'fp16' && !this.guard)) throw e;
      discardTape();
      m = { step, loss: NaN, lr, grad_norm: NaN, tokens: 0, tokens_per_s: 0, skipped: e.message };
    }
    this.opt.zeroGrad();
    m.tokens_per_s = positions / ((performance.now() - t0) / 1000);
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
    while (this.step < c.steps) {
      const s = this.step;
      const m = this.trainStep(s);
      if (m.skipped && c.spike?.action === 'rollback' && !this.skipSteps.has(s) && c.checkpointDir && existsSync(join(c.checkpointDir, 'latest'))) {
        // roll back to the last checkpoint, then pass over the offending batch when it comes again
        this.skipSteps.add(s);
        const keepSkips = new Set(this.skipSteps);
        this.resume();
        for (const x of keepSkips) this.skipSteps.add(x);
        if (c.metricsPath) {
          this.trimMetrics();
          appendFileSync(c.metricsPath, JSON.stringify({ step: s, event: 'rollback', to: this.step, reason: m.skipped }) + '\n');
        }
        points.length = 0;
        continue;
      }
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
    writeFileSync(join(tmp, 'state.json'), JSON.stringify({ step: this.step, optimizer_step: this.opt.step, fingerprint: this.fingerprint(), config: this.model.config, guard: this.guard ? { ema: this.guard.ema, seen: this.guard.seen } : null, skip_steps: [...this.skipSteps], rng: 'none: training draws no random numbers (no dropout); data order is a function of the step' }, null, 1));
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
    const state = JSON.parse(readFileSync(join(ck, 'state.json'), 'utf8')) as { step: number; optimizer_step: number; fingerprint: string; guard: { ema: number; seen: number } | null; skip_steps?: number[] };
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
    if (this.guard && state.guard) {
      this.guard.ema = state.guard.ema ?? NaN;
      this.guard.seen = state.guard.seen;
    }
    this.skipSteps = new Set(state.skip_steps ?? []);
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
        const r = JSON.parse(l) as { step: number; eval?: unknown; event?: string };
        return r.eval || r.event ? r.step <= this.step : r.step < this.step;
      } catch {
        return false; // a line cut by the kill
      }
    });
    writeFileAtomic(p, keep.map((l) => l + '\n').join(''));
  }
}
