/**
 * `ziya export megatron RECIPE --out DIR`: hands a continual pre-training recipe to Megatron-LM for
 * large runs. Every source of every stage becomes a Megatron indexed dataset (text sources: one
 * document per text, <s> … </s>; supervised sources: one document per rendered example), and each
 * stage gets a launch script for pretrain_gpt.py with the model's shape, the Ziya2 hyper-parameters
 * (AdamW 0.9/0.95, weight decay 0.1, clipping 1.0, warmup 1 %, cosine to the minimum learning rate,
 * BF16, softmax in FP32, tensor parallel 1, pipeline parallel 2), the stage's blend of its sources
 * and replays as --data-path weights, its sample budget, and --load of the previous stage.
 * Megatron's GPTDataset joins documents with </s> and cuts at the sequence length; it has no
 * packing by task, so in stages 2 and 3 examples are joined like documents (with
 * --reset-attention-mask keeping them apart) instead of being padded per row.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync, chmodSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadTokenizer } from '../../tokenizer/load.js';
import type { SentencePieceBPE } from '../../tokenizer/bpe.js';
import { IndexedDatasetWriter, optimalDtype } from '../../data/indexed.js';
import { configFromHf } from '../../model/formats/safetensors.js';
import { readGgufMetadata } from '../../tokenizer/formats/gguf.js';
import { CheckpointError, type LlamaConfig } from '../../model/config.js';
import { RecipeError } from '../../factory/recipe.js';
import { jsonRecords, sourceTexts, writeTextDocuments } from './data.js';
import { isSupervised, renderTemplate, resolveIn, stageShares, type CptRecipe } from './recipe.js';

/** a checkpoint's configuration without reading its weights */
export function readModelConfig(path: string): LlamaConfig {
  if (!existsSync(path)) throw new CheckpointError(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) return configFromHf(JSON.parse(readFileSync(join(path, 'config.json'), 'utf8')), join(path, 'config.json'));
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(256);
  readSync(fd, head, 0, 256, 0);
  closeSync(fd);
  if (head.toString('latin1', 0, 4) === 'GGUF') {
    const g = readGgufMetadata(readFileSync(path), path);
    const n = (k: string, d?: number) => Number(g.kv.get(`llama.${k}`) ?? d);
    return { dim: n('embedding_length'), nLayers: n('block_count'), nHeads: n('attention.head_count'), nKvHeads: n('attention.head_count_kv', n('attention.head_count')), hiddenDim: n('feed_forward_length'), vocabSize: n('vocab_size', (g.kv.get('tokenizer.ggml.tokens') as unknown[] | undefined)?.length ?? 0), maxSeqLen: n('context_length'), ropeTheta: n('rope.freq_base', 10000), normEps: n('attention.layer_norm_rms_epsilon', 1e-5), tieEmbeddings: false };
  }
  const v1 = head.readUInt32LE(0) === 0x616b3432;
  const h = Array.from({ length: 7 }, (_, i) => head.readInt32LE((v1 ? 8 : 0) + 4 * i));
  return { dim: h[0]!, hiddenDim: h[1]!, nLayers: h[2]!, nHeads: h[3]!, nKvHeads: h[4]!, vocabSize: Math.abs(h[5]!), maxSeqLen: h[6]!, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: v1 ? head[36] !== 0 : h[5]! > 0 };
}

export interface MegatronExport {
  scripts: string[];
  datasets: { stage: string; source: string; prefix: string; documents: number; tokens: number }[];
}

export interface MegatronOptions {
  out: string;
  /** tensor / pipeline parallel sizes (Ziya2: 1 and 2) */
  tp?: number;
  pp?: number;
  /** tokens per global batch (default: the recipe's batch x accumulate sequences) */
  globalBatchTokens?: number;
  /** only count what would be written (no data files) */
  dryRun?: boolean;
}

async function writeSource(r: CptRecipe, stageName: string, src: CptRecipe['stages'][number]['sources'][number], tok: SentencePieceBPE, prefix: string): Promise<{ documents: number; tokens: number }> {
  const stage = r.stages.find((s) => s.name === stageName)!;
  const w = new IndexedDatasetWriter(prefix, optimalDtype(tok.vocab.pieces.length));
  let documents = 0;
  try {
    if (isSupervised(src)) {
      let n = 0;
      for await (const rec of jsonRecords(r, src.path, src.maxDocuments, src.columns)) {
        const where = `${r.file}: stage ${stageName}, source ${src.name}, record ${++n}`;
        const ids = tok.encode(renderTemplate(src.prompt, rec, where), { bos: true }).concat(tok.encode(renderTemplate(src.answer, rec, where)), [tok.vocab.eosId]);
        w.addDocument(ids);
        documents++;
      }
    } else documents = await writeTextDocuments(w, sourceTexts(r, stage, src), tok);
  } catch (e) {
    w.abort();
    throw e;
  }
  const tokens = w.tokenCount;
  w.finalize();
  return { documents, tokens };
}

export async function exportMegatron(r: CptRecipe, o: MegatronOptions): Promise<MegatronExport> {
  const modelPath = resolveIn(r, r.base.model);
  const cfg = !existsSync(modelPath) && r.base.architecture ? r.base.architecture : readModelConfig(modelPath);
  const tokPath = resolveIn(r, r.base.tokenizer);
  const tok = o.dryRun ? null : loadTokenizer(tokPath);
  mkdirSync(o.out, { recursive: true });
  const tp = o.tp ?? 1, pp = o.pp ?? 2;
  const gbs = o.globalBatchTokens ? Math.max(1, Math.round(o.globalBatchTokens / r.seqLen)) : r.batch * r.accumulate;
  const res: MegatronExport = { scripts: [], datasets: [] };
  const prefixes = new Map<string, { prefix: string; weight: number }[]>();
  for (const [i, stage] of r.stages.entries()) {
    const blend: { prefix: string; weight: number }[] = [];
    const shares = stageShares(stage);
    for (const [j, src] of stage.sources.entries()) {
      const prefix = join(o.out, 'data', stage.name, src.name);
      const st = tok ? await writeSource(r, stage.name, src, tok, prefix) : { documents: 0, tokens: 0 };
      res.datasets.push({ stage: stage.name, source: src.name, prefix, ...st });
      blend.push({ prefix, weight: shares[j]!.share });
    }
    // a replay of stage X reads X's datasets with X's weights, scaled to the replay's share
    for (const [k, name] of Object.keys(stage.replay).entries()) {
      const w = shares[stage.sources.length + k]!.share;
      const earlier = prefixes.get(name)!;
      const sum = earlier.reduce((a, x) => a + x.weight, 0);
      for (const e of earlier) blend.push({ prefix: e.prefix, weight: (w * e.weight) / sum });
    }
    prefixes.set(stage.name, blend.slice(0, stage.sources.length));
    const total = blend.reduce((a, x) => a + x.weight, 0);
    const samples = Math.ceil(stage.tokens / r.seqLen);
    const prev = i === 0 ? null : r.stages[i - 1]!.name;
    const lr = stage.lr ?? r.optimizer.lr;
    const rel = (p: string) => relative(o.out, p);
    const gqa = cfg.nKvHeads !== cfg.nHeads ? [`--group-query-attention --num-query-groups ${cfg.nKvHeads}`] : [];
    const lines = [
      '#!/usr/bin/env bash',
      `# Stage ${i + 1} of ${r.stages.length} ("${stage.name}") of ${r.name}, for Megatron-LM's pretrain_gpt.py.`,
      `# Written by \`ziya export megatron ${relative(process.cwd(), r.file)}\`. ${stage.tokens.toLocaleString('en-US')} tokens = ${samples.toLocaleString('en-US')} samples of ${r.seqLen}.`,
      i === 0
        ? '# Needs the base model as a Megatron checkpoint in $CKPT/base (convert it with Megatron-LM\'s tools/checkpoint/convert.py; its options differ between versions).'
        : `# Starts from the checkpoint of stage "${prev}".`,
      '# Stages 2 and 3: Megatron has no packing by task; examples are joined like documents, kept apart by --reset-attention-mask.',
      'set -euo pipefail',
      'cd "$(dirname "$0")"',
      ': "${MEGATRON:?set MEGATRON to your Megatron-LM checkout}"',
      'CKPT=${CKPT:-checkpoints}',
      r.extendTokenizer
        ? 'TOKENIZER=${TOKENIZER:?set TOKENIZER to the extended tokenizer.model made by ziya tokenizer extend, whose vocabulary matches the converted checkpoint}'
        : `TOKENIZER=\${TOKENIZER:-${JSON.stringify(tokPath)}}`,
      'GPUS_PER_NODE=${GPUS_PER_NODE:-8}',
      'NNODES=${NNODES:-1}',
      'NODE_RANK=${NODE_RANK:-0}',
      'MASTER_ADDR=${MASTER_ADDR:-localhost}',
      'MASTER_PORT=${MASTER_PORT:-6000}',
      'torchrun --nproc_per_node "$GPUS_PER_NODE" --nnodes "$NNODES" --node_rank "$NODE_RANK" --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \\',
      '  "$MEGATRON/pretrain_gpt.py" \\',
      ...[
        `--num-layers ${cfg.nLayers} --hidden-size ${cfg.dim} --ffn-hidden-size ${cfg.hiddenDim} --num-attention-heads ${cfg.nHeads}`,
        ...gqa,
        `--seq-length ${r.seqLen} --max-position-embeddings ${Math.max(r.seqLen, cfg.maxSeqLen)}`,
        `--position-embedding-type rope --rotary-base ${cfg.ropeTheta} --normalization RMSNorm --norm-epsilon ${cfg.normEps} --swiglu`,
        `--disable-bias-linear ${cfg.tieEmbeddings ? '' : '--untie-embeddings-and-output-weights'} --no-position-embedding`.replace(/\s+/g, ' ').trim(),
        '--tokenizer-type Llama2Tokenizer --tokenizer-model "$TOKENIZER" --make-vocab-size-divisible-by 128',
        `--tensor-model-parallel-size ${tp} --pipeline-model-parallel-size ${pp}`,
        `--micro-batch-size 1 --global-batch-size ${gbs} --train-samples ${samples}`,
        `--lr ${lr} --min-lr ${r.optimizer.minLr} --lr-decay-style cosine --lr-warmup-fraction ${r.optimizer.warmup} --lr-decay-samples ${samples}`,
        `--optimizer adam --adam-beta1 ${r.optimizer.betas[0]} --adam-beta2 ${r.optimizer.betas[1]} --weight-decay ${r.optimizer.weightDecay} --clip-grad ${r.optimizer.clip}`,
        `${r.precision === 'fp32' ? '' : `--${r.precision} `}--attention-softmax-in-fp32 --use-flash-attn`,
        `--data-path ${blend.map((b) => `${(b.weight / total).toFixed(6)} ${rel(b.prefix)}`).join(' ')}`,
        `--split 1000,0,0 --seed ${r.seed}${stage.documentMask ? ' --reset-attention-mask' : ''}`,
        i === 0 ? '--load "$CKPT/base" --finetune --no-load-optim --no-load-rng' : `--load "$CKPT/${prev}" --finetune`,
        `--save "$CKPT/${stage.name}" --save-interval 1000 --log-interval 10 --eval-iters 0`,
      ].map((l, k, all) => `  ${l}${k < all.length - 1 ? ' \\' : ''}`),
    ];
    const script = join(o.out, `stage${i + 1}-${stage.name}.sh`);
    writeFileSync(script, lines.join('\n') + '\n');
    chmodSync(script, 0o755);
    res.scripts.push(script);
  }
  if (!r.stages.length) throw new RecipeError(`${r.file}: no stages`);
  return res;
}
