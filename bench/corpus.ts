/**
 * Real Chinese and English text from ../shared/data, as documents, for the
 * benchmarks (read in place, never copied into the repository). Each document
 * carries the language its source is known to be in.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const SHARED = resolve(process.env.ZIYA_SHARED_DATA ?? join(process.cwd(), '../shared/data'));

export interface BenchDoc {
  id: string;
  text: string;
  lang: 'zh' | 'en';
  source: string;
}

function read(rel: string): string | null {
  const p = join(SHARED, rel);
  if (!existsSync(p)) return null;
  const b = readFileSync(p);
  return (p.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8');
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  const paras = text.split(/\n/);
  let cur: string[] = [];
  let n = 0;
  for (const p of paras) {
    cur.push(p);
    n += p.length;
    if (n >= size) {
      out.push(cur.join('\n').trim());
      cur = [];
      n = 0;
    }
  }
  if (cur.length) out.push(cur.join('\n').trim());
  return out.filter(Boolean);
}

/** Parses a CSV line with quotes (RFC 4180 subset). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

export function sharedAvailable(): boolean {
  return existsSync(join(SHARED, 'uer-py-zh-corpora')) && existsSync(join(SHARED, 'wikitext2'));
}

export function* sharedDocs(): Generator<BenchDoc> {
  // ---- Chinese
  const clue = read('uer-py-zh-corpora/corpora/CLUECorpusSmall_sampled.txt');
  if (clue) { let i = 0; for (const l of clue.split('\n')) if (l.trim()) yield { id: `clue-${i++}`, text: l.trim(), lang: 'zh', source: 'CLUECorpusSmall' }; }
  const clueBert = read('uer-py-zh-corpora/corpora/CLUECorpusSmall_bert_sampled.txt');
  if (clueBert) { let i = 0; for (const d of clueBert.split(/\n\s*\n/)) if (d.trim()) yield { id: `cluebert-${i++}`, text: d.trim(), lang: 'zh', source: 'CLUECorpusSmall_bert' }; }
  const senti = read('uer-py-zh-corpora/corpora/chnsenticorp.txt');
  if (senti) { let i = 0; for (const l of senti.split('\n')) if (l.trim()) yield { id: `senti-${i++}`, text: l.trim(), lang: 'zh', source: 'chnsenticorp' }; }
  for (const f of ['usual/train.tsv', 'virus/train.tsv']) {
    const t = read(`uer-py-zh-corpora/datasets/smp2020-ewect/${f}`);
    if (!t) continue;
    // Weibo posts are short: 20 per document
    const posts = t.split('\n').slice(1).map((l) => l.split('\t')[1] ?? '').filter(Boolean);
    for (let i = 0; i < posts.length; i += 20) yield { id: `weibo-${f}-${i}`, text: posts.slice(i, i + 20).join('\n'), lang: 'zh', source: 'weibo' };
  }
  for (const [f, src] of [['cmrc2018-zhwiki/squad-style-data/cmrc2018_dev.json', 'cmrc2018'], ['cmrc2018-zhwiki/squad-style-data/cmrc2018_trial.json', 'cmrc2018'], ['drcd-zhwiki-trad/DRCD_dev.json', 'drcd'], ['drcd-zhwiki-trad/DRCD_test.json', 'drcd']] as const) {
    const t = read(f);
    if (!t) continue;
    const d = JSON.parse(t) as { data: { title: string; paragraphs: { context: string }[] }[] };
    for (const [i, a] of d.data.entries()) yield { id: `${src}-${f.includes('trial') || f.includes('test') ? 't' : 'd'}-${i}`, text: `${a.title}\n${a.paragraphs.map((p) => p.context).join('\n')}`, lang: 'zh', source: src };
  }
  for (const f of ['dev.json', 'test.json']) {
    const t = read(`uer-py-zh-corpora/datasets/c3/${f}`);
    if (!t) continue;
    const d = JSON.parse(t) as [string[], unknown, string][];
    for (const [i, x] of d.entries()) yield { id: `c3-${f}-${i}`, text: x[0].join('\n'), lang: 'zh', source: 'c3' };
  }
  const htl = read('chinese-nlp-corpus/datasets/ChnSentiCorp_htl_all/ChnSentiCorp_htl_all.csv');
  if (htl) { const rows = htl.split('\n').slice(1).map((l) => csvFields(l)[1] ?? '').filter(Boolean); for (let i = 0; i < rows.length; i += 5) yield { id: `htl-${i}`, text: rows.slice(i, i + 5).join('\n'), lang: 'zh', source: 'ChnSentiCorp_htl' }; }
  const poetryDir = join(SHARED, 'chinese-poetry');
  if (existsSync(poetryDir)) {
    for (const ent of readdirSync(poetryDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!ent.isDirectory()) continue;
      const sub = ent.name;
      const dir = join(poetryDir, sub);
      let files: string[] = [];
      try { files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch { continue; }
      for (const f of files) {
        let d: unknown;
        try { d = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { continue; }
        if (!Array.isArray(d)) continue;
        const items = (d as { paragraphs?: string[]; content?: string[]; title?: string; author?: string }[]).filter((x) => x && (Array.isArray(x.paragraphs) || Array.isArray(x.content)));
        for (let i = 0; i < items.length; i += 10) {
          const text = items.slice(i, i + 10).map((x) => `${x.title ?? ''}${x.author ? `（${x.author}）` : ''}：${(x.paragraphs ?? x.content ?? []).join('')}`).join('\n');
          yield { id: `poetry-${sub}-${f}-${i}`, text, lang: 'zh', source: 'chinese-poetry' };
        }
      }
    }
  }
  // ---- English
  for (const f of ['test.txt', 'valid.txt']) {
    const t = read(`wikitext2/word_language_model/data/wikitext-2/${f}`);
    if (!t) continue;
    const arts = t.split(/\n (?== [^=])/);
    for (const [i, a] of arts.entries()) if (a.trim().length > 200) yield { id: `wikitext-${f}-${i}`, text: a.replace(/ @(.)@ /g, '$1').replace(/ ([,.;:!?')])/g, '$1').trim(), lang: 'en', source: 'wikitext2' };
  }
  const shake = read('tinyshakespeare/input.txt');
  if (shake) for (const [i, c] of chunks(shake, 3000).entries()) yield { id: `shakespeare-${i}`, text: c, lang: 'en', source: 'tinyshakespeare' };
  for (const f of ['cc_en_head-0091.jsonl', 'cc_en_head-0174.jsonl']) {
    const t = read(`dolma-testdata/tests/data/multiple_files/${f}`);
    if (!t) continue;
    for (const [i, l] of t.split('\n').entries()) if (l.trim()) { const o = JSON.parse(l) as { text: string }; yield { id: `cc-${f}-${i}`, text: o.text, lang: 'en', source: 'common-crawl' }; }
  }
  const nc = read('uer-py-zh-corpora/corpora/news-commentary-v13-en-zh_sampled.txt');
  if (nc) {
    const en = nc.split('\n').map((l) => l.split('\t')[0] ?? '').filter(Boolean);
    for (let i = 0; i < en.length; i += 15) yield { id: `newscomm-${i}`, text: en.slice(i, i + 15).join(' '), lang: 'en', source: 'news-commentary' };
  }
  for (const f of ['train.jsonl', 'test.jsonl']) {
    const t = read(`gsm8k/grade_school_math/data/${f}`);
    if (!t) continue;
    const rows = t.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { question: string; answer: string });
    for (let i = 0; i < rows.length; i += 4) yield { id: `gsm8k-${f}-${i}`, text: rows.slice(i, i + 4).map((r) => `${r.question}\n${r.answer.replace(/<<[^>]*>>/g, '')}`).join('\n\n'), lang: 'en', source: 'gsm8k' };
  }
}
