/** The main job: the embedded default end to end. Stages land here as their issues do. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceTexts, writeDemoInput } from '../demo/corpus.js';
import { trainKneserNey } from '../lm/kneser-ney.js';
import { writeArpa } from '../lm/arpa.js';
import { HashedModel } from '../lm/hashed.js';
import { writeFileAtomic } from '../io/writers.js';
import { runFactory } from '../factory/executor.js';
import { loadRecipe, parseRecipe } from '../factory/recipe.js';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** Trains (once) the trigram reference models of the embedded default: words for English, characters for Chinese. */
function trainReferenceModels(dir: string, log: (m: string) => void): Record<string, string> {
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

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function runMainJob(o: { recipe?: string; out: string; force?: boolean }): Promise<void> {
  const log = (m: string) => process.stderr.write(m + '\n');
  let recipe: ReturnType<typeof loadRecipe> | undefined;
  if (o.recipe) recipe = loadRecipe(o.recipe);
  else {
    const file = join(pkgRoot, 'recipes', 'default.yaml');
    const raw = parseYaml(readFileSync(file, 'utf8')) as { input: { paths: string[] }; output: { dir: string } };
    raw.input.paths = [join(o.out, 'input')];
    raw.output.dir = join(o.out, 'factory');
    log(`[1/3] embedded default input → ${join(o.out, 'input')}`);
    const demo = await writeDemoInput(resolve(o.out, 'input'));
    log(`      ${demo.documents} documents, ${(demo.bytes / 1e6).toFixed(1)} MB (SOTU addresses, Chinese classics, web pages, noise, broken records)`);
    log(`[2/3] reference n-gram models → ${join(o.out, 'lm')}`);
    const models = trainReferenceModels(resolve(o.out, 'lm'), log);
    for (const st of (raw as unknown as { steps: { type: string; models?: Record<string, string> }[] }).steps) if (st.type === 'ppl_buckets') st.models = models;
    recipe = parseRecipe(raw, file, process.cwd());
    log('[3/3] data factory');
  }
  const r = await runFactory(recipe!, { force: o.force });
  const s = r.stats;
  const q = Object.values(s.quarantined).reduce((a, b) => a + b, 0);
  process.stdout.write(`factory: read ${s.read} records → kept ${s.kept}, dropped ${s.read - s.kept - q}, quarantined ${q}\n`);
  process.stdout.write(`report: ${r.reportFile}\n`);
}
