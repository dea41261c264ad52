/**
 * Benchmark data from local copies: the original repositories' layouts (MMLU/C-Eval/CMMLU CSV
 * folders, GSM8K/MATH/HumanEval JSONL) and the dataset hub's (Parquet, JSONL or CSV files with
 * the hub's column names). Every malformed row is an error naming the file and line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parseCsv } from './csv.js';

export class DataError extends Error {}

export interface McDoc {
  id: string;
  subject: string;
  question: string;
  choices: string[];
  /** index of the right choice */
  answer: number;
  explanation?: string;
}

const LETTERS = ['A', 'B', 'C', 'D'];

/** records of a JSONL (.gz), Parquet, JSON array or CSV file, each with where it came from */
export async function readRecords(file: string): Promise<{ rec: Record<string, unknown>; where: string }[]> {
  if (!existsSync(file)) throw new DataError(`${file}: no such file`);
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet')) {
    const buf = readFileSync(file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    let rows: Record<string, unknown>[];
    try {
      const metadata = await parquetMetadataAsync(ab);
      rows = (await parquetReadObjects({ file: ab, metadata })) as Record<string, unknown>[];
    } catch (e) {
      throw new DataError(`${file}: not a readable Parquet file (${(e as Error).message})`);
    }
    return rows.map((rec, i) => ({ rec, where: `${file} row ${i + 1}` }));
  }
  let text: string;
  const raw = readFileSync(file);
  try {
    text = (lower.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (e) {
    throw new DataError(`${file}: ${(e as Error).message}`);
  }
  if (lower.endsWith('.csv')) {
    const { rows, lines } = parseCsv(text, file);
    if (rows.length === 0) throw new DataError(`${file}: empty CSV`);
    const head = rows[0]!;
    return rows.slice(1).map((r, i) => {
      if (r.length !== head.length) throw new DataError(`${file}:${lines[i + 1]}: ${r.length} fields, the header has ${head.length}`);
      return { rec: Object.fromEntries(head.map((h, j) => [h, r[j]])), where: `${file}:${lines[i + 1]}` };
    });
  }
  if (lower.endsWith('.json')) {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new DataError(`${file}: expected a JSON array of records`);
    return v.map((rec, i) => ({ rec: rec as Record<string, unknown>, where: `${file} record ${i + 1}` }));
  }
  const out: { rec: Record<string, unknown>; where: string }[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new DataError(`${file}:${i + 1}: malformed JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`${file}:${i + 1}: expected a JSON object`);
    out.push({ rec: v as Record<string, unknown>, where: `${file}:${i + 1}` });
  });
  return out;
}

function str(rec: Record<string, unknown>, key: string, where: string, optional = false): string {
  const v = rec[key];
  if (v === undefined || v === null) {
    if (optional) return '';
    throw new DataError(`${where}: field "${key}" is missing`);
  }
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v !== 'string') throw new DataError(`${where}: field "${key}" is not text`);
  return v;
}

function answerIndex(v: unknown, where: string): number {
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 0 && n < 4) return n;
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (LETTERS.includes(s)) return LETTERS.indexOf(s);
    if (/^[0-3]$/.test(s)) return Number(s);
  }
  throw new DataError(`${where}: answer ${JSON.stringify(v)} is not one of A-D or 0-3`);
}

/** one multiple-choice record in any of the layouts: A..D columns, choice0..3 columns, or a choices list */
function mcRecord(rec: Record<string, unknown>, where: string, subject: string, id: string): McDoc {
  const q = 'question' in rec ? str(rec, 'question', where) : str(rec, 'Question', where);
  let choices: string[];
  if (Array.isArray(rec['choices'])) choices = (rec['choices'] as unknown[]).map((c) => String(c));
  else if ('A' in rec) choices = LETTERS.map((l) => str(rec, l, where));
  else if ('choice0' in rec) choices = [0, 1, 2, 3].map((j) => str(rec, `choice${j}`, where));
  else throw new DataError(`${where}: no options (expected A-D, choice0-3 or a choices list)`);
  if (choices.length !== 4) throw new DataError(`${where}: ${choices.length} options, expected 4`);
  const ans = rec['answer'] ?? rec['Answer'];
  if (ans === undefined || ans === null || ans === '') throw new DataError(`${where}: no answer (the split may be unlabelled)`);
  const doc: McDoc = { id, subject, question: q, choices, answer: answerIndex(ans, where) };
  if (typeof rec['explanation'] === 'string') doc.explanation = rec['explanation'];
  return doc;
}

export type McBenchmark = 'mmlu' | 'cmmlu' | 'ceval';

/** file name of a subject's split in the original layouts */
function splitFile(bench: McBenchmark, dir: string, split: string, subject: string): string {
  return bench === 'cmmlu' ? join(dir, split, `${subject}.csv`) : join(dir, split, `${subject}_${split}.csv`);
}

/** the subjects of a split folder */
function subjectsIn(bench: McBenchmark, dir: string, split: string): string[] {
  const d = join(dir, split);
  if (!existsSync(d) || !statSync(d).isDirectory()) throw new DataError(`${bench}: no ${split} split under ${dir} (expected the folder ${d})`);
  const suffix = bench === 'cmmlu' ? '.csv' : `_${split}.csv`;
  const subs = readdirSync(d).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort();
  if (subs.length === 0) throw new DataError(`${bench}: the ${split} split under ${dir} holds no *${suffix} files`);
  return subs;
}

/**
 * the original layout: DIR/{dev,test,val}/... CSV files (MMLU with or without its header row;
 * answers as letters or 0-3). MMLU files without a header are read positionally.
 */
export async function loadMcSplit(bench: McBenchmark, dir: string, split: string, subjects?: string[]): Promise<McDoc[]> {
  const hubFile = hubSplitFile(dir, split);
  if (hubFile) return loadMcHub(hubFile, split, subjects);
  const subs = subjects ?? subjectsIn(bench, dir, split);
  const out: McDoc[] = [];
  for (const s of subs) {
    const f = splitFile(bench, dir, split, s);
    if (!existsSync(f)) throw new DataError(`${bench}: subject ${s} has no ${split} split (${f} is missing)`);
    const text = readFileSync(f, 'utf8');
    const { rows, lines } = parseCsv(text, f);
    const header = rows[0] && (rows[0].includes('question') || rows[0].includes('Question'));
    if (header) {
      const head = rows[0]!;
      rows.slice(1).forEach((r, i) => {
        const where = `${f}:${lines[i + 1]}`;
        if (r.length !== head.length) throw new DataError(`${where}: ${r.length} fields, the header has ${head.length}`);
        const rec = Object.fromEntries(head.map((h, j) => [h, r[j]]));
        const rid = rec['id'] ?? rec[''] ?? String(i);
        out.push(mcRecord(rec, where, s, `${s}/${split}/${rid}`));
      });
    } else {
      rows.forEach((r, i) => {
        const where = `${f}:${lines[i]}`;
        if (r.length !== 6) throw new DataError(`${where}: ${r.length} fields, expected question, 4 options, answer`);
        out.push(mcRecord({ question: r[0], A: r[1], B: r[2], C: r[3], D: r[4], answer: r[5] }, where, s, `${s}/${split}/${i}`));
      });
    }
  }
  return out;
}

/** a dataset-hub file for a split: DIR/<split>-*.parquet|jsonl, DIR/<split>.parquet|jsonl|csv, or DIR itself when it is a file */
function hubSplitFile(dir: string, split: string): string | null {
  if (existsSync(dir) && statSync(dir).isFile()) return null;
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => /\.(parquet|jsonl|jsonl\.gz|json)$/.test(f) && (f.startsWith(`${split}-`) || f.startsWith(`${split}.`)));
  return files.length ? join(dir, files.sort()[0]!) : null;
}

/** hub layout: one file with question, choices (list) or A-D, answer, and subject columns */
async function loadMcHub(file: string, split: string, subjects?: string[]): Promise<McDoc[]> {
  const recs = await readRecords(file);
  const want = subjects ? new Set(subjects) : null;
  const out: McDoc[] = [];
  recs.forEach(({ rec, where }, i) => {
    const subject = typeof rec['subject'] === 'string' ? rec['subject'] : basename(file).replace(/\..*$/, '');
    if (want && !want.has(subject)) return;
    out.push(mcRecord(rec, where, subject, `${subject}/${split}/${rec['id'] ?? i}`));
  });
  if (out.length === 0) throw new DataError(`${file}: no ${split} records${want ? ` for the subjects ${[...want].join(', ')}` : ''}`);
  return out;
}

/** a JSONL/Parquet file of a generation benchmark: DIR/<split>.jsonl, DIR/<split>-*.parquet, or the file itself */
export function splitPath(dirOrFile: string, split: string, bench: string): string {
  if (existsSync(dirOrFile) && statSync(dirOrFile).isFile()) return dirOrFile;
  if (!existsSync(dirOrFile)) throw new DataError(`${bench}: ${dirOrFile} does not exist`);
  const files = readdirSync(dirOrFile).filter((f) => /\.(parquet|jsonl|jsonl\.gz|json)$/.test(f) && (f.startsWith(`${split}-`) || f.startsWith(`${split}.`)));
  if (files.length === 0) throw new DataError(`${bench}: no ${split} split in ${dirOrFile} (expected ${split}.jsonl or ${split}-*.parquet)`);
  return join(dirOrFile, files.sort()[0]!);
}

export interface Gsm8kDoc { id: string; question: string; answer: string }
export async function loadGsm8k(dirOrFile: string, split: string): Promise<Gsm8kDoc[]> {
  const f = splitPath(dirOrFile, split, 'gsm8k');
  return (await readRecords(f)).map(({ rec, where }, i) => {
    const answer = str(rec, 'answer', where);
    if (!/####\s*\S/.test(answer)) throw new DataError(`${where}: the reference answer has no "#### N" line`);
    return { id: `${split}/${i}`, question: str(rec, 'question', where), answer };
  });
}

export interface MathDoc { id: string; problem: string; solution: string; answer: string; subject: string; level: string }
export async function loadMath(dirOrFile: string, split = 'test'): Promise<MathDoc[]> {
  const f = splitPath(dirOrFile, split, 'math');
  return (await readRecords(f)).map(({ rec, where }, i) => {
    const solution = str(rec, 'solution', where, true);
    let answer = str(rec, 'answer', where, true);
    if (!answer) {
      const b = lastBoxed(solution);
      if (b === null) throw new DataError(`${where}: neither an answer field nor a \\boxed{} answer in the solution`);
      answer = b;
    }
    return {
      id: String(rec['unique_id'] ?? `${split}/${i}`),
      problem: str(rec, 'problem', where).replace(/^Return your final response within \\boxed\{\}\. /, ''),
      solution,
      answer,
      subject: str(rec, 'subject', where, true) || str(rec, 'type', where, true) || 'all',
      level: String(rec['level'] ?? ''),
    };
  });
}

/** content of the last \boxed{...} or \fbox{...} (braces matched), or null */
export function lastBoxed(s: string): string | null {
  let i = Math.max(s.lastIndexOf('\\boxed'), s.lastIndexOf('\\fbox'));
  if (i < 0) return null;
  if (s.startsWith('\\boxed ', i)) {
    const rest = s.slice(i + 7);
    return rest.split('$')[0]!.trim();
  }
  const open = s.indexOf('{', i);
  if (open < 0) return null;
  let depth = 0;
  for (i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') {
      depth--;
      if (depth === 0) return s.slice(open + 1, i);
    }
  }
  return null;
}

export interface HumanEvalDoc { id: string; prompt: string; entryPoint: string; canonical: string; test: string }
export async function loadHumanEval(dirOrFile: string): Promise<HumanEvalDoc[]> {
  let f = dirOrFile;
  if (existsSync(f) && statSync(f).isDirectory()) {
    const cands = [join(f, 'HumanEval.jsonl.gz'), join(f, 'data', 'HumanEval.jsonl.gz'), join(f, 'HumanEval.jsonl')].filter(existsSync);
    f = cands[0] ?? splitPath(f, 'test', 'humaneval');
  }
  return (await readRecords(f)).map(({ rec, where }) => ({
    id: str(rec, 'task_id', where),
    prompt: str(rec, 'prompt', where),
    entryPoint: str(rec, 'entry_point', where),
    canonical: str(rec, 'canonical_solution', where, true),
    test: str(rec, 'test', where),
  }));
}
