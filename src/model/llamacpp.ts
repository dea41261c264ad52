/**
 * llama.cpp as a peer, through node-llama-cpp (an optional dependency, pinned 3.21.1): the
 * next-token distribution and greedy continuation of a GGUF model, for parity checks with
 * our engine. The KV cache is kept in F32 and flash attention off so that the comparison
 * is of the model, not of llama.cpp's F16 cache.
 */
export interface LlamaCppPeer {
  /** natural-log probabilities of every vocabulary entry after the given ids (BOS included by the caller) */
  nextLogProbs(ids: number[]): Promise<Float64Array>;
  /** greedy continuation of n tokens after ids */
  greedy(ids: number[], n: number): Promise<number[]>;
  version: string;
  close(): Promise<void>;
}

/** null when node-llama-cpp is not installed or cannot load its prebuilt binary */
export async function openLlamaCpp(ggufPath: string, vocabSize: number, threads = 2): Promise<LlamaCppPeer | null> {
  let mod: typeof import('node-llama-cpp');
  try {
    mod = await import('node-llama-cpp');
  } catch {
    return null;
  }
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: ggufPath });
  const ctxOpts = { contextSize: Math.min(512, model.trainContextSize), threads, flashAttention: false, experimentalKvCacheKeyType: 'F32' as const, experimentalKvCacheValueType: 'F32' as const };
  const sample = { temperature: 1, topK: 0, topP: 1, minP: 0 };
  const run = async <T>(fn: (seq: ReturnType<Awaited<ReturnType<typeof model.createContext>>['getSequence']>) => Promise<T>): Promise<T> => {
    const ctx = await model.createContext(ctxOpts);
    try {
      return await fn(ctx.getSequence());
    } finally {
      await ctx.dispose();
    }
  };
  const version = await nodeLlamaCppVersion();
  return {
    version,
    async nextLogProbs(ids) {
      return run(async (seq) => {
        const input = ids.map((t, i) => (i === ids.length - 1 ? ([t as never, { generateNext: { probabilities: true, options: sample } }] as const) : (t as never)));
        const res = await seq.controlledEvaluate(input as never);
        const probs = (res[res.length - 1] as { next: { probabilities: Map<number, number> } }).next.probabilities;
        const out = new Float64Array(vocabSize).fill(-Infinity);
        for (const [t, p] of probs) out[t] = Math.log(p);
        return out;
      });
    },
    async greedy(ids, n) {
      return run(async (seq) => {
        const out: number[] = [];
        let input: unknown[] = ids.map((t, i) => (i === ids.length - 1 ? [t, { generateNext: { token: true, options: { temperature: 0 } } }] : t));
        for (let i = 0; i < n; i++) {
          const res = await seq.controlledEvaluate(input as never);
          const next = (res[res.length - 1] as { next: { token: number } }).next.token;
          out.push(next);
          input = [[next, { generateNext: { token: true, options: { temperature: 0 } } }]];
        }
        return out;
      });
    },
    async close() {
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** the installed node-llama-cpp's version ("?" when its package.json cannot be found) */
export async function nodeLlamaCppVersion(): Promise<string> {
  try {
    const { createRequire } = await import('node:module');
    const { readFileSync, existsSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    let dir = dirname(createRequire(import.meta.url).resolve('node-llama-cpp'));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
