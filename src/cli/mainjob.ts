/** The main job: the embedded default end to end. Stages land here as their issues do. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDemoInput } from '../demo/corpus.js';
import { runFactory } from '../factory/executor.js';
import { loadRecipe, parseRecipe } from '../factory/recipe.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function runMainJob(o: { recipe?: string; out: string; force?: boolean }): Promise<void> {
  const log = (m: string) => process.stderr.write(m + '\n');
  let recipe;
  if (o.recipe) recipe = loadRecipe(o.recipe);
  else {
    const file = join(pkgRoot, 'recipes', 'default.yaml');
    const raw = parseYaml(readFileSync(file, 'utf8')) as { input: { paths: string[] }; output: { dir: string } };
    raw.input.paths = [join(o.out, 'input')];
    raw.output.dir = join(o.out, 'factory');
    recipe = parseRecipe(raw, file, process.cwd());
    log(`[1/2] embedded default input → ${join(o.out, 'input')}`);
    const demo = await writeDemoInput(resolve(o.out, 'input'));
    log(`      ${demo.documents} documents, ${(demo.bytes / 1e6).toFixed(1)} MB (SOTU addresses, Chinese classics, web pages, noise, broken records)`);
    log('[2/2] data factory');
  }
  const r = await runFactory(recipe, { force: o.force });
  const s = r.stats;
  const q = Object.values(s.quarantined).reduce((a, b) => a + b, 0);
  process.stdout.write(`factory: read ${s.read} records → kept ${s.kept}, dropped ${s.read - s.kept - q}, quarantined ${q}\n`);
  process.stdout.write(`report: ${r.reportFile}\n`);
}
