/**
 * Results cached in SQLite so that a rerun computes only what changed and an interrupted run
 * resumes: every request is keyed by sha256 of [method, model fingerprint, request] (the
 * harness's CachingLM key, with the model folded in so one file can serve many checkpoints),
 * and each batch of answers is committed in one transaction as soon as it is computed.
 * SQLite through node-sqlite3-wasm: no native build, the file is an ordinary SQLite database.
 * Its file lock is a directory (FILE.lock) that a killed process leaves behind; FILE.owner names
 * the process holding it, so a lock whose owner is gone is cleared (SQLite then rolls back any
 * half-written transaction from its journal) and a live owner gets a clear error.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { EvalError, type GenerateRequest, type LM, type LoglikelihoodRequest, type LoglikelihoodResult, type RollingRequest, type RollingResult } from './lm.js';

export class ResultCache {
  private db: InstanceType<typeof sqlite.Database>;
  private getSt;
  hits = 0;
  misses = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    const lock = `${path}.lock`, owner = `${path}.owner`;
    if (existsSync(lock)) {
      const pid = existsSync(owner) ? Number(readFileSync(owner, 'utf8').trim()) : NaN;
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) throw new EvalError(`${path} is in use by process ${pid} (another evaluation writing to the same cache)`);
      rmSync(lock, { recursive: true, force: true }); // left by a killed run
    }
    writeFileSync(owner, String(process.pid));
    this.db = new sqlite.Database(path);
    // one process owns the file while it runs: no lock round trips per lookup
    this.db.exec('PRAGMA locking_mode=EXCLUSIVE');
    this.db.exec('CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, method TEXT NOT NULL, value TEXT NOT NULL, at INTEGER NOT NULL)');
    this.getSt = this.db.prepare('SELECT value FROM results WHERE key = ?');
  }
  static key(method: string, fingerprint: string, args: unknown): string {
    return createHash('sha256').update(JSON.stringify([method, fingerprint, args])).digest('hex');
  }
  get<T>(key: string): T | undefined {
    const r = this.getSt.get([key]);
    if (!r) return undefined;
    return JSON.parse(r['value'] as string) as T;
  }
  putMany(method: string, rows: [string, unknown][]): void {
    if (rows.length === 0) return;
    const st = this.db.prepare('INSERT OR REPLACE INTO results (key, method, value, at) VALUES (?, ?, ?, ?)');
    this.db.exec('BEGIN');
    try {
      const now = Date.now();
      for (const [k, v] of rows) st.run([k, method, JSON.stringify(v), now]);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    } finally {
      st.finalize();
    }
  }
  count(): number {
    return Number(this.db.get('SELECT COUNT(*) AS n FROM results')!['n']);
  }
  close(): void {
    this.getSt.finalize();
    this.db.close();
    rmSync(`${this.path}.owner`, { force: true });
  }
}

/** an LM whose answers come from the cache when present and go into it when computed */
export class CachingLM implements LM {
  readonly name: string;
  readonly fingerprint: string;
  readonly canScore: boolean;
  constructor(readonly inner: LM, readonly cache: ResultCache) {
    this.name = inner.name;
    this.fingerprint = inner.fingerprint;
    this.canScore = inner.canScore;
  }
  private async through<Q, A>(method: string, reqs: Q[], run: (missing: Q[]) => Promise<A[]>): Promise<A[]> {
    const keys = reqs.map((r) => ResultCache.key(method, this.fingerprint, r));
    const out: (A | undefined)[] = keys.map((k) => this.cache.get<A>(k));
    const missing: number[] = [];
    out.forEach((v, i) => (v === undefined ? missing.push(i) : this.cache.hits++));
    this.cache.misses += missing.length;
    if (missing.length) {
      const got = await run(missing.map((i) => reqs[i]!));
      missing.forEach((i, j) => (out[i] = got[j]));
      this.cache.putMany(method, missing.map((i, j) => [keys[i]!, got[j]]));
    }
    return out as A[];
  }
  loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return this.through('loglikelihood', reqs, (m) => this.inner.loglikelihood(m));
  }
  loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]> {
    return this.through('loglikelihood_rolling', reqs, (m) => this.inner.loglikelihoodRolling(m));
  }
  generateUntil(reqs: GenerateRequest[]): Promise<string[]> {
    return this.through('generate_until', reqs, (m) => this.inner.generateUntil(m));
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
