/**
 * Builds a step from its (already validated) config. Kept apart from registry.ts, which holds
 * the config schemas: a worker thread builds steps but validates nothing, so it does not load
 * the schema library, nor the HTML parser and the n-gram scorer's tokenizer unless its recipe
 * has those steps (loadStepModules). Importing registry.ts registers every step type at once.
 */
import type { Step } from '../core/step.js';
import type { StepConfig } from './registry.js';
import { ExactDedup } from './dedup/exact.js';
import { BloomDedup } from './dedup/bloom.js';
import { MinHashDedup } from './dedup/minhash.js';
import { SimHashDedup } from './dedup/simhash.js';
import { Encoding } from './preprocess/encoding.js';
import { Normalize } from './preprocess/normalize.js';
import { TraditionalToSimplified } from './preprocess/t2s.js';
import { LanguageId } from './preprocess/langid.js';
import { DocumentFilter, ParagraphFilter, SentenceFilter } from './filter/steps.js';
import { PiiMask } from './filter/pii.js';

type Lazy = 'html_extract' | 'ppl_buckets';
type ConfigOf<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;
const lazy: { html_extract?: (name: string, cfg: ConfigOf<'html_extract'>) => Step; ppl_buckets?: (name: string, cfg: ConfigOf<'ppl_buckets'>) => Step } = {};

/** Makes a lazily loaded step type buildable (registry.ts does it for both at import). */
export function registerStepBuilder<T extends Lazy>(type: T, make: NonNullable<(typeof lazy)[T]>): void {
  lazy[type] = make as never;
}

/** Loads the modules of the lazily loaded step types among cfgs (buildStep needs them loaded). */
export async function loadStepModules(cfgs: readonly { type: string }[]): Promise<void> {
  for (const c of cfgs) {
    if (c.type === 'html_extract' && !lazy.html_extract) {
      const { HtmlExtract } = await import('./preprocess/html.js');
      registerStepBuilder('html_extract', (name, cfg) => new HtmlExtract(name, cfg));
    } else if (c.type === 'ppl_buckets' && !lazy.ppl_buckets) {
      const { PerplexityBuckets } = await import('./score/buckets.js');
      registerStepBuilder('ppl_buckets', (name, cfg) => new PerplexityBuckets(name, cfg));
    }
  }
}

function loaded<T extends Lazy>(type: T): NonNullable<(typeof lazy)[T]> {
  const make = lazy[type];
  if (!make) throw new Error(`step type ${type}: its module is not loaded (await loadStepModules(steps) before building, or import factory/registry.js)`);
  return make as NonNullable<(typeof lazy)[T]>;
}

export function buildStep(cfg: StepConfig): Step {
  const name = cfg.name ?? cfg.type;
  switch (cfg.type) {
    case 'html_extract': return loaded('html_extract')(name, cfg);
    case 'encoding': return new Encoding(name, cfg);
    case 'normalize': return new Normalize(name, cfg);
    case 't2s': return new TraditionalToSimplified(name, cfg);
    case 'langid': return new LanguageId(name, cfg);
    case 'doc_filter': return new DocumentFilter(name, cfg as never);
    case 'para_filter': return new ParagraphFilter(name, cfg as never);
    case 'sentence_filter': return new SentenceFilter(name, cfg as never);
    case 'pii': return new PiiMask(name, cfg);
    case 'exact_dedup': return new ExactDedup(name, cfg);
    case 'ppl_buckets': return loaded('ppl_buckets')(name, cfg);
    case 'bloom_dedup': return new BloomDedup(name, { ...cfg, load: cfg.load, save: cfg.save });
    case 'minhash_dedup': return new MinHashDedup(name, cfg);
    case 'simhash_dedup': return new SimHashDedup(name, cfg);
  }
}
