/** LLaMA-2 model configuration and the parameter layout shared by every checkpoint format. */
export interface LlamaConfig {
  dim: number;
  nLayers: number;
  nHeads: number;
  /** key/value heads; fewer than nHeads is grouped-query attention */
  nKvHeads: number;
  /** SwiGLU hidden size */
  hiddenDim: number;
  vocabSize: number;
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  /** output projection shares the token embedding */
  tieEmbeddings: boolean;
}

export type Precision = 'fp32' | 'bf16' | 'fp16';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** LLaMA's hidden size rule: 2/3 of 4*dim, times a multiplier, rounded up to a multiple */
export function llamaHiddenDim(dim: number, multipleOf = 256, ffnDimMultiplier?: number): number {
  let h = Math.floor((2 * 4 * dim) / 3);
  if (ffnDimMultiplier) h = Math.floor(ffnDimMultiplier * h);
  return multipleOf * Math.ceil(h / multipleOf);
}

export function defaultConfig(p: Partial<LlamaConfig> & Pick<LlamaConfig, 'dim' | 'nLayers' | 'nHeads' | 'vocabSize'>): LlamaConfig {
  return {
    nKvHeads: p.nHeads,
    hiddenDim: llamaHiddenDim(p.dim, 32),
    maxSeqLen: 256,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: false,
    ...p,
  };
}

export function checkConfig(c: LlamaConfig, where: string): void {
  const ints: (keyof LlamaConfig)[] = ['dim', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'vocabSize', 'maxSeqLen'];
  for (const k of ints) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v <= 0) throw new CheckpointError(`${where}: config ${k} must be a positive integer (got ${v})`);
  }
  if (c.dim % c.nHeads) throw new CheckpointError(`${where}: dim ${c.dim} is not a multiple of n_heads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads) throw new CheckpointError(`${where}: n_heads ${c.nHeads} is not a multiple of n_kv_heads ${c.nKvHeads}`);
  if ((c.dim / c.nHeads) % 2) throw new CheckpointError(`${where}: head size ${c.dim / c.nHeads} must be even for RoPE`);
}

/** every parameter of a LLaMA with its shape, in a fixed order (Meta / llama2.c names) */
export function parameterShapes(c: LlamaConfig): [string, number[]][] {
  const hd = c.dim / c.nHeads;
  const out: [string, number[]][] = [['tok_embeddings.weight', [c.vocabSize, c.dim]]];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`;
    out.push(
      [p + 'attention_norm.weight', [c.dim]],
      [p + 'attention.wq.weight', [c.nHeads * hd, c.dim]],
      [p + 'attention.wk.weight', [c.nKvHeads * hd, c.dim]],
      [p + 'attention.wv.weight', [c.nKvHeads * hd, c.dim]],
      [p + 'attention.wo.weight', [c.dim, c.nHeads * hd]],
      [p + 'ffn_norm.weight', [c.dim]],
      [p + 'feed_forward.w1.weight', [c.hiddenDim, c.dim]],
      [p + 'feed_forward.w2.weight', [c.dim, c.hiddenDim]],
      [p + 'feed_forward.w3.weight', [c.hiddenDim, c.dim]],
    );
  }
  out.push(['norm.weight', [c.dim]]);
  if (!c.tieEmbeddings) out.push(['output.weight', [c.vocabSize, c.dim]]);
  return out;
}

export function parameterCount(c: LlamaConfig): number {
  return parameterShapes(c).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
}
