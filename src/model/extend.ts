/**
 * Applying an extended tokenizer to a checkpoint (Ziya2: LLaMA-2's vocabulary plus ~7,400 Chinese
 * characters): each new row of the token embedding, and of the output projection when it is not
 * tied, starts as the mean of the rows of the base tokens that spelled the character; the vocabulary
 * is padded to a multiple of 128 with rows that are the mean of all base rows.
 */
import { CheckpointError, type LlamaConfig } from './config.js';
import { Llama } from './llama.js';

export interface NewToken {
  id: number;
  /** base ids that spelled it (byte tokens for a Chinese character) */
  from: number[];
}

export function extendModelVocab(model: Llama, newTokens: NewToken[], opts: { padTo?: number; size?: number } = {}): Llama {
  const c = model.config, D = c.dim, base = c.vocabSize;
  const size = opts.size ?? base + newTokens.length;
  const padded = Math.ceil(size / (opts.padTo ?? 128)) * (opts.padTo ?? 128);
  const ids = new Set<number>();
  for (const t of newTokens) {
    if (t.id < base || t.id >= size) throw new CheckpointError(`extendModelVocab: new token id ${t.id} is outside [${base}, ${size}) (does the tokenizer extend this checkpoint's vocabulary of ${base}?)`);
    if (ids.has(t.id)) throw new CheckpointError(`extendModelVocab: new token id ${t.id} appears twice`);
    if (!t.from.length || t.from.some((f) => f < 0 || f >= base)) throw new CheckpointError(`extendModelVocab: token ${t.id} is spelled by ids outside the base vocabulary (${t.from.join(', ')})`);
    ids.add(t.id);
  }
  if (ids.size !== size - base) throw new CheckpointError(`extendModelVocab: ${ids.size} new tokens for ${size - base} new ids`);
  const grow = (W: Float32Array): Float32Array => {
    const out = new Float32Array(padded * D);
    out.set(W.subarray(0, base * D));
    const mean = new Float64Array(D);
    for (let r = 0; r < base; r++) for (let j = 0; j < D; j++) mean[j]! += W[r * D + j]! / base;
    for (const t of newTokens)
      for (let j = 0; j < D; j++) {
        let s = 0;
        for (const f of t.from) s += W[f * D + j]!;
        out[t.id * D + j] = s / t.from.length;
      }
    for (let r = size; r < padded; r++) for (let j = 0; j < D; j++) out[r * D + j] = mean[j]!;
    return out;
  };
  const weights = model.weights();
  weights.set('tok_embeddings.weight', grow(weights.get('tok_embeddings.weight')!));
  if (!c.tieEmbeddings) weights.set('output.weight', grow(weights.get('output.weight')!));
  const config: LlamaConfig = { ...c, vocabSize: padded };
  return new Llama(config, weights, 'extended model');
}
