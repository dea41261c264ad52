import { parentPort, workerData } from 'node:worker_threads';
import { readSpmModel } from './formats/spm.js';
import { SentencePieceBPE } from './bpe.js';

const tok = new SentencePieceBPE(readSpmModel(workerData.model as Uint8Array, 'batch model'));
parentPort!.on('message', (m: { texts: string[]; opts: { bos?: boolean; eos?: boolean } }) => {
  try {
    let buf = new Int32Array(1 << 16);
    let n = 0;
    const lens = new Int32Array(m.texts.length);
    m.texts.forEach((t, i) => {
      const ids = tok.encode(t, m.opts);
      if (n + ids.length > buf.length) {
        const nb = new Int32Array(Math.max(buf.length * 2, n + ids.length));
        nb.set(buf.subarray(0, n));
        buf = nb;
      }
      for (let k = 0; k < ids.length; k++) buf[n++] = ids[k]!;
      lens[i] = ids.length;
    });
    const ids = buf.slice(0, n);
    parentPort!.postMessage({ ids, lens }, [ids.buffer, lens.buffer]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
