/**
 * The main job's data after the factory: its kept documents split by language into training and
 * held-out text, and the task data the project makes itself from them (nothing is downloaded):
 * next-line pairs of the Chinese poems and sentence completions of the English addresses for the
 * supervised stage, generated arithmetic word problems (GSM8K format, "#### n") for the math
 * stage, and three small benchmarks that make sense for a model this size: arithmetic (generation,
 * strict and flexible extraction), Chinese next-line choice and English sentence-ending choice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../core/hash.js';
import { keptDocs } from '../dataeval/gate.js';
import type { ChoiceDoc } from '../eval/tasks/choice.js';
import type { Gsm8kDoc } from '../eval/data.js';

export interface MainData {
  dir: string;
  files: Record<string, string>;
  counts: Record<string, number>;
  bench: { arith: Gsm8kDoc[]; arithShots: Gsm8kDoc[]; poem: ChoiceDoc[]; cloze: ChoiceDoc[] };
}

const NAMES = ['Tom', 'Lily', 'Sam', 'Mia', 'Ben', 'Anna', 'Leo', 'Emma'];
const ITEMS = ['apples', 'books', 'coins', 'pencils', 'stamps', 'cookies', 'marbles', 'shells'];

/** an arithmetic word problem with its worked answer */
export function mathProblem(r: () => number, i: number): Gsm8kDoc {
  const name = NAMES[Math.floor(r() * NAMES.length)]!, item = ITEMS[Math.floor(r() * ITEMS.length)]!;
  const a = 2 + Math.floor(r() * 18), b = 1 + Math.floor(r() * 9);
  const kind = Math.floor(r() * 3);
  if (kind === 0) return { id: `m${i}`, question: `${name} has ${a} ${item}. ${name} gets ${b} more ${item}. How many ${item} does ${name} have now?`, answer: `${name} has ${a} + ${b} = ${a + b} ${item}.\n#### ${a + b}` };
  if (kind === 1) {
    const big = a + b;
    return { id: `m${i}`, question: `${name} had ${big} ${item} and gave ${b} away. How many ${item} are left?`, answer: `${name} has ${big} - ${b} = ${a} ${item} left.\n#### ${a}` };
  }
  return { id: `m${i}`, question: `Each bag holds ${b} ${item}. How many ${item} are in ${a} bags?`, answer: `There are ${a} * ${b} = ${a * b} ${item}.\n#### ${a * b}` };
}

function shuffleWith<T>(xs: T[], r: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** a choice item: the right option and three others, in a seeded order */
function choiceItem(id: string, subject: string, context: string, right: string, pool: string[], r: () => number): ChoiceDoc {
  const others: string[] = [];
  while (others.length < 3) {
    const x = pool[Math.floor(r() * pool.length)]!;
    if (x !== right && !others.includes(x)) others.push(x);
  }
  const choices = shuffleWith([right, ...others], r);
  return { id, subject, context, choices, answer: choices.indexOf(right) };
}

export async function buildMainData(factoryOut: string, dir: string, o: { seed?: number; benchItems?: number } = {}): Promise<MainData> {
  mkdirSync(dir, { recursive: true });
  const r = rng(o.seed ?? 7);
  const en: string[] = [], zh: string[] = [];
  for await (const d of keptDocs(factoryOut)) (d.meta.language === 'zh' ? zh : d.meta.language === 'en' ? en : []).push(d.text);
  if (en.length < 20 || zh.length < 20) throw new Error(`${factoryOut}: the factory kept ${en.length} English and ${zh.length} Chinese documents; the main job needs at least 20 of each`);
  const hold = (xs: string[]) => { const k = Math.max(5, Math.round(xs.length * 0.05)); return { train: xs.slice(0, xs.length - k), heldout: xs.slice(xs.length - k) }; };
  const E = hold(en), Z = hold(zh);
  const files: Record<string, string> = {};
  const put = (name: string, recs: unknown[]) => {
    const f = join(dir, `${name}.jsonl`);
    writeFileSync(f, recs.map((x) => JSON.stringify(x)).join('\n') + '\n');
    files[name] = f;
  };
  put('en-train', E.train.map((text) => ({ text })));
  put('en-heldout', E.heldout.map((text) => ({ text })));
  put('zh-train', Z.train.map((text) => ({ text })));
  put('zh-heldout', Z.heldout.map((text) => ({ text })));
  // supervised pairs: next line of a Chinese poem, the end of an English sentence
  const zhPairs = (docs: string[]) => docs.flatMap((t, doc) => {
    const lines = t.split(/[，。！？；\n]/).map((x) => x.trim()).filter((x) => x.length >= 4 && x.length <= 12 && !/[A-Za-z0-9]/.test(x));
    return lines.slice(0, -1).map((x, i) => ({ first: x, second: lines[i + 1]!, doc }));
  });
  const enPairs = (docs: string[]) => docs.flatMap((t, doc) => t.split(/(?<=[.!?])\s+/).filter((s) => s.length >= 60 && s.length <= 220).map((s) => {
    const w = s.split(' ');
    const cut = Math.max(4, Math.floor(w.length * 0.6));
    return { start: w.slice(0, cut).join(' '), end: w.slice(cut).join(' '), doc };
  })).filter((p) => p.end.length >= 8);
  const zpTrain = zhPairs(Z.train), zpHeld = zhPairs(Z.heldout), epTrain = enPairs(E.train), epHeld = enPairs(E.heldout);
  const strip = <T extends { doc: number }>(xs: T[]) => xs.map(({ doc: _d, ...rest }) => rest);
  put('sft-zh', strip(zpTrain.slice(0, 4000)));
  put('sft-en', strip(epTrain.slice(0, 3000)));
  const mathTrain = Array.from({ length: 3000 }, (_, i) => mathProblem(r, i));
  const r2 = rng((o.seed ?? 7) + 1000);
  const mathTest = Array.from({ length: 300 }, (_, i) => mathProblem(r2, i));
  const trainQs = new Set(mathTrain.map((m) => m.question));
  const mathHeld = mathTest.filter((m) => !trainQs.has(m.question));
  put('math-train', mathTrain);
  put('math-heldout', mathHeld.slice(100).map((m) => ({ text: `Question: ${m.question}\nAnswer: ${m.answer}` })));
  const n = o.benchItems ?? 100;
  const r3 = rng((o.seed ?? 7) + 2000);
  // questions and their wrong options come from held-out documents, and the wrong options from the
  // same document where it has enough: options from elsewhere differ in vocabulary (a poem's rare
  // characters, an address's topic) and a model tells them apart by that instead of by the text
  const sameDoc = <T extends { doc: number }>(all: T[], key: (x: T) => string) => (p: T) => [...new Set(all.filter((x) => x.doc === p.doc).map(key))];
  const zhAll = [...new Set(zpHeld.map((p) => p.second))], enAll = [...new Set(epHeld.map((p) => p.end))];
  if (zhAll.length < 8 || enAll.length < 8) throw new Error(`the held-out documents give ${zhAll.length} Chinese and ${enAll.length} English options; the benchmarks need at least 8 of each`);
  const zhSame = sameDoc(zpHeld, (x) => x.second), enSame = sameDoc(epHeld, (x) => x.end);
  const pool = (same: string[], all: string[], right: string) => {
    if (same.filter((x) => x !== right).length >= 3) return same;
    const near = [...new Set([...same, ...all.filter((x) => Math.abs(x.length - right.length) <= 2)])];
    return near.filter((x) => x !== right).length >= 3 ? near : all;
  };
  const poemSrc = zpHeld, clozeSrc = epHeld;
  const bench = {
    arith: mathHeld.slice(0, n),
    arithShots: mathTrain.slice(0, 3),
    poem: poemSrc.slice(0, n).map((p, i) => choiceItem(`poem/${i}`, 'poem', `上句：${p.first}\n下句：`, p.second, pool(zhSame(p), zhAll, p.second), r3)),
    cloze: clozeSrc.slice(0, n).map((p, i) => choiceItem(`cloze/${i}`, 'cloze', p.start, ` ${p.end}`, pool(enSame(p), enAll, p.end).map((x) => ` ${x}`), r3)),
  };
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(bench));
  return { dir, files, counts: { enTrain: E.train.length, enHeldout: E.heldout.length, zhTrain: Z.train.length, zhHeldout: Z.heldout.length, sftZh: Math.min(4000, zpTrain.length), sftEn: Math.min(3000, epTrain.length), mathTrain: mathTrain.length }, bench };
}
