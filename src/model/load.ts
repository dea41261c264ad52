/** Loading and saving a model in any supported checkpoint format, chosen from the path. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { writeFileAtomic } from '../io/writers.js';
import type { Vocab } from '../tokenizer/vocab.js';
import { CheckpointError } from './config.js';
import { Llama } from './llama.js';
import { readGgufModel, writeGgufModel } from './formats/gguf.js';
import { readLlama2c, writeLlama2c } from './formats/llama2c.js';
import { readHfCheckpoint, readSafetensors, writeHfCheckpoint, configFromHf, type FloatDtype } from './formats/safetensors.js';

export type ModelFormat = 'llama2c' | 'hf' | 'gguf';

export function detectModelFormat(path: string): ModelFormat {
  if (!existsSync(path)) throw new CheckpointError(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) return 'hf';
  if (extname(path) === '.safetensors') return 'hf';
  const fd = readFileSync(path).subarray(0, 4);
  if (fd.length === 4 && fd.toString('latin1') === 'GGUF') return 'gguf';
  return 'llama2c';
}

export interface LoadedModel {
  model: Llama;
  format: ModelFormat;
  /** the vocabulary stored with the weights (GGUF), if any */
  vocab: Vocab | null;
}

export function loadModel(path: string): LoadedModel {
  const format = detectModelFormat(path);
  if (format === 'gguf') {
    const g = readGgufModel(readFileSync(path), path);
    return { model: new Llama(g.config, g.weights, path), format, vocab: g.vocab };
  }
  if (format === 'hf') {
    if (statSync(path).isDirectory()) {
      const c = readHfCheckpoint(path);
      return { model: new Llama(c.config, c.weights, path), format, vocab: null };
    }
    // a lone .safetensors file next to its config.json
    const dir = join(path, '..');
    const cfg = join(dir, 'config.json');
    if (!existsSync(cfg)) throw new CheckpointError(`${path}: no config.json next to the safetensors file`);
    configFromHf(JSON.parse(readFileSync(cfg, 'utf8')), cfg);
    readSafetensors(readFileSync(path), path);
    const c = readHfCheckpoint(dir);
    return { model: new Llama(c.config, c.weights, path), format, vocab: null };
  }
  const c = readLlama2c(readFileSync(path), path);
  return { model: new Llama(c.config, c.weights, path), format, vocab: null };
}

export interface SaveOptions {
  format: ModelFormat;
  dtype?: FloatDtype;
  /** required for GGUF (the vocabulary travels with the weights) */
  vocab?: Vocab;
  maxShardBytes?: number;
}

/** saves to a file (llama2c, gguf) or a folder (hf); returns the files written */
export function saveModel(model: Llama, path: string, opts: SaveOptions): string[] {
  const w = model.weights();
  if (opts.format === 'hf') return writeHfCheckpoint(path, model.config, w, { dtype: opts.dtype, maxShardBytes: opts.maxShardBytes });
  if (opts.format === 'gguf') {
    if (!opts.vocab) throw new CheckpointError(`${path}: a GGUF model needs the tokenizer vocabulary (--tokenizer)`);
    writeFileAtomic(path, writeGgufModel(model.config, w, opts.vocab, { dtype: opts.dtype }));
    return [path];
  }
  if (opts.dtype && opts.dtype !== 'F32') throw new CheckpointError('llama2.c checkpoints are float32 only');
  writeFileAtomic(path, writeLlama2c(model.config, w));
  return [path];
}
