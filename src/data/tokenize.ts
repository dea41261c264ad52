/**
 * `ziya data tokenize`: factory output (JSONL plain/.gz/.zst, Parquet, text) → a Megatron indexed
 * dataset, one document per record, as Megatron's tools/preprocess_data.py with the LLaMA-2
 * tokenizer and --append-eod writes it: [<s>, …tokens…, </s>]. Every record read is accounted for:
 * written, skipped as empty, or quarantined by the reader with its reason.
 */
import { statSync } from 'node:fs';
import { readShard, formatOf } from '../io/readers.js';
import { expandInputs } from '../factory/plan.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { Progress } from '../ui/progress.js';
import { IndexedDatasetWriter, optimalDtype } from './indexed.js';

export interface TokenizeOptions {
  inputs: string[];
  tokenizer: string;
  out: string;
  textKey?: string;
  bos?: boolean;
  appendEod?: boolean;
  quiet?: boolean;
}

export interface TokenizeStats {
  files: number;
  read: number;
  written: number;
  empty: number;
  quarantined: number;
  tokens: number;
  dtype: string;
  seconds: number;
  bin: string;
  idx: string;
}

export async function tokenizeToIndexed(o: TokenizeOptions): Promise<TokenizeStats> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const files = expandInputs(o.inputs, process.cwd(), warnings);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (!files.length) throw new Error(`data tokenize: no input files in ${o.inputs.join(', ')}`);
  const tok = loadTokenizer(o.tokenizer);
  const dtype = optimalDtype(tok.vocab.pieces.length);
  const w = new IndexedDatasetWriter(o.out, dtype);
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  const progress = new Progress('tokenize', total, 1000, process.stderr, !o.quiet);
  const st = { read: 0, written: 0, empty: 0, quarantined: 0, tokens: 0 };
  let done = 0;
  try {
    for (const f of files) {
      const format = formatOf(f) ?? 'text';
      const prog = { bytes: 0 };
      for await (const e of readShard({ index: 0, format, files: [f], keys: [f], bytes: statSync(f).size }, { textKey: o.textKey ?? 'text', idKey: 'id', maxRecordBytes: 64 << 20 }, prog)) {
        if ('warning' in e) { process.stderr.write(`warning: ${e.warning}\n`); continue; }
        st.read++;
        if ('quarantine' in e) {
          st.quarantined++;
          process.stderr.write(`quarantined ${e.quarantine.file}:${e.quarantine.record}: ${e.quarantine.reason}\n`);
          continue;
        }
        const ids = tok.encode(e.doc.text, { bos: o.bos ?? true });
        if (ids.length <= (o.bos ?? true ? 1 : 0)) { st.empty++; continue; }
        if (o.appendEod ?? true) ids.push(tok.vocab.eosId);
        w.addDocument(ids);
        st.written++;
        st.tokens += ids.length;
        progress.update(done + prog.bytes, st.read, `${st.tokens.toLocaleString('en-US')} tokens`);
      }
      done += statSync(f).size;
    }
  } catch (err) {
    w.abort();
    throw err;
  }
  const out = w.finalize();
  progress.done(total, st.read, `${st.tokens.toLocaleString('en-US')} tokens`);
  if (st.read !== st.written + st.empty + st.quarantined) throw new Error(`data tokenize: accounting failed (${st.read} read ≠ ${st.written} + ${st.empty} + ${st.quarantined})`);
  return { files: files.length, ...st, dtype, seconds: (performance.now() - t0) / 1000, ...out };
}
