/**
 * What the app can show, found under its root folder: factory runs (stats.json with an
 * accounting), training runs (metrics.jsonl), evaluation runs (results.json) and tracking files
 * (track.jsonl). A run is addressed by its path relative to the root; only paths found here are
 * ever opened, so a request cannot reach outside the root.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export type RunKind = 'factory' | 'train' | 'eval' | 'laws';

export interface RunEntry {
  id: string;
  kind: RunKind;
  dir: string;
  mtime: number;
  /** a gate loop's folder (gate.json, gate.html) when the run is the loop's final output */
  gateDir?: string;
}

const SKIP = new Set(['node_modules', '.git', '_run', '_gate', 'data', 'dropped', 'quarantine', 'checkpoints', 'annotation', 'items', 'input']);

export function discoverRuns(root: string, maxDepth = 6): RunEntry[] {
  const out: RunEntry[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    const id = relative(root, dir).split(sep).join('/') || '.';
    const add = (kind: RunKind, file: string) => out.push({ id, kind, dir, mtime: statSync(join(dir, file)).mtimeMs });
    if (names.includes('stats.json')) {
      try {
        const s = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as { accounting?: unknown };
        if (s.accounting) add('factory', 'stats.json');
      } catch {
        // not a factory run
      }
    }
    if (names.includes('gate.json') && !names.includes('stats.json')) {
      // a factory run with --until-pass: its output is the last iteration's
      try {
        const g = JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8')) as { iterations?: { output?: string }[] };
        const outp = g.iterations?.[g.iterations.length - 1]?.output;
        if (outp && existsSync(join(outp, 'stats.json'))) out.push({ id, kind: 'factory', dir: outp, mtime: statSync(join(dir, 'gate.json')).mtimeMs, gateDir: dir });
      } catch {
        // not readable yet
      }
    }
    if (names.includes('metrics.jsonl')) add('train', 'metrics.jsonl');
    if (names.includes('results.json')) add('eval', 'results.json');
    if (names.includes('laws.json')) add('laws', 'laws.json');
    if (depth >= maxDepth) return;
    for (const n of names.sort()) {
      if (SKIP.has(n) || n.startsWith('.')) continue;
      const p = join(dir, n);
      try {
        if (statSync(p).isDirectory()) walk(p, depth + 1);
      } catch {
        // vanished
      }
    }
  };
  if (existsSync(root)) walk(root, 0);
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

/** the run with this id and kind, or null (ids are compared with the discovered list, never joined onto a path) */
export function findRun(root: string, id: unknown, kind: RunKind): RunEntry | null {
  if (typeof id !== 'string') return null;
  return discoverRuns(root).find((r) => r.id === id && r.kind === kind) ?? null;
}
