/** Loads an n-gram model for scoring: the binary form directly, or an ARPA file built into it. */
import { closeSync, openSync, readSync } from 'node:fs';
import { HashedModel } from './hashed.js';

export function isBinaryModel(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.readUInt32LE(0) === 0x424d4c5a;
  } finally {
    closeSync(fd);
  }
}

const shared = new Map<string, { buf: SharedArrayBuffer; unkMissing: boolean }>();

/** Worker threads: models the main thread loaded, by path. */
export function registerSharedModels(models: Record<string, { buf: SharedArrayBuffer; unkMissing: boolean }> | undefined): void {
  for (const [k, v] of Object.entries(models ?? {})) shared.set(k, v);
}

/** Main thread: load each model once into shared memory, for the worker threads. */
export function shareModels(paths: string[]): Record<string, { buf: SharedArrayBuffer; unkMissing: boolean }> {
  const out: Record<string, { buf: SharedArrayBuffer; unkMissing: boolean }> = {};
  for (const p of new Set(paths)) out[p] = loadModelFile(p).toShared();
  return out;
}

export function loadModelFile(path: string): HashedModel {
  const s = shared.get(path);
  if (s) {
    const h = HashedModel.fromShared(s.buf, path);
    h.unkMissing = s.unkMissing;
    return h;
  }
  return isBinaryModel(path) ? HashedModel.load(path) : HashedModel.fromArpaFile(path);
}
