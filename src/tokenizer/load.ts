/** Reads and writes a tokenizer in any supported format, chosen by content (reading) or extension (writing). */
import { readFileSync } from 'node:fs';
import { readSpmModel, writeSpmModel } from './formats/spm.js';
import { readHfTokenizer, writeHfTokenizer } from './formats/hf.js';
import { readLlama2cTokenizer, writeLlama2cTokenizer } from './formats/llama2c.js';
import { readGgufMetadata, vocabFromGguf, writeGgufVocab } from './formats/gguf.js';
import { SentencePieceBPE } from './bpe.js';
import { TokenizerFormatError, type Vocab } from './vocab.js';
import { writeFileAtomic } from '../io/writers.js';

export type TokenizerFormat = 'spm' | 'hf' | 'llama2c' | 'gguf';

export function detectFormat(buf: Uint8Array, path: string): TokenizerFormat {
  if (buf.length >= 4 && buf[0] === 0x47 && buf[1] === 0x47 && buf[2] === 0x55 && buf[3] === 0x46) return 'gguf';
  let i = 0;
  while (i < buf.length && (buf[i] === 32 || buf[i] === 10 || buf[i] === 13 || buf[i] === 9)) i++;
  if (buf[i] === 0x7b) return 'hf';
  if (path.endsWith('.bin')) return 'llama2c';
  return 'spm';
}

export function readVocab(buf: Uint8Array, path: string, format?: TokenizerFormat): Vocab {
  switch (format ?? detectFormat(buf, path)) {
    case 'gguf': return vocabFromGguf(readGgufMetadata(buf, path), path);
    case 'hf': return readHfTokenizer(Buffer.from(buf).toString('utf8'), path);
    case 'llama2c': return readLlama2cTokenizer(buf, path);
    case 'spm': return readSpmModel(buf, path);
  }
}

export function readVocabFile(path: string, format?: TokenizerFormat): Vocab {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TokenizerFormatError(`cannot read tokenizer ${path}: ${(e as Error).message}`);
  }
  return readVocab(buf, path, format);
}

export function formatForPath(path: string): TokenizerFormat {
  if (path.endsWith('.gguf')) return 'gguf';
  if (path.endsWith('.json')) return 'hf';
  if (path.endsWith('.bin')) return 'llama2c';
  return 'spm';
}

export function serializeVocab(v: Vocab, format: TokenizerFormat): Uint8Array | string {
  switch (format) {
    case 'gguf': return writeGgufVocab(v);
    case 'hf': return writeHfTokenizer(v);
    case 'llama2c': return writeLlama2cTokenizer(v);
    case 'spm': return writeSpmModel(v);
  }
}

export function writeVocabFile(v: Vocab, path: string, format = formatForPath(path)): void {
  writeFileAtomic(path, serializeVocab(v, format));
}

export function loadTokenizer(path: string, format?: TokenizerFormat): SentencePieceBPE {
  return new SentencePieceBPE(readVocabFile(path, format));
}
