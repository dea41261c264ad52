/** Input discovery and sharding. The plan is saved with the run so a resumed run processes the same shards. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { formatOf, type InputFormat, type ShardSpec } from '../io/readers.js';
import { compressionOf } from '../io/streams.js';
import { resolveFrom, type Recipe } from './recipe.js';

export interface Plan {
  version: 1;
  recipeHash: string;
  inputs: { path: string; size: number; mtimeMs: number }[];
  shards: ShardSpec[];
  warnings: string[];
  totalBytes: number;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands files, directories (recursively) and globs (*, **, ?) into a sorted list of files. */
export function expandInputs(paths: string[], base: string, warnings: string[]): string[] {
  const out: string[] = [];
  for (const raw of paths) {
    const p = resolveFrom(base, raw);
    if (/[*?]/.test(p)) {
      const staticPart = p.split(/[*?]/)[0]!;
      const root = staticPart.endsWith(sep) ? staticPart.slice(0, -1) : staticPart.slice(0, staticPart.lastIndexOf(sep));
      const re = globToRegex(p);
      const all: string[] = [];
      try {
        walk(root, all);
      } catch (e) {
        warnings.push(`input ${raw}: ${(e as Error).message}`);
        continue;
      }
      const hits = all.filter((f) => re.test(f));
      if (!hits.length) warnings.push(`input ${raw}: no file matches`);
      out.push(...hits);
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      // kept in the list: the reader quarantines it with a clear reason
      out.push(p);
      continue;
    }
    if (st.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return [...new Set(out)];
}

/** Byte offsets where each range starts (aligned to line starts) and the line numbers there. */
function splitJsonl(path: string, size: number, shardBytes: number): { start: number; end: number; firstLine: number }[] {
  const ranges: { start: number; end: number; firstLine: number }[] = [];
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  let pos = 0;
  let line = 1;
  let start = 0;
  let startLine = 1;
  let target = shardBytes;
  try {
    while (pos < size) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      let i = buf.indexOf(10, 0);
      while (i >= 0 && i < n) {
        line++;
        const lineStart = pos + i + 1;
        if (lineStart >= target && lineStart < size) {
          ranges.push({ start, end: lineStart, firstLine: startLine });
          start = lineStart;
          startLine = line;
          target = lineStart + shardBytes;
        }
        i = buf.indexOf(10, i + 1);
      }
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  ranges.push({ start, end: size, firstLine: startLine });
  return ranges;
}

export function recipeHash(recipe: Recipe): string {
  const { executor: _e, baseDir: _b, ...rest } = recipe;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

export function makePlan(recipe: Recipe): Plan {
  const warnings: string[] = [];
  const files = expandInputs(recipe.input.paths, recipe.baseDir, warnings);
  const inputs: Plan['inputs'] = [];
  const shards: ShardSpec[] = [];
  const shardBytes = recipe.input.shardBytes;
  let group: { files: string[]; keys: string[]; bytes: number; format: InputFormat } | null = null;
  const root = commonRoot(files);
  const flush = () => {
    if (group && group.files.length) shards.push({ index: shards.length, format: group.format, files: group.files, keys: group.keys, bytes: group.bytes });
    group = null;
  };
  let total = 0;
  for (const f of files) {
    let size = 0;
    let mtimeMs = 0;
    try {
      const st = statSync(f);
      size = st.size;
      mtimeMs = Math.floor(st.mtimeMs);
    } catch {
      /* unreadable: one shard, quarantined by the reader */
    }
    inputs.push({ path: f, size, mtimeMs });
    total += size;
    const fmt: InputFormat | null = recipe.input.format === 'auto' ? formatOf(f) : recipe.input.format;
    const key = relative(root, f) || f;
    if (!fmt) {
      warnings.push(`${f}: unknown format (extension), skipped; set input.format to read it`);
      continue;
    }
    if (fmt === 'text' || fmt === 'html') {
      const g = group as { files: string[]; keys: string[]; bytes: number; format: InputFormat } | null;
      if (!g || g.format !== fmt || g.bytes + size > shardBytes || g.files.length >= 2000) {
        flush();
        group = { files: [], keys: [], bytes: 0, format: fmt };
      }
      group!.files.push(f);
      group!.keys.push(key);
      group!.bytes += size;
      continue;
    }
    flush();
    if ((fmt === 'jsonl' || fmt === 'lines') && compressionOf(f) === 'none' && size > shardBytes) {
      for (const r of splitJsonl(f, size, shardBytes)) {
        shards.push({ index: shards.length, format: fmt, files: [f], keys: [key], start: r.start, end: r.end, firstLine: r.firstLine, bytes: r.end - r.start });
      }
    } else shards.push({ index: shards.length, format: fmt, files: [f], keys: [key], bytes: size });
  }
  flush();
  return { version: 1, recipeHash: recipeHash(recipe), inputs, shards, warnings, totalBytes: total };
}

function commonRoot(files: string[]): string {
  if (!files.length) return resolve('.');
  let parts = files[0]!.split(sep).slice(0, -1);
  for (const f of files.slice(1)) {
    const q = f.split(sep);
    let i = 0;
    while (i < parts.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

export function samePlanInputs(a: Plan, b: Plan): boolean {
  return a.recipeHash === b.recipeHash && JSON.stringify(a.inputs) === JSON.stringify(b.inputs);
}
