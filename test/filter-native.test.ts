// The native text kernels of the rule filters (native/text.cc) against their TypeScript
// references (src/factory/filter/features.ts, matcher.ts): every statistic, unit id and length,
// n-gram figure and word-list count must be identical, document by document, on real text from
// npm packages and ../shared/data and on adversarial strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocFeatures, textKernels, unitPositions, isHanCode, classCounts, kindTable } from '../src/factory/filter/features.js';
import { censusTable } from '../src/factory/preprocess/encoding.js';
import { specialTable } from '../src/factory/preprocess/charclass.js';
import { PhraseMatcher } from '../src/factory/filter/matcher.js';
import { DocumentFilter } from '../src/factory/filter/steps.js';
import { identifyLanguage, functionWordVotes } from '../src/factory/preprocess/langid.js';
import { toSimplified } from '../src/factory/preprocess/opencc.js';
import { defaultLists } from '../src/factory/filter/doc-rules.js';
import { hasCharRunRef, paraDupPossible, navPossible, lineFacts, LINE_RULES } from '../src/factory/filter/cut-rules.js';
import { chineseDocs, englishDocs } from '../src/demo/corpus.js';
import { rng } from '../src/core/hash.js';
import { sharedTexts, tmp, demoRecipe, outputDigest } from './helpers.js';
import { writeDemoInput } from '../src/demo/corpus.js';
import { runFactory } from '../src/factory/executor.js';
import { join } from 'node:path';

const nativeKernels = textKernels.native;
const SKIP = nativeKernels ? false : 'native addon not built (or ZIYA_NO_NATIVE=1): nothing to compare the references with';

const hanTable = new Uint8Array(65536).map((_, c) => (isHanCode(c) ? 1 : 0));

/** the character-run test with whichever implementation is switched on */
function hasCharRun(text: string, run: number): boolean {
  return textKernels.native ? textKernels.native.charRun(text, run) : hasCharRunRef(text, run);
}

function withKernels<T>(useNative: boolean, f: () => T): T {
  const saved = textKernels.native;
  textKernels.native = useNative ? nativeKernels : null;
  try {
    return f();
  } finally {
    textKernels.native = saved;
  }
}

/** every figure the document rules read, computed with one implementation */
function figures(text: string, lang: string, lists: ReturnType<typeof defaultLists>, extra: PhraseMatcher): Record<string, unknown> {
  const f = new DocFeatures(text, lang);
  const scalars = ['unitCount', 'unitChars', 'longestUnit', 'tokenTotal', 'tokenAlpha', 'hanChars', 'nonSpaceChars', 'digits', 'hashes', 'ellipses', 'symbols', 'spaces', 'braces', 'markupMarks', 'urlMarks', 'loremMarks', 'terminalUnits', 'navMarks'] as const;
  const out: Record<string, unknown> = Object.fromEntries(scalars.map((k) => [k, f[k]]));
  out.ids = Array.from(f.ids);
  out.lens = Array.from(f.lens);
  for (const n of [1, 2, 3, 4]) out[`top${n}`] = f.topNgramFraction(n);
  for (let n = 5; n <= 10; n++) out[`dup${n}`] = f.dupNgramFraction(n);
  // the native kernels keep a shorter n-gram's candidate positions for longer ones of the same
  // document: longest first, shortest first and in between, on fresh features (a kept set from a
  // longer n, or from another document, must not be taken)
  const g = new DocFeatures(text, lang);
  out.reversed = [10, 7, 5].map((n) => g.dupNgramFraction(n)).concat([4, 3, 2, 1].map((n) => g.topNgramFraction(n)), [10, 6].map((n) => g.dupNgramFraction(n)));
  const h = new DocFeatures(text, lang);
  out.mixed = [h.topNgramFraction(3), new DocFeatures(text.slice(0, text.length >> 1), lang).topNgramFraction(1), h.dupNgramFraction(5), h.topNgramFraction(4), h.dupNgramFraction(9)];

  out.rep10 = f.charRepetition(10);
  // the early-stopping comparison settles as the full fraction does, at thresholds on both sides
  out.rep10Exceeds = [0, 0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9].map((m) => f.charRepetitionExceeds(10, m));
  out.rep3Exceeds = [0, 0.2, 0.5].map((m) => f.charRepetitionExceeds(3, m, 500));
  out.rep3 = f.charRepetition(3, 500);
  out.lists = Array.from(lists.words.count(f.u16));
  out.extra = Array.from(extra.count(text));
  out.lineStats = Array.from(f.lineStats(30));
  out.lineStats7 = Array.from(f.lineStats(7));
  out.charRuns = [1, 2, 3, 10].map((run) => hasCharRun(text, run));
  out.paraDup = [0, 5, 20].map((w) => paraDupPossible(text, w));
  out.nav = [[112, 3], [30, 1], [0, 1], [1000, 5], [8, 2]].map(([w, m]) => navPossible(text, w!, m!));
  out.lineFacts = [[0, 3, 5, 10], [12, 1, 0, 1], [80, 3, 5, 2], [80, 3, 0, 3], [80, 6, 2, 10], [1000, 2, 9, 0]].map(([metaMaxLen, minWords, minHan, run]) => {
    const f = lineFacts(text, { metaMaxLen: metaMaxLen!, minWords: minWords!, minHan: minHan!, run: run! });
    return { ...f, shortLines: Array.from(f.shortLines) }; // (a view until the next call)
  });
  out.special = Array.from(unitPositions(text, specialTable()));
  out.hanPositions = Array.from(unitPositions(text, hanTable));
  for (const [name, table, k] of [['census', censusTable(), 4], ['kinds', kindTable(), 8], ['kinds5', kindTable(), 5]] as const) {
    const counts = new Int32Array(k);
    classCounts(text, table, counts);
    out[name] = Array.from(counts);
  }
  const votes = new Int32Array(12);
  out.words = functionWordVotes(text, votes);
  out.votes = Array.from(votes);
  out.simplified = (['t', 'tw', 'twp', 'hk'] as const).map((from) => toSimplified(from)(text));
  out.language = identifyLanguage(text);
  out.languageHead = identifyLanguage(text, 7);
  return out;
}

test("a document's kept n-gram candidates are never taken for another document in the same scratch arrays", { skip: SKIP }, () => {
  // transient features of two documents with as many units share the scratch arrays (the same ids
  // pointer and length): only each document's token tells the kernels they differ. The first has
  // no repeated n-gram (nothing kept), the second repeats throughout.
  for (const n of [40, 61, 2000]) {
    const distinct = Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const repeating = Array.from({ length: n }, (_, i) => '甲乙丙丁戊己庚辛壬癸'[i % 10]).join('');
    const a = new DocFeatures(distinct, 'zh', { transient: true });
    assert.equal(a.topNgramFraction(1), 0);
    const b = new DocFeatures(repeating, 'zh', { transient: true });
    assert.equal(b.unitCount, a.unitCount);
    const want = withKernels(false, () => { const r = new DocFeatures(repeating, 'zh'); return [r.dupNgramFraction(5), r.topNgramFraction(3)]; });
    assert.ok(want[0]! > 0.5, String(want));
    assert.deepEqual([b.dupNgramFraction(5), b.topNgramFraction(3)], want, `n=${n}`);
  }
});

function adversarial(): string[] {
  const r = rng(7);
  const pick = (s: string) => s[Math.floor(r() * s.length)]!;
  const alphabet = 'abcXYZ09 .\'’-#{}…\n\n\n\t\r,。！？「」•*·中文字测试繁體😀\u{20000}\ud800\udc00\udbff\u0301\u3000\u00a0ΩЖ免费加微信赌博';
  const out = [
    '',
    ' ',
    '...',
    '....... ....',
    'a',
    '中',
    'x'.repeat(70_000) + ' tail',
    'word '.repeat(3000),
    '重复重复重复'.repeat(500),
    "don't it’s e.g. U.S.A. co-op -lead trail- 3.14 ...end",
    '\ud83d', // a lone high surrogate at the end
    '\ud83dA\udc00B',
    'FREE CASINO Bonus free casino bonus, Click Here to win! 免费领取 加微信 av女优 AV女优',
    '{{template}} ### heading ### ……… ...',
    '\u{20000}\u{20001}中文 and English 한국어 ひらがな Русский',
    'abcdef\ud840',
    // lines and paragraphs: blank lines with spaces and tabs, duplicates after trimming or not,
    // bullets behind whitespace, ellipses behind whitespace, CRLF, runs of blank lines
    'a\n\nb\n \t\nb\n\n\nc\n\t\n\n  b  \n\nb',
    ' • one\n\u3000- two\n* three …  \n·four...\t\n... \n..\n  \n\n',
    'same line\r\nsame line\r\nsame line\nsame line \n same line\n\n\n\nsame line',
    '第一段。\n\n第二段！\n \n第一段。\n\u00a0\n\u2028第三段”\n\n\n',
    '\n\n\n',
    '\n \n\t\n',
    'x\n',
    'Posted by admin\n  2023-05-06 10:23\nREAD MORE »\n\u3000阅读全文：\n发布时间：今天\nAuthor: me\nan open line', 'ends here.\nand here。\n', ' \t\n',
    'abc  def\n\nabc def\n\n', 'abc\ufeffdef\n\nabc def', '\u3000中文\u2003字\n\n中文 字', 'abc\u3000def\nabc def', ' abc\t\tdef \n abc\u00a0def', 'short\nshort', '一二三四五六七八九十一\n\n 一二三四五六七八九十一 \n \t\n一二三四五六七八九十一',
    // the same, eight units and more (the kernel looks at eight at a time): each whitespace kind
    // inside a block, two spaces across a block boundary, and the plain twin of each
    ...['\ufeff', '\u00a0', '\u2003\u2003', '\u3000', '\t', '  ', '\u1680', '\u202f', '\u205f', '\u2028', '\u000b'].map((w) => `left sid${w}right side plus\n\nleft sid right side plus`),
    // line facts: interface text with long tails, a short line whose two pieces have two spaces between them
    // the pattern marks: URLs (joined into a word or not, at the start and the end), lorem ipsum in
    // every case and behind letters, HTML, sentence ends of both scripts
    'see http://a.b and HTTPS://X.Y, www.example.com WWW.X wWw. w. .w :// :/ x:', '://', 'w.', 'W.w.w', 'ftp://h', 'w.中', '中w.文', 'Lorem ipsum LOREM IPSUM xlorem ipsum oReM  orem\torem', 'orem ', 'lorem', 'dolor-orem ipsum', "it'orem ", '3orem ', 'orém ',
    '<b>x</b> &amp; & < >', '中文。！？!?.', '。', 'a.b.c', 'e.g. U.S.A.', '\uff01\uff1f\u3002abc', '…!',
    'continue reading >>>>>\nGood things come.', 'continue reading ::::::\nGood things come.', 'continue reading \u00bb\u203a\uff1a:\nGood things come.', 'alpha  beta\nThis line ends well.', 'alpha \u3000 beta\nThis line ends well.',
    'Home | News | Sports | Weather\n\nThe body text of the page, long enough to be a paragraph.', '首页 > 新闻 > 体育 > 天气\n正文内容在这里，很长很长。', ' a/b/c/d \n\u3000首页》新闻›体育→天气｜更多\n', 'x·y·z', 'Home » News » Sports » Weather » More » Even » More » Items » Here » And » There » Too',
    'abcdefg  hijklmnopq\n\nabcdefg hijklmnopq', 'abcdefgh  ijklmnopq\n\nabcdefgh ijklmnopq', 'abcdefg \nhijklmnop\n\nabcdefg hijklmnop', 'abcdefg\n hijklmnop\n\nabcdefg hijklmnop', '中文中文中文中\u3000文字\n中文中文中文中 文字',
    '這個軟體的資料庫裡面有許多繁體中文字，臺灣的電腦網路發達。滑鼠、記憶體、程式設計、網際網路、乾燥、乾隆。',
    '香港的巴士和的士很多，雪櫃裡有朱古力。\ud840\udc00\ud840發\udc00後',
    '\ud840',
    '發',
    "Le chat est sur la table et il dort dans le jardin avec les enfants qu'il aime.",
    'Der Hund und die Katze sind in dem Haus, das auf dem Berg steht.',
    'the of and '.repeat(1200),
    '哈哈哈哈哈哈哈哈哈哈', 'aaaaaaaaa', '=========\n=', '  \u3000\u3000\u3000', 'ab'.repeat(20) + 'bbbbbbbbbb',
  ];
  for (let k = 0; k < 300; k++) {
    let s = '';
    const len = Math.floor(r() ** 3 * 3000);
    for (let i = 0; i < len; i++) s += pick(alphabet);
    out.push(s);
  }
  return out;
}

test('registered arrays: a kernel named an array by its number computes what it computes with the array, refuses a number of another type or a released one, and scratch arrays grown past their size are registered anew', { skip: SKIP }, () => {
  const nk = nativeKernels!;
  const table = new Uint8Array(65536).map((_, c) => (c % 7 === 0 ? 1 : 0));
  const out = new Int32Array(64);
  const text = '中文 text, 混合 1234 ' + 'ab中'.repeat(50);
  const byArray = nk.unitPositions(text, table, out);
  const want = Array.from(out.subarray(0, Math.min(byArray, out.length)));
  out.fill(-1);
  const tId = nk.registerArray(table);
  const oId = nk.registerArray(out);
  assert.equal(nk.unitPositions(text, tId, oId), byArray);
  assert.deepEqual(Array.from(out.subarray(0, want.length)), want);
  // a number registered for another type, a number never given, a released number
  assert.throws(() => nk.unitPositions(text, oId, oId), TypeError);
  assert.throws(() => nk.unitPositions(text, tId, 1e6), TypeError);
  nk.unregisterArray(oId);
  assert.throws(() => nk.unitPositions(text, tId, oId), TypeError);
  assert.throws(() => nk.unregisterArray(oId), TypeError);
  assert.throws(() => nk.registerArray({} as never), TypeError);
  nk.unregisterArray(tId);
  // documents longer than every scratch array (units, unit ids and lengths, positions, line
  // marks: each replaced by a larger one and registered again) between short ones, native
  // against the references
  const long = ('第一行 first line.\n' + 'word '.repeat(30) + '\n中文句子。'.repeat(40) + '\n').repeat(1400);
  assert.ok(long.length > 1 << 17, String(long.length));
  for (const t of ['short 中文 text.', long, 'short again\nand 中文', long + long.slice(0, 5000), 'end.']) {
    const a = withKernels(true, () => { const f = new DocFeatures(t, 'zh'); return [f.unitCount, f.unitChars, f.hanChars, f.topNgramFraction(2), f.dupNgramFraction(5), f.charRepetition(10), Array.from(f.lineStats()), unitPositions(t, hanTable).length, JSON.stringify(lineFacts(t, { metaMaxLen: 80, minWords: 3, minHan: 5, run: 10 }))]; });
    const b = withKernels(false, () => { const f = new DocFeatures(t, 'zh'); return [f.unitCount, f.unitChars, f.hanChars, f.topNgramFraction(2), f.dupNgramFraction(5), f.charRepetition(10), Array.from(f.lineStats()), unitPositions(t, hanTable).length, JSON.stringify(lineFacts(t, { metaMaxLen: 80, minWords: 3, minHan: 5, run: 10 }))]; });
    assert.deepEqual(a, b, `text of ${t.length} units`);
  }
});

test('native text kernels equal the TypeScript references on every document figure', { skip: SKIP }, (t) => {
  const lists = defaultLists();
  // a second matcher with multi-word Latin phrases, mixed entries and more than two lists
  const extra = new PhraseMatcher([['click here', 'win a free', 'free'], ['中文', '测试繁', 'av女'], ["don't it’s", 'casino bonus'], ['u.s.a', 'co-op']]);
  const docs: { text: string; lang: string }[] = [
    ...englishDocs(400).map((d) => ({ text: d.text, lang: 'en' })),
    ...chineseDocs(400).map((d) => ({ text: d.text, lang: 'zh' })),
    ...adversarial().map((text, i) => ({ text, lang: i % 2 ? 'zh' : 'en' })),
    ...sharedTexts(1500).map((x) => ({ text: x.text, lang: x.lang })),
  ];
  if (!sharedTexts(1).length) t.diagnostic('../shared/data absent: compared on npm-packaged and generated text only');
  let compared = 0;
  for (const [i, d] of docs.entries()) {
    const a = withKernels(true, () => figures(d.text, d.lang, lists, extra));
    const b = withKernels(false, () => figures(d.text, d.lang, lists, extra));
    assert.deepEqual(a, b, `document ${i} (${d.lang}, ${d.text.length} chars): ${JSON.stringify(d.text.slice(0, 80))}`);
    compared++;
  }
  assert.ok(compared >= 1100, String(compared));
});

test("line rules that answer from the line facts answer as their apply does, line by line", () => {
  // first, a text with more lines than the marks array starts with (the kernel counts the lines
  // past it, and the array is grown and the text asked about again)
  const many = Array.from({ length: 9001 }, (_, i) => (i % 3 === 0 ? `short ${i}` : i % 3 === 1 ? 'A longer line that ends as it should.' : '标题')).join('\n');
  const texts = [many, ...adversarial(), ...chineseDocs(50).map((d) => d.text), ...englishDocs(50).map((d) => d.text), ...sharedTexts(400).map((x) => x.text)];
  const rules = LINE_RULES.filter((r) => r.fromFacts);
  assert.ok(rules.length > 0);
  let cut = 0;
  for (const useNative of nativeKernels ? [true, false] : [false]) {
    withKernels(useNative, () => {
      for (const text of texts) {
        for (const q of [{ metaMaxLen: 80, minWords: 3, minHan: 5, run: 10 }, { metaMaxLen: 0, minWords: 2, minHan: 0, run: 3 }]) {
          const facts = lineFacts(text, q);
          const lines = text.split('\n');
          assert.equal(facts.shortLines.length, lines.length);
          lines.forEach((l, i) => {
            for (const rule of rules) for (const multiLine of [true, false]) {
              const want = rule.apply(l, { ...rule.params, ...q }, { multiLine });
              assert.equal(rule.fromFacts!(l, i, { ...rule.params, ...q }, facts, { multiLine }), want, `${rule.name} ${JSON.stringify(l)} ${multiLine}`);
              if (want !== l) cut++;
            }
          });
        }
      }
    });
  }
  assert.ok(cut > 100, String(cut));
});

test('n-gram figures are the same whether or not shorter top n-grams were counted first', () => {
  // (a repeated n-gram starts with a repeated shorter one: once a shorter top count is under 2,
  // the longer figures are 0 without being counted)
  const texts = [...adversarial(), ...chineseDocs(100).map((d) => d.text), ...englishDocs(100).map((d) => d.text), ...sharedTexts(600).map((x) => x.text)];
  let shortcut = 0;
  for (const text of texts) {
    for (const lang of ['en', 'zh']) {
      const fresh = (): DocFeatures => new DocFeatures(text, lang);
      const want = { dup: [5, 6, 7, 8, 9, 10].map((n) => fresh().dupNgramFraction(n)), top: [2, 3, 4].map((n) => fresh().topNgramFraction(n)) };
      const f = fresh();
      const top1 = f.topNgramFraction(1);
      if (top1 === 0) shortcut++;
      const exceeds = [2, 3, 4].flatMap((n) => [-1, 0, 0.05, 0.2].map((m) => f.topNgramExceeds(n, m)));
      assert.deepEqual(exceeds, [2, 3, 4].flatMap((n, k) => [-1, 0, 0.05, 0.2].map((m) => want.top[k]! > m)), `${lang} ${JSON.stringify(text.slice(0, 60))}`);
      assert.deepEqual([5, 6, 7, 8, 9, 10].map((n) => f.dupNgramFraction(n)), want.dup, `${lang} ${JSON.stringify(text.slice(0, 60))}`);
    }
  }
  assert.ok(shortcut > 100, String(shortcut));
});

test('the document filter fires the same rules with and without the native kernels', { skip: SKIP }, () => {
  const f = new DocumentFilter('doc_filter', {});
  const docs = [...englishDocs(300), ...chineseDocs(300)];
  const fired = (useNative: boolean) => withKernels(useNative, () => docs.map((d) => f.firing({ id: d.id, text: d.text, meta: { source: 'demo' } })));
  const a = fired(true);
  assert.deepEqual(a, fired(false));
  // the comparison means something: rules fire on some of these documents and not on others
  assert.ok(a.some((x) => x.length > 0) && a.some((x) => x.length === 0));
});

test('the factory writes the same bytes and counts with and without the native text kernels', { skip: SKIP }, async () => {
  const input = join(tmp('ziya-demo-'), 'input');
  await writeDemoInput(input, { scale: 0.1 });
  const run = (useNative: boolean) => {
    const saved = textKernels.native;
    textKernels.native = useNative ? nativeKernels : null;
    const out = tmp();
    return runFactory(demoRecipe(input, out), { inProcess: true, quiet: true }).then((r) => {
      textKernels.native = saved;
      return { out, steps: r.stats.steps.map((x) => ({ name: x.name, rules: x.rules })) };
    });
  };
  const a = await run(true);
  const b = await run(false);
  assert.equal(outputDigest(a.out), outputDigest(b.out));
  assert.deepEqual(a.steps, b.steps);
});
