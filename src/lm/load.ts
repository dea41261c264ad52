/** Loads an n-gram model for scoring: the binary form directly, or an ARPA file built into it. */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { parseArpa } from './arpa.js';
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

export function loadModelFile(path: string): HashedModel {
  return isBinaryModel(path) ? HashedModel.load(path) : HashedModel.fromArpa(parseArpa(readFileSync(path, 'utf8'), path));
}
