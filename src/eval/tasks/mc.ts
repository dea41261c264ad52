/**
 * MMLU, CMMLU and C-Eval: k-shot (5 by default) from the dev split, four options, the answer
 * picked by the model's likelihood. Three protocols, each rendered as its source does:
 *  - lm-eval (default): lm-evaluation-harness's templates; each option's continuation " A".." D"
 *    scored by summed log-likelihood (acc) and per character (acc_norm); micro averages headline.
 *  - original: the benchmarks' own repositories' prompts (MMLU's double space after "about",
 *    CMMLU's 题目：/答案是：, C-Eval's 考试); the letter's likelihood after the prompt (" A" for
 *    MMLU, "A" for CMMLU and C-Eval, whose prompts end with a full-width colon).
 *  - opencompass: OpenCompass's PPL configs as its base-model template parser renders them
 *    (rounds joined with "\n", examples separated by blank lines); every option's full prompt
 *    scored by mean per-token log-likelihood, the lowest perplexity wins; macro averages headline.
 */
import type { McBenchmark, McDoc } from '../data.js';
import { LETTERS, type Gold, type ItemResult, type Request, type Response, type Task } from '../task.js';
import type { LoglikelihoodResult, RollingResult } from '../lm.js';
import { CEVAL_SUBJECTS, CMMLU_SUBJECTS, MMLU_SUBJECTS, type SubjectInfo } from './subjects.js';

export type McProtocol = 'lm-eval' | 'original' | 'opencompass';
export const MC_PROTOCOLS: McProtocol[] = ['lm-eval', 'original', 'opencompass'];

const TABLES: Record<McBenchmark, Record<string, SubjectInfo>> = { mmlu: MMLU_SUBJECTS, cmmlu: CMMLU_SUBJECTS, ceval: CEVAL_SUBJECTS };

function zh(bench: McBenchmark, subject: string): string {
  const s = TABLES[bench][subject];
  if (!s?.zh) throw new Error(`${bench}: no Chinese name known for subject "${subject}"`);
  return s.zh;
}

const options = (d: McDoc) => d.choices.map((c, i) => `\n${LETTERS[i]}. ${c}`).join('');

/** the text of one question without its answer, as each protocol writes it */
function questionText(bench: McBenchmark, p: McProtocol, d: McDoc): string {
  if (p === 'lm-eval') return d.question.trim() + options(d) + (bench === 'mmlu' ? '\nAnswer:' : '\n答案：');
  if (p === 'original') {
    if (bench === 'mmlu') return d.question + options(d) + '\nAnswer:';
    if (bench === 'cmmlu') return '题目：' + d.question + options(d) + '\n答案是：';
    return d.question + options(d) + '\n答案：';
  }
  throw new Error('opencompass prompts are built whole');
}

function header(bench: McBenchmark, p: McProtocol, subject: string): string {
  if (bench === 'mmlu') {
    const words = subject.split('_').join(' ');
    // hendrycks' format_subject puts a space before every word, after the template's own space
    return `The following are multiple choice questions (with answers) about ${p === 'lm-eval' ? '' : ' '}${words}.\n\n`;
  }
  if (bench === 'cmmlu') return `以下是关于${zh(bench, subject)}的单项选择题，请直接给出正确答案的选项。\n\n`;
  return p === 'lm-eval' ? `以下是中国关于${zh(bench, subject)}的单项选择题，请选出其中的正确答案。\n\n` : `以下是中国关于${zh(bench, subject)}考试的单项选择题，请选出其中的正确答案。\n\n`;
}

/** the separator between "答案…" and the letter, and the letter's continuation */
function answerSep(bench: McBenchmark, p: McProtocol): string {
  if (p === 'lm-eval') return ' ';
  return bench === 'mmlu' ? ' ' : '';
}

/** context and the four continuations (lm-eval, original) */
export function renderMc(bench: McBenchmark, p: McProtocol, shots: McDoc[], d: McDoc): { context: string; continuations: string[] } {
  const sep = answerSep(bench, p);
  let ctx = header(bench, p, d.subject);
  for (const s of shots) ctx += questionText(bench, p, s) + sep + LETTERS[s.answer] + '\n\n';
  ctx += questionText(bench, p, d);
  return { context: ctx, continuations: LETTERS.map((l) => sep + l) };
}

/** OpenCompass: the full prompt for each option */
export function renderOpenCompass(bench: McBenchmark, shots: McDoc[], d: McDoc): string[] {
  if (bench === 'mmlu') {
    const q = (x: McDoc) => `${x.question}${options(x)}`;
    const hint = `The following are multiple choice questions (with answers) about  ${d.subject.replace(/_/g, ' ')}.\n\n`;
    // ice items end with "\n", are joined with "\n" and followed by the ice EOS "\n"
    const ice = shots.length ? shots.map((s) => `${q(s)}\nAnswer: ${LETTERS[s.answer]}\n`).join('\n') + '\n' : '';
    return LETTERS.map((l) => `${hint}${ice}${q(d)}\nAnswer: ${l}`);
  }
  const human = (x: McDoc) =>
    bench === 'cmmlu'
      ? `以下是关于${zh(bench, x.subject)}的单项选择题，请直接给出正确答案的选项。\n题目：${x.question}${options(x)}`
      : `以下是中国关于${zh(bench, x.subject)}考试的单项选择题，请选出其中的正确答案。\n${x.question}${options(x)}\n答案: `;
  const bot = (l: string) => (bench === 'cmmlu' ? `答案是: ${l}` : l);
  // PromptList items joined with "\n": [HUMAN, BOT, "\n"] per example, then "\n" (ice EOS), then the test rounds
  const items: string[] = [];
  for (const s of shots) items.push(human(s), bot(LETTERS[s.answer]!), '\n');
  if (shots.length) items.push('\n');
  return LETTERS.map((l) => [...items, human(d), bot(l)].join('\n'));
}

export interface McTaskOptions {
  protocol?: McProtocol;
  shots?: number;
}

const argmax = (xs: number[]) => xs.reduce((b, x, i) => (x > xs[b]! ? i : b), 0);

export function mcTask(bench: McBenchmark, docs: McDoc[], dev: McDoc[], o: McTaskOptions = {}): Task<McDoc> {
  const p = o.protocol ?? 'lm-eval';
  const k = o.shots ?? 5;
  const bySubject = new Map<string, McDoc[]>();
  for (const d of dev) {
    const l = bySubject.get(d.subject) ?? [];
    l.push(d);
    bySubject.set(d.subject, l);
  }
  const shotsFor = (d: McDoc) => {
    if (k === 0) return [];
    const pool = bySubject.get(d.subject) ?? [];
    if (pool.length < k) throw new Error(`${bench}: subject ${d.subject} has ${pool.length} dev questions, ${k}-shot needs ${k}`);
    // first k of the dev split (first_n; FixKRetriever [0..4]); never the item itself
    return pool.filter((s) => s.id !== d.id).slice(0, k);
  };
  const scoring = {
    'lm-eval': `lm-evaluation-harness prompts, ${k}-shot (first ${k} dev questions), continuations " A".." D" scored by summed log-likelihood (acc) and per character (acc_norm); micro average over questions headline`,
    original: `the ${bench.toUpperCase()} repository's own prompt, ${k}-shot (first ${k} dev questions), the option letter ${answerSep(bench, 'original') ? '" A".." D"' : '"A".."D"'} scored by its log-likelihood after the prompt; ${bench === 'mmlu' ? 'micro' : 'macro'} average headline as the original reports`,
    opencompass: `OpenCompass PPL prompts, ${k}-shot (dev rows 0-4), each option's full prompt scored by mean per-token log-likelihood (lowest perplexity wins); macro average over subjects headline`,
  }[p];
  const cat = (s: string) => TABLES[bench][s]?.category;
  // the same question with the same options but another answer: no model can get both right
  const notes: string[] = [];
  const seen = new Map<string, McDoc>();
  for (const d of docs) {
    const key = JSON.stringify([d.subject, d.question, d.choices]);
    const prev = seen.get(key);
    if (prev && prev.answer !== d.answer) notes.push(`${bench}: ${prev.id} and ${d.id} have the same question and options but answers ${LETTERS[prev.answer]} and ${LETTERS[d.answer]}`);
    if (!prev) seen.set(key, d);
  }
  return {
    notes,
    name: bench,
    protocol: p,
    scoring,
    metrics: p === 'lm-eval' ? ['acc', 'acc_norm'] : ['acc'],
    docs,
    category: cat,
    requests(d): Request[] {
      const shots = shotsFor(d);
      if (p === 'opencompass') return renderOpenCompass(bench, shots, d).map((text) => ({ type: 'rolling', text }));
      const r = renderMc(bench, p, shots, d);
      return r.continuations.map((continuation) => ({ type: 'loglikelihood', context: r.context, continuation }));
    },
    score(d, res: Response[]): ItemResult {
      let pred: number, predNorm: number | undefined;
      let scores: number[];
      if (p === 'opencompass') {
        scores = (res as RollingResult[]).map((r) => r.logprob / Math.max(1, r.tokens));
        pred = argmax(scores);
      } else {
        const ll = res as LoglikelihoodResult[];
        scores = ll.map((r) => r.logprob);
        pred = argmax(scores);
        const conts = renderMc(bench, p, [], d).continuations;
        predNorm = argmax(ll.map((r, i) => r.logprob / conts[i]!.length));
      }
      const metrics: Record<string, number> = { acc: pred === d.answer ? 1 : 0 };
      if (p === 'lm-eval') metrics['acc_norm'] = predNorm === d.answer ? 1 : 0;
      return { id: d.id, subject: d.subject, metrics, details: { gold: LETTERS[d.answer], pred: LETTERS[pred], scores } };
    },
    gold(d): Gold[] {
      const shots = shotsFor(d);
      if (p === 'opencompass') return [{ type: 'rolling', text: renderOpenCompass(bench, shots, d)[d.answer]! }];
      const r = renderMc(bench, p, shots, d);
      return [{ type: 'loglikelihood', context: r.context, continuation: r.continuations[d.answer]! }];
    },
  };
}
