/**
 * `ziya run --plan RECIPE`: a full-scale continual pre-training recipe checked and explained
 * without running it: tokens and steps per stage, the model's parameters, training FLOPs
 * (6 x parameters x tokens, plus attention), and wall time on a stated number of GPUs at a
 * stated throughput per GPU (Ziya2: 80 A100-80G at 163 TFLOPS each).
 */
import { loadCptRecipe, stageShares } from '../train/cpt/recipe.js';
import { parameterShapes } from '../model/config.js';
import { defaultConfig } from '../model/config.js';

export interface PlanOptions {
  gpus?: number;
  tflopsPerGpu?: number;
  gpu?: string;
}

export function planRecipe(file: string, o: PlanOptions = {}): string {
  const r = loadCptRecipe(file);
  const a = r.base.architecture;
  if (!a) throw new Error(`${file}: base.architecture is needed to plan without the checkpoint (dim, nLayers, nHeads, nKvHeads, hiddenDim, vocabSize, maxSeqLen)`);
  const vocab = a.vocabSize + (r.extendTokenizer?.count ?? 0);
  const cfg = defaultConfig({ ...a, vocabSize: Math.ceil(vocab / 128) * 128 });
  const params = [...parameterShapes(cfg)].reduce((s, [, sh]) => s + sh.reduce((x, y) => x * y, 1), 0);
  const gpus = o.gpus ?? 80, tf = o.tflopsPerGpu ?? 163, gpu = o.gpu ?? 'A100-80G';
  const tokensPerStep = r.batch * r.accumulate * r.seqLen;
  const lines: string[] = [`${r.name}: ${file}`, `base ${r.base.model}: ${(params / 1e9).toFixed(2)}B parameters after the vocabulary grows to ${cfg.vocabSize.toLocaleString('en-US')} (${a.nLayers} layers, dim ${a.dim}, ${a.nHeads} heads, ${a.nKvHeads} KV heads), sequence ${r.seqLen}, ${r.precision.toUpperCase()}`];
  let totalTokens = 0, totalFlops = 0;
  for (const st of r.stages) {
    const shares = stageShares(st);
    const tokens = st.tokens ?? 0;
    const steps = Math.ceil(tokens / tokensPerStep);
    // 6ND for the weights, plus attention scores and values: 12 x layers x dim x seq per token (forward + backward)
    const flops = 6 * params * tokens + 12 * a.nLayers * a.dim * r.seqLen * tokens;
    totalTokens += tokens;
    totalFlops += flops;
    lines.push(`  stage ${st.name}: ${tokens.toLocaleString('en-US')} tokens = ${steps.toLocaleString('en-US')} steps of ${tokensPerStep.toLocaleString('en-US')} tokens; ${flops.toExponential(2)} FLOPs; ${shares.map((s) => `${s.name} ${(100 * s.share).toFixed(1)}%`).join(', ')}`);
  }
  const seconds = totalFlops / (gpus * tf * 1e12);
  lines.push(`total: ${totalTokens.toLocaleString('en-US')} tokens, ${totalFlops.toExponential(2)} FLOPs`);
  lines.push(`time: ${(seconds / 86400).toFixed(1)} days on ${gpus} × ${gpu} at ${tf} TFLOPS each (Ziya2's measured throughput), ${(seconds * gpus / 3600).toLocaleString('en-US', { maximumFractionDigits: 0 })} GPU-hours`);
  lines.push(`launch: ziya export megatron ${file} --out megatron/ (token files and one pretrain_gpt.py script per stage)`);
  return lines.join('\n');
}
