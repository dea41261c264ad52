/** Ziya2's data attributes of each training stage's data: CH and RA by the (uncalibrated) estimator, SIM to each benchmark. */
import { readFileSync } from 'node:fs';
import { docFeatures, heuristicProblems, HashedTfidfEmbedder, similarity } from '../laws/attributes.js';
import type { MainData } from './data.js';

export interface StageAttributes {
  stage: string;
  documents: number;
  CH: number;
  RA: number;
  SIM: Record<string, number>;
}

const read = (f: string, n: number, render: (r: Record<string, string>) => string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).slice(0, n).map((l) => render(JSON.parse(l) as Record<string, string>));

export async function stageAttributes(data: MainData): Promise<StageAttributes[]> {
  const f = data.files;
  const stages: { stage: string; texts: string[] }[] = [
    { stage: 'base', texts: read(f['en-train']!, 200, (r) => r['text']!) },
    { stage: 'general', texts: [...read(f['zh-train']!, 120, (r) => r['text']!), ...read(f['en-train']!, 80, (r) => r['text']!)] },
    { stage: 'supervised', texts: [...read(f['sft-zh']!, 150, (r) => `问题：请写出下一句：${r['first']} 回答：${r['second']}`), ...read(f['sft-en']!, 100, (r) => `Question: Finish the sentence: ${r['start']} Answer: ${r['end']}`)] },
    { stage: 'math', texts: read(f['math-train']!, 200, (r) => `Question: ${r['question']}\nAnswer: ${r['answer']}`) },
  ];
  const bench: Record<string, string[]> = {
    arithmetic: data.bench.arith.map((d) => d.question),
    'poem-next-line': data.bench.poem.map((d) => d.context + d.choices[d.answer]),
    'sentence-end': data.bench.cloze.map((d) => d.context + d.choices[d.answer]),
  };
  const out: StageAttributes[] = [];
  for (const s of stages) {
    const problems = s.texts.map((t) => heuristicProblems(docFeatures(t, /[\u4e00-\u9fff]/.test(t) ? 'zh' : 'en')));
    const SIM: Record<string, number> = {};
    for (const [b, texts] of Object.entries(bench)) SIM[b] = await similarity(new HashedTfidfEmbedder(1 << 13), s.texts, texts, 'centroid');
    out.push({ stage: s.stage, documents: s.texts.length, CH: problems.filter((p) => !p.coherence).length / s.texts.length, RA: problems.filter((p) => !p.readability).length / s.texts.length, SIM });
  }
  return out;
}
