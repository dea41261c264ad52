import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecipe, parseRecipe, RecipeError, parseSize } from '../src/factory/recipe.js';
import { tmp } from './helpers.js';

const base = { input: { paths: ['in'] }, output: { dir: 'out' }, steps: [{ type: 'normalize' }] };

test('a valid YAML recipe loads with defaults filled in', () => {
  const d = tmp();
  const f = join(d, 'r.yaml');
  writeFileSync(f, 'name: t\ninput:\n  paths: [data]\n  shardBytes: 8MB\noutput:\n  dir: out\nsteps:\n  - type: langid\n    keep: [zh]\n  - type: doc_filter\n    rules:\n      doc.min_words: {min: 10}\n');
  const r = loadRecipe(f);
  assert.equal(r.input.shardBytes, 8 * 1024 * 1024);
  assert.equal(r.output.format, 'jsonl.gz');
  assert.deepEqual(r.steps[0], { type: 'langid', keep: ['zh'], minScore: 0.3 });
});

test('errors name the path of the wrong key or value', () => {
  const bad = (raw: unknown) => {
    try {
      parseRecipe(raw, 'r.yaml', '.');
    } catch (e) {
      assert.ok(e instanceof RecipeError);
      return (e as Error).message;
    }
    assert.fail('no error');
  };
  assert.match(bad({ ...base, extra: 1 }), /r\.yaml: \(root\): unknown key "extra"/);
  assert.match(bad({ ...base, input: { paths: ['in'], shardbytes: 3 } }), /input: unknown key "shardbytes"/);
  assert.match(bad({ ...base, output: { dir: 'o', format: 'csv' } }), /output\.format: /);
  assert.match(bad({ ...base, steps: [{ type: 'normalize' }, { type: 'langid', keep: 'zh' }] }), /steps\[1\]\.keep: /);
  assert.match(bad({ ...base, steps: [{ type: 'nonsense' }] }), /steps\[0\]/);
  assert.match(bad({ ...base, steps: [{ type: 'doc_filter', rules: { 'doc.min_words': { min: 'ten' } } }] }), /steps\[0\]\.rules\.doc\.min_words\.min: /);
  assert.match(bad({ ...base, steps: [{ type: 'doc_filter', rules: { 'doc.typo': {} } }] }), /steps\[0\]: .*unknown rule "doc\.typo"/);
  assert.match(bad({ ...base, steps: [{ type: 'normalize' }, { type: 'normalize' }] }), /steps\[1\]\.name: duplicate step name/);
});

test('sizes accept bytes and units', () => {
  assert.equal(parseSize('64MB'), 64 * 1024 * 1024);
  assert.equal(parseSize('1.5K'), 1536);
  assert.equal(parseSize(1000), 1000);
});
