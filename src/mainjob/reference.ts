/** The reference n-gram models of the embedded default's scoring stage (trigrams: words for English, characters for Chinese). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { referenceTexts } from '../demo/corpus.js';
import { trainKneserNey } from '../lm/kneser-ney.js';
import { writeArpa } from '../lm/arpa.js';
import { HashedModel } from '../lm/hashed.js';
import { writeFileAtomic } from '../io/writers.js';

export function trainReferenceModels(dir: string, log: (m: string) => void): Record<string, string> {
  // the factory loads the binary form (milliseconds per worker); the ARPA files are kept beside it
  const out = { en: join(dir, 'en.bin'), zh: join(dir, 'zh.bin') };
  if (existsSync(out.en) && existsSync(out.zh)) return out;
  const ref = referenceTexts();
  const t0 = Date.now();
  for (const [lang, lines, units] of [['en', ref.en, 'words'], ['zh', ref.zh.map((l) => [...l.replace(/\s+/g, '')].join(' ')), 'chars']] as const) {
    const m = trainKneserNey(lines, { order: 3 });
    const path = out[lang];
    const side = JSON.stringify({ units, order: 3, sentences: lines.length, counts: m.counts });
    writeFileAtomic(join(dir, `${lang}.arpa`), writeArpa(m));
    writeFileAtomic(join(dir, `${lang}.arpa.json`), side);
    writeFileAtomic(`${path}.json`, side);
    HashedModel.fromArpa(m).save(path);
    log(`      ${lang}: order 3, ${units}, n-grams ${m.counts.join('/')} from ${lines.length} lines`);
  }
  log(`      trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}
