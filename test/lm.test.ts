/**
 * KenLM query semantics on KenLM's own test models. Every expected value below is worked
 * out by hand from the ARPA entries quoted next to it, not produced by the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArpa, perplexity, scoreSentence, writeArpa } from '../src/lm/arpa.js';
import { SHARED } from './helpers.js';

const ARPA = join(SHARED, 'kenlm-arpa/lm/test.arpa');
const NOUNK = join(SHARED, 'kenlm-arpa/lm/test_nounk.arpa');
const skip = !existsSync(ARPA) && `${ARPA} absent`;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);

test('n-grams of every order along one sentence (<s> as context only, </s> at the end)', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  assert.equal(m.order, 5);
  assert.deepEqual(m.counts, [37, 47, 11, 6, 4]);
  const s = scoreSentence(m, 'looking on a little more loin');
  const want = [
    -0.4846522, // "<s> looking" (2-gram)
    -0.3488368, // "<s> looking on" (3-gram)
    -0.01552657, // "<s> looking on a" (4-gram)
    -0.003061223, // "<s> looking on a little" (5-gram)
    -0.001813953, // "looking on a little more" (5-gram)
    -0.0432557, // "on a little more loin" (5-gram)
    -0.6708385, // "loin </s>" (2-gram): no 3-gram "more loin </s>"; "more loin" and longer contexts carry no backoff
  ];
  s.perWord.forEach((w, i) => close(w.log10, want[i]!, w.word));
  assert.deepEqual(s.perWord.map((w) => w.ngram), [2, 3, 4, 5, 5, 5, 2]);
  close(s.total, want.reduce((a, b) => a + b, 0), 'total');
  assert.equal(s.oov, 0);
  close(perplexity(s), Math.pow(10, -s.total / 7), 'perplexity');
});

test('backing off from a missing n-gram adds the backoff of every longer context that exists', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  // "i would look": i|<s> = uni(i) -1.687872 + b(<s>) -0.4149733; would|<s> i = "i would" -0.2922095;
  // look|i would: no "i would look", no "would look": uni(look) -1.687872 + b(would) -0.30103 + b("i would") 0
  // </s>|i would look: uni(</s>) -1.029493 + b(look) -0.30103
  const s = scoreSentence(m, 'i would look');
  close(s.perWord[0]!.log10, -1.687872 - 0.4149733, 'i');
  close(s.perWord[1]!.log10, -0.2922095, 'would');
  close(s.perWord[2]!.log10, -1.687872 - 0.30103, 'look');
  close(s.perWord[3]!.log10, -1.029493 - 0.30103, '</s>');
  // "a little more": little|<s> a = "a little" -0.09132547 (backoff of "<s> a" absent); more|<s> a little = "a little more" -0.01660496
  const t = scoreSentence(m, 'a little more');
  close(t.perWord[0]!.log10, -1.285941 - 0.4149733, 'a');
  close(t.perWord[1]!.log10, -0.09132547, 'little');
  close(t.perWord[2]!.log10, -0.01660496, 'more');
  // </s>|a little more: no 4-gram; "little more </s>"? no; "more </s>"? no -> uni(</s>) -1.029493 + b(more) -0.544068
  // + b("little more") -0.1998621 + b("a little more") -0.09409451
  close(t.perWord[3]!.log10, -1.029493 - 0.544068 - 0.1998621 - 0.09409451, '</s>');
});

test('unknown words score as <unk>, are counted, and <unk> stays in the context as in KenLM', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  // zzz|<s> = uni(<unk>) -1.995635 + b(<s>) -0.4149733; however|<s> <unk> = "<unk> however" -4;
  // <unk>|<unk> however = "<unk> however <unk>" -6; </s>: uni -1.029493 + b(<unk>) -20 + b("however <unk>") 0 + b("<unk> however <unk>") -12
  const s = scoreSentence(m, 'zzz however <unk>');
  assert.equal(s.oov, 2);
  close(s.perWord[0]!.log10, -1.995635 - 0.4149733, 'zzz');
  close(s.perWord[1]!.log10, -4, 'however');
  close(s.perWord[2]!.log10, -6, '<unk>');
  close(s.perWord[3]!.log10, -1.029493 - 20 - 12, '</s>');
  close(perplexity(s), Math.pow(10, -s.total / 4), 'perplexity');
});

test('pruned models: higher orders whose lower-order suffixes are missing are still found (KenLM blanks)', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  // "also would consider higher": "also would" -2, "also would consider" -3, "also would consider higher" -4,
  // though "would consider", "consider higher" and "would consider higher" are absent
  const s = scoreSentence(m, 'also would consider higher');
  assert.deepEqual(s.perWord.slice(1, 4).map((w) => w.log10), [-2, -3, -4]);
  // </s>: uni -1.029493 + b(higher) -0.30103 + b("also would consider higher") -8 (the absent contexts add nothing)
  close(s.perWord[4]!.log10, -1.029493 - 0.30103 - 8, '</s>');
});

test('a model without <unk> scores unknown words at log10 -100, as KenLM substitutes', { skip: !existsSync(NOUNK) && 'absent' }, () => {
  const m = parseArpa(readFileSync(NOUNK, 'utf8'), NOUNK);
  assert.ok(m.unkMissing);
  const s = scoreSentence(m, 'qqq');
  close(s.perWord[0]!.log10, -100 - 0.4149733, 'qqq');
});

test('empty lines score </s> only; never NaN', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  const s = scoreSentence(m, '   ');
  assert.equal(s.words, 0);
  close(s.total, -1.029493 - 0.4149733, 'empty'); // uni(</s>) + b(<s>)
  assert.ok(Number.isFinite(perplexity(s)));
});

test('ARPA written back parses to the same model', { skip }, () => {
  const m = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  const back = parseArpa(writeArpa(m), 'rewritten');
  assert.deepEqual(back.counts, m.counts);
  for (let n = 0; n < m.order; n++) assert.deepEqual([...back.grams[n]!], [...m.grams[n]!]);
});

test('bad ARPA files get an error naming the line', () => {
  const good = '\\data\\\nngram 1=2\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-1\ta\n\n\\2-grams:\n-0.5\t<s> a\n\n\\end\\\n';
  assert.doesNotThrow(() => parseArpa(good));
  assert.throws(() => parseArpa(good.replace('ngram 1=2', 'ngram 1=3')), /model\.arpa:8: \\data\\ declares 3 1-grams but the section has 2/);
  assert.throws(() => parseArpa(good.replace('\\2-grams:', '\\3-grams:')), /model\.arpa:9: expected "\\2-grams:" section/);
  assert.throws(() => parseArpa(good.replace('-1\ta', 'x1\ta')), /model\.arpa:7: probability "x1" is not a number/);
  assert.throws(() => parseArpa(good.replace('<s> a', 'b a')), /model\.arpa:10: the context "b" of this 2-gram is not in the 1-grams/);
  assert.throws(() => parseArpa(good.replace('\\end\\', '')), /expected "\\end\\"/);
  assert.throws(() => parseArpa('hello'), /model\.arpa:1: expected "\\data\\"/);
});

test('the streaming ARPA reader (large models) makes the same tables as parsing, and the same errors with their lines', async () => {
  const { HashedModel } = await import('../src/lm/hashed.js');
  const { trainKneserNey } = await import('../src/lm/kneser-ney.js');
  const { tmp } = await import('./helpers.js');
  const { writeFileSync } = await import('node:fs');
  const dir = tmp();
  const files = [ARPA, NOUNK].filter((f) => existsSync(f));
  const trained = join(dir, 'trained.arpa');
  writeFileSync(trained, writeArpa(trainKneserNey(await demoLines(0, 800), { order: 4 })));
  files.push(trained);
  for (const f of files) {
    const a = Buffer.from(HashedModel.fromArpa(parseArpa(readFileSync(f, 'utf8'), f)).serialize());
    const b = Buffer.from(HashedModel.fromArpaFile(f).serialize());
    assert.ok(a.equals(b), f);
  }
  const good = '\\data\\\nngram 1=2\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-1\ta\n\n\\2-grams:\n-0.5\t<s> a\n\n\\end\\\n';
  const bad: [string, RegExp][] = [
    [good.replace('ngram 1=2', 'ngram 1=3'), /m\.arpa:8: \\data\\ declares 3 1-grams but the section has 2/],
    [good.replace('\\2-grams:', '\\3-grams:'), /m\.arpa:9: expected "\\2-grams:" section/],
    [good.replace('-1\ta', 'x1\ta'), /m\.arpa:7: probability "x1" is not a number/],
    [good.replace('<s> a', 'b a'), /m\.arpa:10: the context "b" of this 2-gram is not in the 1-grams/],
    [good.replace('\\end\\', ''), /expected "\\end\\"/],
    ['hello', /m\.arpa:1: expected "\\data\\"/],
  ];
  writeFileSync(join(dir, 'm.arpa'), good);
  assert.doesNotThrow(() => HashedModel.fromArpaFile(join(dir, 'm.arpa')));
  for (const [text, re] of bad) {
    writeFileSync(join(dir, 'm.arpa'), text);
    assert.throws(() => HashedModel.fromArpaFile(join(dir, 'm.arpa')), re);
  }
});

test('ziya lm score prints line, log10 probability, unknown words and perplexity', { skip }, () => {
  const r = spawnSync(process.execPath, ['bin/ziya.js', 'lm', 'score', '--model', ARPA], { input: 'looking on a little more loin\nzzz however <unk>\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(rows.length, 2);
  assert.equal(rows[0]![0], '1');
  close(Number(rows[0]![1]), -0.4846522 - 0.3488368 - 0.01552657 - 0.003061223 - 0.001813953 - 0.0432557 - 0.6708385, 'line 1');
  assert.equal(rows[1]![2], '2');
});

test('Kneser-Ney discounts follow the counts-of-counts formula', async () => {
  const { discounts } = await import('../src/lm/kneser-ney.js');
  // t1=10, t2=4, t3=2, t4=1: Y = 10 / (10 + 8) = 0.5556
  const d = discounts([10, 4, 2, 1], 1);
  const y = 10 / 18;
  close(d.d1, 1 - (2 * y * 4) / 10, 'D1');
  close(d.d2, 2 - (3 * y * 2) / 4, 'D2');
  close(d.d3, 3 - (4 * y * 1) / 2, 'D3+');
  assert.throws(() => discounts([5, 0, 1, 1], 2), /too small to estimate discounts/);
});

test('a trained Kneser-Ney model is a proper distribution in every context and scores held-out text sensibly', { skip: !existsSync(join(SHARED, 'wikitext2')) && 'wikitext2 absent' }, async () => {
  const { trainKneserNey } = await import('../src/lm/kneser-ney.js');
  const { wordScore } = await import('../src/lm/arpa.js');
  const lines = readFileSync(join(SHARED, 'wikitext2/word_language_model/data/wikitext-2/valid.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 20).slice(0, 1500);
  const m = trainKneserNey(lines, { order: 3 });
  const back = parseArpa(writeArpa(m), 'trained');
  const vocab = [...back.grams[0]!.keys()].filter((w) => w !== '<s>');
  for (const ctx of [[], ['the'], ['of', 'the'], ['<s>'], ['<s>', 'The'], ['zzz', 'qqq']]) {
    let s = 0;
    for (const w of vocab) s += Math.pow(10, wordScore(back, ctx, w).log10);
    close(s, 1, `sum over the vocabulary after "${ctx.join(' ')}"`);
  }
  // <s> is context only; the highest order carries no backoff
  assert.equal(back.grams[0]!.get('<s>')![0], -99);
  for (const [, [, b]] of back.grams[2]!) assert.equal(b, 0);
  const test = readFileSync(join(SHARED, 'wikitext2/word_language_model/data/wikitext-2/test.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 20).slice(0, 200);
  let tot = 0;
  let n = 0;
  for (const l of test) {
    const r = scoreSentence(back, l);
    tot += r.total;
    n += r.words + 1;
  }
  const ppl = Math.pow(10, -tot / n);
  assert.ok(ppl > 50 && ppl < 2000, `held-out perplexity ${ppl}`);
});

test('ppl_buckets: per-language percentiles of this run; low dropped; perplexity and bucket in meta', { skip: !existsSync(join(SHARED, 'wikitext2')) && 'wikitext2 absent' }, async () => {
  const { trainKneserNey } = await import('../src/lm/kneser-ney.js');
  const { parseRecipe } = await import('../src/factory/recipe.js');
  const { runFactory } = await import('../src/factory/executor.js');
  const { tmp } = await import('./helpers.js');
  const { writeFileSync, readdirSync } = await import('node:fs');
  const dir = tmp();
  const lines = readFileSync(join(SHARED, 'wikitext2/word_language_model/data/wikitext-2/valid.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 40);
  writeFileSync(join(dir, 'en.arpa'), writeArpa(trainKneserNey(lines.slice(0, 1500), { order: 3 })));
  // 100 documents: 80 Wikipedia-like, 20 shuffled word salad (high perplexity)
  const docs = lines.slice(1500, 1580).map((t, i) => ({ id: `w${i}`, text: t, meta: { language: 'en' } }));
  for (let i = 0; i < 20; i++) docs.push({ id: `s${i}`, text: lines[1600 + i]!.split(' ').reverse().join(' '), meta: { language: 'en' } });
  writeFileSync(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const recipe = parseRecipe({ input: { paths: [join(dir, 'in.jsonl')], shardBytes: 4000 }, output: { dir: join(dir, 'out'), format: 'jsonl' }, steps: [{ type: 'ppl_buckets', models: { en: join(dir, 'en.arpa') } }] }, 't', '/');
  const r = await runFactory(recipe, { workers: 2, quiet: true });
  assert.ok(r.plan.shards.length > 2);
  assert.ok(r.stats.kept >= 55 && r.stats.kept <= 65, `kept ${r.stats.kept} of 100 (60% expected)`);
  const kept = readdirSync(join(dir, 'out', 'data')).flatMap((f) => readFileSync(join(dir, 'out', 'data', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; meta: { bucket: string; perplexity: number } }));
  assert.ok(kept.every((d) => (d.meta.bucket === 'high' || d.meta.bucket === 'medium') && d.meta.perplexity > 0));
  assert.ok(kept.filter((d) => d.id.startsWith('s')).length <= 2, 'reversed text lands in the low bucket');
  const highs = kept.filter((d) => d.meta.bucket === 'high').length;
  assert.ok(highs >= 25 && highs <= 35, `high ${highs}`);
});

test('the hashed (binary) model scores exactly as the ARPA reference, round-trips through its file, and detects damage', { skip }, async () => {
  const { HashedModel } = await import('../src/lm/hashed.js');
  const { tmp } = await import('./helpers.js');
  const { writeFileSync } = await import('node:fs');
  const a = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  const h = HashedModel.fromArpa(a);
  const dir = tmp();
  h.save(join(dir, 'm.bin'));
  const back = HashedModel.load(join(dir, 'm.bin'));
  const vocab = [...a.grams[0]!.keys()].filter((w) => w !== '<s>');
  // every sentence made of vocabulary words and unknowns, short and long
  const sentences = ['looking on a little more loin', 'i would look', 'zzz however <unk>', 'also would consider higher', '', 'foo bar baz', '<unk> <unk> <unk> however'];
  let r = 7;
  for (let i = 0; i < 200; i++) {
    const n = 1 + (i % 9);
    const words: string[] = [];
    for (let k = 0; k < n; k++) words.push((r = (r * 1103515245 + 12345) % 2147483648) % 10 === 0 ? 'qqq' : vocab[r % vocab.length]!);
    sentences.push(words.join(' '));
  }
  for (const s of sentences) {
    close(h.scoreSentence(s).total, scoreSentence(a, s).total, s);
    close(back.scoreSentence(s).total, scoreSentence(a, s).total, `binary: ${s}`);
    assert.equal(back.scoreSentence(s).oov, scoreSentence(a, s).oov);
  }
  const bytes = readFileSync(join(dir, 'm.bin'));
  writeFileSync(join(dir, 'cut.bin'), bytes.subarray(0, bytes.length - 100));
  assert.throws(() => HashedModel.load(join(dir, 'cut.bin')), /cut\.bin: checksum mismatch: truncated or corrupted binary model \(at byte offset \d+\)/);
});

test('native n-gram scoring kernel equals the TypeScript reference', { skip }, async (t) => {
  const { native } = await import('../src/native/index.js');
  if (!native) {
    t.skip('native addon not built');
    return;
  }
  const { HashedModel } = await import('../src/lm/hashed.js');
  const a = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  const h = HashedModel.fromArpa(a);
  const vocab = [...a.grams[0]!.keys()];
  let r = 11;
  for (let i = 0; i < 300; i++) {
    const words: string[] = [];
    for (let k = 0; k < i % 12; k++) words.push((r = (r * 1103515245 + 12345) % 2147483648) % 9 === 0 ? 'qqq' : vocab[r % vocab.length]!);
    const x = h.scoreUnits(words);
    const y = h.scoreUnitsReference(words);
    assert.ok(Math.abs(x.total - y.total) < 1e-9, words.join(' '));
    assert.equal(x.oov, y.oov);
    // the same words joined with assorted whitespace, scanned by scoreWords
    const spaced = words.map((w, k) => w + [' ', '\t', '  ', '\u00a0', '\u3000'][k % 5]).join('');
    const z = h.scoreWords(` ${spaced} `);
    assert.ok(Math.abs(z.total - y.total) < 1e-9 && z.words === words.length && z.oov === y.oov, JSON.stringify(spaced));
  }
  // a whole document scored line by line in one call equals the sum over its lines
  const doc = ['also would consider higher', '', '  \t ', 'zzz however <unk>', 'looking on a little more loin', '\u2028 also \ud83d\ude00 would'].join('\n');
  let total = 0, tokens = 0;
  for (const line of doc.split('\n')) {
    const y = h.scoreUnitsReference(line.split(/\s+/).filter(Boolean));
    if (!y.words) continue;
    total += y.total;
    tokens += y.words + 1;
  }
  const d = h.scoreDocumentWords(doc);
  assert.ok(Math.abs(d.total - total) < 1e-9 && d.tokens === tokens, `${d.total} ${total} ${d.tokens} ${tokens}`);
  // the hand-worked sentences of the tests above, through the kernel (pruned contexts, <unk> in context)
  for (const line of ['also would consider higher', 'zzz however <unk>', '', 'looking on a little more loin </s>']) {
    const ref = scoreSentence(a, line);
    assert.ok(Math.abs(h.scoreWords(line).total - ref.total) < 1e-4, line);
  }
});

test('scoring by characters equals scoring the characters as units', async () => {
  const { HashedModel } = await import('../src/lm/hashed.js');
  const arpa = ['\\data\\', 'ngram 1=8', 'ngram 2=3', '', '\\1-grams:', '-99\t<s>\t-0.3', '-1\t</s>', '-2\t<unk>', '-0.8\t天\t-0.2', '-0.9\t地\t-0.1', '-1.1\t玄', '-1.2\t黄', '-1.5\t𠀀',
    '', '\\2-grams:', '-0.2\t<s> 天', '-0.1\t天 地', '-0.3\t地 </s>', '', '\\end\\', ''].join('\n');
  const m = HashedModel.fromArpa(parseArpa(arpa, 'chars.arpa'));
  for (const s of ['天地玄黄', '天 地　玄', '未知𠀀和天地', '']) {
    const x = m.scoreChars(s);
    const y = m.scoreUnitsReference([...s.replace(/[\s\u3000]+/g, '')]);
    assert.ok(Math.abs(x.total - y.total) < 1e-9, s);
    assert.equal(x.oov, y.oov);
  }
  // by hand: 天|<s> = -0.2; 地|<s> 天 = "天 地" -0.1; </s>|天 地 = "地 </s>" -0.3
  assert.ok(Math.abs(m.scoreChars('天地').total - (-0.2 - 0.1 - 0.3)) < 1e-6);
});

test('models are loaded once into shared memory and used by worker threads without a copy', { skip }, async () => {
  const { HashedModel } = await import('../src/lm/hashed.js');
  const { shareModels, registerSharedModels, loadModelFile } = await import('../src/lm/load.js');
  const { tmp } = await import('./helpers.js');
  const dir = tmp();
  const a = parseArpa(readFileSync(ARPA, 'utf8'), ARPA);
  HashedModel.fromArpa(a).save(join(dir, 'm.bin'));
  const sharedBin = shareModels([join(dir, 'm.bin'), ARPA]);
  assert.ok(sharedBin[join(dir, 'm.bin')]!.buf instanceof SharedArrayBuffer);
  registerSharedModels(sharedBin);
  for (const p of [join(dir, 'm.bin'), ARPA]) {
    const m = loadModelFile(p);
    assert.equal(m.keys[0]!.buffer, sharedBin[p]!.buf, 'the tables are views of the shared buffer');
    for (const s of ['looking on a little more loin', 'zzz however <unk>', 'also would consider higher']) close(m.scoreSentence(s).total, scoreSentence(a, s).total, s);
  }
  // a worker thread given the buffer sees the same tables
  const { Worker } = await import('node:worker_threads');
  const url = new URL('../src/lm/load.js', import.meta.url).href;
  const w = new Worker(`const { workerData, parentPort } = require('node:worker_threads'); import(${JSON.stringify(url)}).then((m) => { m.registerSharedModels(workerData); const h = m.loadModelFile(${JSON.stringify(ARPA)}); parentPort.postMessage([h.keys[0].buffer instanceof SharedArrayBuffer, h.scoreSentence('looking on a little more loin').total]); });`, { eval: true, workerData: { [ARPA]: sharedBin[ARPA] } });
  const [isShared, total] = await new Promise<[boolean, number]>((res) => w.once('message', res));
  await w.terminate();
  assert.ok(isShared);
  close(total, scoreSentence(a, 'looking on a little more loin').total, 'worker');
});

/** ARPA text with its lines sorted: the same model whatever order the entries were written in. */
const sortedLines = (arpa: string) => arpa.split('\n').sort().join('\n');

/**
 * Real text that needs no shared data (the demo's reference text from npm packages): English
 * sentences and Chinese poems by character, with a literal <unk> in every 40th line.
 */
async function demoLines(skip: number, count: number): Promise<string[]> {
  const { referenceTexts } = await import('../src/demo/corpus.js');
  const t = referenceTexts(400_000);
  const lines = [...t.en.slice(skip, skip + count), ...t.zh.slice(skip, skip + count / 2).map((l) => [...l.replace(/\s+/g, '')].join(' '))];
  return lines.map((l, i) => (i % 40 === 0 ? l.replace(/^\S+/, '<unk>') : l));
}

test('the bounded-memory trainer writes exactly the in-memory model: any order, any number of buckets and groups, a counting buffer that spills many times', async () => {
  const { trainKneserNey } = await import('../src/lm/kneser-ney.js');
  const { trainKneserNeyOnDisk } = await import('../src/lm/kneser-ney-disk.js');
  const { tmp } = await import('./helpers.js');
  const dir = tmp();
  const out = join(dir, 'm.arpa');
  const cases: { what: string; lines: string[]; order: number; buckets: number; memoryMB?: number }[] = [
    { what: 'demo text, order 3, one bucket', lines: await demoLines(0, 1000), order: 3, buckets: 1 },
    { what: 'demo text, order 4, 5 buckets, tiny buffer and groups', lines: await demoLines(1000, 1000), order: 4, buckets: 5, memoryMB: 0.01 },
    { what: 'demo text, order 1', lines: await demoLines(0, 500), order: 1, buckets: 2 },
  ];
  const wiki = join(SHARED, 'wikitext2/word_language_model/data/wikitext-2/valid.txt');
  if (existsSync(wiki)) cases.push({ what: 'WikiText-2 words, order 5, 7 buckets', lines: readFileSync(wiki, 'utf8').split('\n').filter((l) => l.trim().length > 20).slice(0, 1000), order: 5, buckets: 7, memoryMB: 0.05 });
  const cmrc = join(SHARED, 'cmrc2018-zhwiki/squad-style-data/cmrc2018_dev.json');
  if (existsSync(cmrc)) {
    const paras = (JSON.parse(readFileSync(cmrc, 'utf8')) as { data: { paragraphs: { context: string }[] }[] }).data.flatMap((d) => d.paragraphs.map((p) => p.context)).slice(0, 150);
    cases.push({ what: 'cmrc2018 characters, order 5, 16 buckets in groups', lines: paras.map((p) => [...p.replace(/\s+/g, '')].join(' ')), order: 5, buckets: 16, memoryMB: 20 });
  }
  for (const c of cases) {
    const want = writeArpa(trainKneserNey(c.lines, { order: c.order }));
    const r = await trainKneserNeyOnDisk(c.lines, out, { order: c.order, buckets: c.buckets, memoryMB: c.memoryMB });
    const got = readFileSync(out, 'utf8');
    assert.equal(sortedLines(got), sortedLines(want), c.what);
    // the sections are in order and the header counts are right
    const back = parseArpa(got, out);
    assert.deepEqual(back.counts, r.counts, c.what);
    assert.deepEqual(back.grams.map((g) => g.size), r.counts, c.what);
    assert.equal(r.buckets, c.buckets);
    // a tiny budget loads one bucket at a time; a roomy one several together
    if ((c.memoryMB ?? 1024) < 1) assert.equal(r.groups.adjust, c.buckets, c.what);
    if (c.buckets > 1 && (c.memoryMB ?? 1024) >= 20) assert.ok(r.groups.adjust < c.buckets, `${c.what}: ${r.groups.adjust} groups`);
  }
});

test('ziya lm train: streams its input, reports buckets and memory, and refuses text too small for discounts', async () => {
  const { tmp } = await import('./helpers.js');
  const { writeFileSync } = await import('node:fs');
  const dir = tmp();
  const ref = await demoLines(0, 1200);
  writeFileSync(join(dir, 'ref.txt'), ref.join('\n') + '\n');
  const r = spawnSync(process.execPath, ['bin/ziya.js', 'lm', 'train', '--input', join(dir, 'ref.txt'), '--out', join(dir, 'ref.arpa'), '--order', '3', '--buckets', '3', '--memory', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /3 buckets loaded in \d+\/\d+ groups/);
  assert.match(r.stderr, /\[lm train\] counting/);
  const info = JSON.parse(readFileSync(join(dir, 'ref.arpa.json'), 'utf8')) as { buckets: number; sentences: number; peakRssMB: number; counts: number[] };
  assert.equal(info.buckets, 3);
  assert.equal(info.sentences, ref.join('\n').split('\n').filter((l) => l.trim()).length);
  assert.ok(info.peakRssMB > 0);
  assert.deepEqual(parseArpa(readFileSync(join(dir, 'ref.arpa'), 'utf8'), 'ref').counts, info.counts);
  writeFileSync(join(dir, 'tiny.txt'), 'a b\n');
  const bad = spawnSync(process.execPath, ['bin/ziya.js', 'lm', 'train', '--input', join(dir, 'tiny.txt'), '--out', join(dir, 'tiny.arpa'), '--quiet'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /too small to estimate discounts/);
});

test('ARPA numbers: seven significant digits in their shortest form, as String(Number(x.toPrecision(7))) gives', async () => {
  const { fmt } = await import('../src/lm/arpa.js');
  let seed = 11;
  const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const values = [0, -0, -99, 1, -1, 10, 1e-6, 9.9999999e-7, 1e-7, 12345678, 1234567, 0.5, -0.30103, 1e21, -1e-300, 0.1 + 0.2];
  for (let i = 0; i < 200_000; i++) {
    const x = (r() < 0.5 ? -1 : 1) * r() * 10 ** (Math.floor(r() * 30) - 15);
    values.push(x, Math.round(x * 1e7) / 1e7);
  }
  for (const x of values) assert.equal(fmt(x), String(Number(x.toPrecision(7))), String(x));
  assert.equal(fmt(-0.30102999566), '-0.30103');
  assert.equal(fmt(-99), '-99');
  assert.equal(fmt(-1.23456789e-8), '-1.234568e-8');
});

test('tokenizer pieces as units: ziya lm train --units pieces records its tokenizer, and ppl_buckets scores with it', { skip: !existsSync(join(SHARED, 'llama2-tokenizer/tokenizer.model')) && 'llama2-tokenizer absent' }, async () => {
  const { tmp } = await import('./helpers.js');
  const { writeFileSync, readdirSync, renameSync } = await import('node:fs');
  const { parseRecipe } = await import('../src/factory/recipe.js');
  const { runFactory } = await import('../src/factory/executor.js');
  const { loadTokenizer } = await import('../src/tokenizer/load.js');
  const tokPath = join(SHARED, 'llama2-tokenizer/tokenizer.model');
  const dir = tmp();
  const { referenceTexts } = await import('../src/demo/corpus.js');
  const en = referenceTexts(400_000).en.map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.length > 30);
  writeFileSync(join(dir, 'ref.txt'), en.slice(0, 1900).join('\n') + '\n');
  const model = join(dir, 'en.arpa');
  const r = spawnSync(process.execPath, ['bin/ziya.js', 'lm', 'train', '--input', join(dir, 'ref.txt'), '--out', model, '--order', '3', '--units', 'pieces', '--tokenizer', tokPath, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(readFileSync(`${model}.json`, 'utf8')) as { units: string; tokenizer: string };
  assert.equal(info.units, 'pieces');
  assert.equal(info.tokenizer, tokPath);
  // the model's unigrams are the tokenizer's pieces
  const tok = loadTokenizer(tokPath);
  const uni = [...parseArpa(readFileSync(model, 'utf8'), model).grams[0]!.keys()];
  assert.ok(uni.includes('▁the'), 'pieces carry the ▁ word marker');
  assert.ok(tok.encodePieces(en[0]!).every((p) => uni.includes(p)));
  // documents: held-out sentences, and the same sentences with their words reversed
  const docs = en.slice(1900, 1960).map((t, i) => ({ id: `s${i}`, text: t, meta: { language: 'en' } }));
  for (let i = 0; i < 20; i++) docs.push({ id: `r${i}`, text: en[1960 + i]!.split(' ').reverse().join(' '), meta: { language: 'en' } });
  writeFileSync(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const recipe = parseRecipe({ input: { paths: [join(dir, 'in.jsonl')] }, output: { dir: join(dir, 'out'), format: 'jsonl', writeDropped: true }, steps: [{ type: 'ppl_buckets', models: { en: model } }] }, 't', '/');
  const res = await runFactory(recipe, { inProcess: true, quiet: true });
  assert.equal(res.stats.kept, 48);
  const kept = readdirSync(join(dir, 'out', 'data')).flatMap((f) => readFileSync(join(dir, 'out', 'data', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; meta: { perplexity: number } }));
  assert.ok(kept.every((d) => d.meta.perplexity > 1));
  assert.ok(kept.filter((d) => d.id.startsWith('r')).length <= 3, 'reversed sentences land in the low bucket');
  // without its tokenizer, the model is refused when the recipe is read
  renameSync(`${model}.json`, `${model}.json.bak`);
  writeFileSync(`${model}.json`, JSON.stringify({ ...info, tokenizer: join(dir, 'gone.model') }));
  assert.throws(() => parseRecipe({ input: { paths: [join(dir, 'in.jsonl')] }, output: { dir: join(dir, 'out2') }, steps: [{ type: 'ppl_buckets', models: { en: model } }] }, 't', '/'), /units are tokenizer pieces, but its tokenizer .*gone\.model is missing/);
});
