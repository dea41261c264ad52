/** llama2.c tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length, bytes ("▁" stored as " "). */
import { TokenizerFormatError, checkVocab, inferType, type Vocab } from '../vocab.js';

export function readLlama2cTokenizer(buf: Uint8Array, where = 'tokenizer.bin'): Vocab {
  if (buf.length < 4) throw new TokenizerFormatError(`${where}: too short for a llama2.c tokenizer`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const maxLen = dv.getInt32(0, true);
  if (maxLen <= 0 || maxLen > 1 << 16) throw new TokenizerFormatError(`${where}: max_token_length ${maxLen} is implausible; not a llama2.c tokenizer.bin`);
  const pieces: string[] = [];
  const scores: number[] = [];
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let p = 4;
  while (p < buf.length) {
    if (p + 8 > buf.length) throw new TokenizerFormatError(`${where}: truncated after ${pieces.length} tokens`);
    const score = dv.getFloat32(p, true);
    const len = dv.getInt32(p + 4, true);
    p += 8;
    if (len < 0 || len > maxLen || p + len > buf.length) throw new TokenizerFormatError(`${where}: token ${pieces.length} has length ${len} (max ${maxLen}, ${buf.length - p} bytes left)`);
    let s: string;
    try {
      s = dec.decode(buf.subarray(p, p + len));
    } catch {
      throw new TokenizerFormatError(`${where}: token ${pieces.length} is not valid UTF-8`);
    }
    p += len;
    if (s === '\n<s>\n') s = '<s>';
    else if (s === '\n</s>\n') s = '</s>';
    pieces.push(s.replaceAll(' ', '\u2581'));
    scores.push(score);
  }
  const specials = new Set(['<s>', '</s>']);
  const v: Vocab = {
    pieces,
    scores: Float32Array.from(scores),
    types: Uint8Array.from(pieces.map((x, i) => inferType(x, i, 0, specials))),
    modelType: 'bpe',
    byteFallback: pieces.includes('<0x00>') && pieces.includes('<0xFF>'),
    addDummyPrefix: true,
    removeExtraWhitespaces: false,
    escapeWhitespaces: true,
    unkId: 0,
    bosId: pieces.indexOf('<s>'),
    eosId: pieces.indexOf('</s>'),
    padId: -1,
    unkSurface: ' \u2047 ',
  };
  checkVocab(v, where);
  return v;
}

export function writeLlama2cTokenizer(v: Vocab): Uint8Array {
  const toks = v.pieces.map((p, i) => {
    let s = i === v.bosId ? '\n<s>\n' : i === v.eosId ? '\n</s>\n' : p;
    s = s.replaceAll('\u2581', ' ');
    return Buffer.from(s, 'utf8');
  });
  const maxLen = Math.max(...toks.map((t) => t.length));
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeInt32LE(maxLen);
  parts.push(head);
  toks.forEach((t, i) => {
    const h = Buffer.alloc(8);
    h.writeFloatLE(v.scores[i]!, 0);
    h.writeInt32LE(t.length, 4);
    parts.push(h, t);
  });
  return Buffer.concat(parts);
}
