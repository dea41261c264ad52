/** Batch encoding on worker threads (one per core by default); results in input order. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { serializeVocab } from './load.js';
import type { Vocab } from './vocab.js';

export interface BatchResult {
  /** all ids, concatenated */
  ids: Int32Array;
  /** offsets[i]..offsets[i+1] are the ids of text i */
  offsets: Int32Array;
}

export class BatchEncoder {
  private workers: Worker[] = [];
  private model: Uint8Array;
  constructor(vocab: Vocab, private threads = availableParallelism()) {
    const m = serializeVocab(vocab, 'spm');
    this.model = typeof m === 'string' ? Buffer.from(m) : m;
  }

  private start(): void {
    if (this.workers.length) return;
    for (let i = 0; i < this.threads; i++) this.workers.push(new Worker(new URL('./batch-worker.js', import.meta.url), { workerData: { model: this.model } }));
  }

  async encode(texts: string[], opts: { bos?: boolean; eos?: boolean } = {}): Promise<BatchResult> {
    this.start();
    const n = this.workers.length;
    const per = Math.ceil(texts.length / n);
    const parts = await Promise.all(this.workers.map((w, k) => new Promise<{ ids: Int32Array; lens: Int32Array }>((res, rej) => {
      const slice = texts.slice(k * per, (k + 1) * per);
      w.once('message', (m: { ids: Int32Array; lens: Int32Array; error?: string }) => (m.error ? rej(new Error(m.error)) : res(m)));
      w.postMessage({ texts: slice, opts });
    })));
    const total = parts.reduce((a, p) => a + p.ids.length, 0);
    const ids = new Int32Array(total);
    const offsets = new Int32Array(texts.length + 1);
    let o = 0;
    let t = 0;
    for (const p of parts) {
      ids.set(p.ids, o);
      for (const l of p.lens) {
        offsets[t + 1] = offsets[t]! + l;
        t++;
      }
      o += p.ids.length;
    }
    return { ids, offsets };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}
