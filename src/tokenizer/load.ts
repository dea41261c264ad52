/** Loads a tokenizer from any supported file, by content. */
import { readFileSync } from 'node:fs';
import { readSpmModel } from './formats/spm.js';
import { SentencePieceBPE } from './bpe.js';
import { TokenizerFormatError, type Vocab } from './vocab.js';

export function readVocabFile(path: string): Vocab {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TokenizerFormatError(`cannot read tokenizer ${path}: ${(e as Error).message}`);
  }
  return readSpmModel(buf, path);
}

export function loadTokenizer(path: string): SentencePieceBPE {
  return new SentencePieceBPE(readVocabFile(path));
}
