import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentFilter, ParagraphFilter, SentenceFilter, filterShortcuts } from '../src/factory/filter/steps.js';
import { DOC_RULES, defaultLists } from '../src/factory/filter/doc-rules.js';
import { PARA_RULES, LINE_RULES, defaultCutLists, needsCollapse, isUiLine, UI_LINE, META_LINE, META_FIRST, META_PAIRS } from '../src/factory/filter/cut-rules.js';
import { DocFeatures, TERMINAL, endsTerminal, digitsOf } from '../src/factory/filter/features.js';
import { PiiMask, PII_DEFAULTS, cnIdValid, luhnValid, IPV6, ipv6Possible, hexColons, HEX_COLONS } from '../src/factory/filter/pii.js';
import { PhraseMatcher } from '../src/factory/filter/matcher.js';
import { isDrop, type Drop } from '../src/core/step.js';
import type { Document } from '../src/core/document.js';
import { ctx, doc, sharedTexts } from './helpers.js';

const EN = `The committee met on Tuesday to review the annual budget and the plans for the new library. Members agreed that the reading rooms should stay open later in the evening, because students have asked for more quiet space during the examination period.

The treasurer explained that the cost of heating has risen sharply this year. She proposed that the council apply for a regional grant, which would cover most of the difference and leave the book fund untouched.

After a long discussion, the members voted to accept the proposal. The chair thanked the volunteers who had prepared the survey of readers, and said that the results would be published next month with the minutes of the meeting.`;

const ZH = `春天来了，小镇上的图书馆重新开放了阅览室。管理员说，今年的经费比去年多了一些，所以他们买了不少新书，还修好了漏雨的屋顶。

孩子们放学以后常常来这里写作业，老人们则喜欢在上午读报纸。有一位退休的老师每周都来讲故事，她说读书是一辈子的事情，不能只在学校里才做。

馆长希望明年能够开设电脑课程，让更多的人学会在网上查找资料，也打算请附近大学的志愿者来帮忙整理旧书和地方文献。他认为，一个好的图书馆不只是放书的地方，更是大家交流和学习的场所。`;

const en = (text: string): Document => doc(text, { language: 'en' });
const zh = (text: string): Document => doc(text, { language: 'zh' });

test('clean English and Chinese documents fire no document rule', () => {
  const f = new DocumentFilter('doc_filter', {});
  assert.deepEqual(f.firing(en(EN)), []);
  assert.deepEqual(f.firing(zh(ZH)), []);
});

test('there are at least 30 document, paragraph and sentence rules', () => {
  assert.ok(DOC_RULES.length + PARA_RULES.length + LINE_RULES.length >= 30, String(DOC_RULES.length + PARA_RULES.length + LINE_RULES.length));
  assert.ok(DOC_RULES.length >= 25 && PARA_RULES.length >= 5 && LINE_RULES.length >= 5);
});

const rep = (s: string, n: number, sep = '\n') => Array.from({ length: n }, () => s).join(sep);
const words = (n: number) => Array.from({ length: n }, (_, i) => ['alpha', 'river', 'stone', 'garden', 'window', 'silver', 'market', 'winter', 'yellow', 'candle'][i % 10] + (i % 7)).join(' ');

/** For every document rule, a document that makes it fire. */
const POSITIVE: Record<string, Document> = {
  'doc.min_words': en('The committee met. It was short. We left early.'),
  'doc.max_words': en(EN + ' ' + 'word '.repeat(100001)),
  'doc.zh_min_chars': zh('今天天气很好，我们去公园散步了。'),
  'doc.mean_word_length': en(EN.replace(/\b(\w+)\b/g, 'a')),
  'doc.hash_ratio': en(EN + ' ' + '#tag '.repeat(60)),
  'doc.ellipsis_ratio': en(EN + ' ' + 'so... '.repeat(60)),
  'doc.bullet_lines': en(rep('• The committee met on Tuesday to review the annual budget and plans.', 30)),
  'doc.ellipsis_lines': en(rep('The committee met on Tuesday to review the annual budget...', 10) + '\n' + EN),
  'doc.alpha_words': en(EN + ' ' + '123 456 789 000 '.repeat(60)),
  'doc.stop_words': en(words(120) + '.'),
  'doc.dup_lines': en(rep('Buy the best shoes in town today.', 20) + '\n' + EN),
  'doc.dup_paragraphs': en(EN + '\n\n' + rep('A short repeated paragraph here.', 12, '\n\n')),
  'doc.dup_line_chars': en(EN.split('\n\n')[0] + '\n' + EN.split('\n\n')[0] + '\n' + EN.split('\n\n')[1]),
  'doc.dup_paragraph_chars': en(EN + '\n\n' + EN.split('\n\n')[2] + '\n\n' + EN.split('\n\n')[2]),
  'doc.top_2gram': en(EN + ' ' + 'new york '.repeat(80)),
  'doc.top_3gram': en(EN + ' ' + 'the big apple '.repeat(60)),
  'doc.top_4gram': en(EN + ' ' + 'in the year of '.repeat(45)),
  'doc.dup_ngrams': en(EN + ' ' + EN),
  'doc.char_repetition': zh(ZH + rep('哈哈哈哈哈好开心啊', 40, '')),
  'doc.cjk_ratio': zh('这是' + EN),
  'doc.avg_line_length': en(EN.split(' ').join('\n')),
  'doc.lorem_ipsum': en(EN + ' Lorem ipsum dolor sit amet.'),
  'doc.curly_brace': en(EN + ' {{template}} {x} {y} {z} {a} {b} {c} {d} {e} {f} {g} {h} {i}'),
  'doc.min_sentences': en(words(80) + ' the of and to'),
  'doc.terminal_punct_lines': en(rep('the committee met on tuesday to review the annual budget and plans for the library', 20)),
  'doc.short_lines': en(rep('Home', 5) + '\n' + rep('the menu item and the other', 20) + '\n' + EN.slice(0, 300)),
  'doc.newline_ratio': en(EN.split(' ').join('\n')),
  'doc.toxic_words': en(EN + ' fuck shit bitch porn'),
  'doc.ad_words': en(EN + ' Buy now! Free shipping! Limited time offer! Promo code!'),
  'doc.url_ratio': en(EN + ' ' + 'https://example.com/a/very/long/path/to/some/page?id=1234567890 '.repeat(12)),
  'doc.digit_ratio': en(EN + ' ' + '12345678 '.repeat(40)),
  'doc.special_chars': en(EN + ' ' + '$$$ @@@ ^^^ ~~~ +++ === <<< >>> '.repeat(30)),
  'doc.html_residue': en(EN + ' ' + '<div class="x"> &nbsp; </div> <span>'.repeat(10)),
  'doc.longest_word': en(EN + ' ' + 'a'.repeat(1200)),
  'doc.whitespace_ratio': en(EN.replace(/ /g, '      ')),
};

test('every document rule fires on a document made for it, and only where expected', () => {
  const f = new DocumentFilter('doc_filter', {});
  for (const r of DOC_RULES) {
    const d = POSITIVE[r.name];
    assert.ok(d, `no positive example for ${r.name}`);
    const fired = f.firing(d);
    assert.ok(fired.includes(r.name), `${r.name} did not fire (fired: ${fired.join(', ')})`);
  }
  const r = f.process(POSITIVE['doc.lorem_ipsum']!) as Drop;
  assert.ok(isDrop(r) && r.rule === 'doc.lorem_ipsum' && r.fired.includes('doc.lorem_ipsum'));
});

test('rules can be disabled and re-parameterised; unknown rules and parameters are errors', () => {
  const off = new DocumentFilter('doc_filter', { rules: { 'doc.lorem_ipsum': { enabled: false } } });
  assert.ok(!off.firing(POSITIVE['doc.lorem_ipsum']!).includes('doc.lorem_ipsum'));
  const strict = new DocumentFilter('doc_filter', { rules: { 'doc.min_words': { min: 1000 } } });
  assert.ok(strict.firing(en(EN)).includes('doc.min_words'));
  assert.throws(() => new DocumentFilter('doc_filter', { rules: { 'doc.nope': {} } }), /unknown rule "doc.nope"/);
  assert.throws(() => new DocumentFilter('doc_filter', { rules: { 'doc.min_words': { mni: 3 } } }), /doc\.min_words: unknown parameter "mni"/);
});

test('Gopher n-gram statistics follow the reference definitions', () => {
  // "a b c a b c": 3-gram "a b c" occurs twice -> top 3-gram covers 6 of 6 characters
  const f = new DocFeatures('aa bb cc aa bb cc', 'en');
  assert.equal(f.unitCount, 6);
  assert.equal(f.topNgramFraction(3), 1);
  // duplicated 3-grams: the second "aa bb cc" is a repeat -> 6 of 12 characters
  assert.equal(f.dupNgramFraction(3), 0.5);
  assert.equal(new DocFeatures('aa bb cc dd ee ff', 'en').dupNgramFraction(2), 0);
  // Chinese counts characters, with n doubled
  const z = new DocFeatures('天地玄黄宇宙洪荒天地玄黄宇宙洪荒', 'zh');
  assert.equal(z.unitCount, 16);
  assert.equal(z.dupNgramFraction(2), 0.5);
});

test('paragraph rules cut boilerplate, navigation, ads, toxic text and repeats, not the document', () => {
  const p = new ParagraphFilter('para_filter', { minChars: 50 });
  const c = ctx();
  const text = [ZH.split('\n\n')[0], '版权所有 © 2024 某某网 保留所有权利', '首页 > 新闻中心 > 国内新闻 > 正文', '限时抢购，全场包邮！加微信领取优惠券', '这帮傻逼真是脑残', ZH.split('\n\n')[1], ZH.split('\n\n')[1], 'Share on Facebook | Share on Twitter | Email | Print'].join('\n\n');
  const out = p.process(zh(text), c) as Document;
  assert.ok(!isDrop(out));
  assert.equal(out.text, [ZH.split('\n\n')[0], ZH.split('\n\n')[1]].join('\n\n'));
  assert.deepEqual(c.cuts.map((x) => x.rule), ['para.boilerplate', 'para.navigation', 'para.advertising', 'para.toxic', 'para.duplicate', 'para.boilerplate']);
  const gone = p.process(zh('版权所有 © 2024 某某网 保留所有权利\n\n首页 > 新闻 > 国内 > 正文'), ctx());
  assert.ok(isDrop(gone) && gone.rule === 'para.nothing_left');
});

test('line and sentence rules cut citations, UI text, metadata, short fragments, long words and character runs', () => {
  const s = new SentenceFilter('sentence_filter', { minChars: 10 });
  const c = ctx();
  const lines = ['The river flooded the valley in 1910.[1][edit]', 'Read more', '发布时间：2023-05-06 10:23', 'Posted by admin', 'ok then', 'The town rebuilt its bridge within a year.', 'x'.repeat(1200) + ' and a few more words.', '哈哈哈哈哈哈哈哈哈哈哈。这本书真的很好看。'];
  const out = s.process(en(lines.join('\n')), c) as Document;
  assert.equal(out.text, 'The river flooded the valley in 1910.\nThe town rebuilt its bridge within a year.\n这本书真的很好看。');
  assert.deepEqual([...new Set(c.cuts.map((x) => x.rule))].sort(), ['line.citation_marks', 'line.long_word', 'line.meta_info', 'line.short_no_punct', 'line.ui_text', 'sentence.char_run']);
});

test('Chinese paragraphs without spaces are not "long words"', () => {
  const s = new SentenceFilter('sentence_filter', { minChars: 10 });
  const long = ZH.replace(/\n/g, '').repeat(8);
  assert.ok(long.length > 1000);
  const out = s.process(zh(long), ctx()) as Document;
  assert.equal(out.text, long);
});

test('PII: checksums for ID cards and bank cards', () => {
  assert.ok(cnIdValid('11010519491231002X'));
  assert.ok(!cnIdValid('110105194912310021'));
  assert.ok(luhnValid('4111111111111111'));
  assert.ok(!luhnValid('4111111111111112'));
});

test('PII masking: e-mail, Chinese mobile, international phone, ID card, bank card, public IPs', () => {
  const m = new PiiMask('pii', PII_DEFAULTS);
  const c = ctx();
  const out = m.process(doc('联系张先生：13812345678，邮箱 zhang.san@example.com，身份证 11010519491231002X，银行卡 4111 1111 1111 1111。Call +1 415-555-0132 or visit 203.0.113.7 (router 192.168.1.1). Order 123456 is fine.'), c) as Document;
  assert.equal(out.text, '联系张先生：<PHONE>，邮箱 <EMAIL>，身份证 <ID_CARD>，银行卡 <BANK_CARD>。Call <PHONE> or visit <IP> (router 192.168.1.1). Order 123456 is fine.');
  assert.deepEqual([...new Set(c.cuts.map((x) => x.rule))].sort(), ['pii.bank_card', 'pii.email', 'pii.id_card', 'pii.ip', 'pii.phone']);
  const invalid = m.process(doc('身份证 110105194912310021 与卡号 4111111111111112'), ctx()) as Document;
  assert.equal(invalid.text, '身份证 110105194912310021 与卡号 4111111111111112');
});

test('phrase matcher: whole words for Latin entries, substrings for CJK, several lists in one pass', () => {
  const m = new PhraseMatcher([['buy now', 'porn'], ['加微信', 'AV女优']]);
  assert.deepEqual([...m.count('Buy now! pornography is not porn. 加微信，av女优，加微信')], [2, 3]);
  assert.deepEqual([...m.count('buying now, nowhere')], [0, 0]);
});

test('phrase matcher: a remembered count is the count of the text asked about', () => {
  const m = new PhraseMatcher([['buy now', 'porn'], ['加微信', 'AV女优']]);
  const texts = ['Buy now! porn 加微信', 'nothing here', 'Buy now! porn 加微信', '加微信加微信 buy now', 'Buy now! porn 加微信'.slice(0), 'buy now porn', 'buy now pork'];
  for (const t of texts) {
    // with the text's units or without, a repeat or a new text: always the fresh count
    assert.deepEqual([...m.countOf(t)], [...m.count(t)], t);
    assert.deepEqual([...m.countOf(t, Uint16Array.from(t, (c) => c.charCodeAt(0)))], [...m.count(t)], t);
  }
  // an equal string built apart, and a caller that writes into the array it got, change nothing
  const a = m.countOf('porn porn 加微信');
  a[0] = 99;
  const b = m.countOf(['porn', 'porn', '加微信'].join(' '));
  assert.deepEqual([...b], [2, 1]);
  b[1] = 99;
  assert.deepEqual([...m.countOf('porn porn 加微信')], [2, 1]);
  // with the default word lists the document and paragraph filters share one matcher (one count per document)
  assert.equal(defaultLists().words, defaultCutLists().words);
  assert.notEqual(defaultLists({ toxic: ['toxic-en'] }).words, defaultCutLists().words);
});

test('line-end and whitespace shortcuts agree with the expressions they replace', () => {
  const r = (() => { let x = 99; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const parts = ['a', '中', '.', '。', '”', '）', ')', ' ', '  ', '\t', '\n', '\v', '\f', '\u1680', '\u2005', '\u205f', '\u180e', '\u3000', '\u00a0', '\ufeff', '\u2028', '\u200b', '…', '!', 'x.', '\r\n'];
  const cases = ['', ' ', '.', ' .', '. ', '\u3000。\u3000', 'end\u200b', 'a b', 'a  b', 'a\tb', 'a\u00a0b', ' a', 'a '];
  for (let k = 0; k < 5000; k++) {
    let s = '';
    const len = Math.floor(r() * 7);
    for (let j = 0; j < len; j++) s += parts[Math.floor(r() * parts.length)];
    cases.push(s);
  }
  for (const s of cases) {
    assert.equal(endsTerminal(s), TERMINAL.test(s.trimEnd()), JSON.stringify(s));
    assert.equal(needsCollapse(s), s.replace(/\s+/g, ' ') !== s, JSON.stringify(s));
  }
});

/** output text (or drop) and cuts of a step on each text */
function outcomes(step: { process(d: Document, c: ReturnType<typeof ctx>): Document | Drop }, texts: string[]): { out: string; cuts: string[] }[] {
  return texts.map((t) => {
    const c = ctx();
    const out = step.process(doc(t, {}), c);
    return { out: isDrop(out) ? `drop ${out.drop}` : out.text, cuts: c.cuts.map((x) => `${x.rule}:${x.removed}`) };
  });
}

function withoutShortcuts<T>(f: () => T): T {
  filterShortcuts.on = false;
  try {
    return f();
  } finally {
    filterShortcuts.on = true;
  }
}

test('the sentence filter writes the same text and cuts with and without its per-document shortcuts', () => {
  const f = new SentenceFilter('sentence_filter', { minChars: 10 });
  // lines where an earlier rule's cut makes a later rule fire: a citation mark inside a run of one
  // character or after interface text, and lines the shortcuts leave to the rules as they are
  const made = [
    'aaaaa[1]aaaaa was written here on the wall.\nA second line that ends well.',
    'Read more[2]\nThe body of the article is long enough to stay.',
    '哈哈哈哈哈[编辑]哈哈哈哈哈。\n第二行的文字足够长，应该留下来。',
    'Log in\nsign up »\n阅读全文：\nPosted by admin\n2023-05-06 10:23\nThe end of the page is here.',
    '==========\nwhat? ========== yes.\nA line of its own, with words.',
    'one\ntwo words\n  \n中文短句\nA line that has enough words in it.',
  ];
  const texts = [...made, EN, ZH, EN.replace(/\n\n/g, '\n'), ...sharedTexts(1500).map((x) => x.text)];
  assert.ok(LINE_RULES.some((r) => r.mayFire), 'rules with a shortcut');
  const a = outcomes(f, texts);
  assert.deepEqual(a, withoutShortcuts(() => outcomes(f, texts)));
  // the comparison means something: the made documents lose lines, some through a rule after a citation cut
  assert.ok(a.slice(0, made.length).every((x, i) => x.out !== made[i]));
  assert.ok(a.some((x) => x.cuts.includes('sentence.char_run:aaaaaaaaaa was written here on the wall.')), JSON.stringify(a[0]));
});

test('the document filter fires the same rules with and without its pattern marks (HTML, URL, lorem ipsum, sentence ends)', () => {
  const f = new DocumentFilter('doc_filter', {});
  // each pattern with and without the units it needs, behind and between other units, in both
  // scripts, with lone surrogates (the marks are unknown then), and sentence ends around the minimum
  const made = [
    `${EN} Lorem ipsum dolor sit amet.`, `${EN} xLOREM IPSUM`, `${EN} lorem\tipsum`, `${ZH}Lorem ipsum`, `\ud83dlorem ipsum ${EN}`,
    `${EN} see http://example.com/a/b and www.example.org`, `${EN} WWW.EXAMPLE.COM`, `${ZH}网址：https://例子.中国/页面`, `\ud83d://x ${EN}`, `\ud800www.a.b ${EN}`,
    'links: http://a.example.com/page/1 '.repeat(20), 'WWW.EXAMPLE.COM/A/B/C and '.repeat(20), '\ud83d://x.y/z/w/v '.repeat(20),
    '<p>a</p> &amp; '.repeat(20), '\ud83d<p>a</p> &amp; '.repeat(20), `${EN} <div class="x">text</div> &nbsp; &amp;`, `${ZH}<p>段落</p>`, `\udbff<b>bold</b> ${EN}`, `${EN} a < b & c`,
    'One sentence. Two sentences! Three? '.repeat(20), '一句话。两句话！三句话？'.repeat(30), 'no ends at all '.repeat(30), '只有两句。第二句！没有结尾的文字'.repeat(3), '\ud83d。\ud83d！\ud83d？ 又一句话，没有句号'.repeat(20),
  ];
  const shared = sharedTexts(1500);
  const texts = [...made, EN, ZH, ...shared.map((x) => x.text)];
  const fired = (t: string) => ['en', 'zh'].map((language) => f.firing(doc(t, { language })).join(','));
  const a = texts.map(fired);
  assert.deepEqual(a, withoutShortcuts(() => texts.map(fired)));
  // the comparison means something: each rule fires on some made text, and each mark settles its
  // rule without the pattern on many texts
  for (const rule of ['doc.lorem_ipsum', 'doc.url_ratio', 'doc.html_residue', 'doc.min_sentences']) assert.ok(a.slice(0, made.length).some((x) => x.join(',').includes(rule)), rule);
  const feats = texts.map((t) => new DocFeatures(t, 'en'));
  // (without the shared corpora, ../shared/data, only the made texts and the two above)
  const many = shared.length ? 500 : 5;
  assert.ok(feats.filter((x) => x.urlMarks === 0).length > many && feats.filter((x) => x.markupMarks === 0).length > many && feats.filter((x) => x.loremMarks === 0).length > many, 'marks of 0');
  assert.ok(feats.filter((x) => x.terminalUnits >= 0 && x.terminalUnits < 3).length > (shared.length ? 20 : 1), 'few sentence ends');
  assert.ok(feats.filter((x) => x.urlMarks === -1).length >= 5, 'unknown marks');
});

test('the paragraph filter writes the same text and cuts with and without its per-document shortcuts', () => {
  const f = new ParagraphFilter('para_filter', { minChars: 10 });
  // word-list phrases at paragraph edges and across them, navigation and script residue
  const made = [
    `${EN}\n\nClick here to win a free casino bonus now\n\nHome | News | Sports | Weather | Contact`,
    `${ZH}\n\n免费领取，加微信\n\n首页 > 新闻 > 体育 > 天气 > 联系我们`,
    `${EN}\n\nclick\n\nhere is the rest of the text, long enough to stay in the document.`,
    `${EN}\n\nPlease enable JavaScript to view this page.\n\n${EN.slice(0, 200)}`,
    `${ZH}\n\n${ZH}`,
    `Casino\nbonus pages are a kind of advertising that this filter knows about.\nav女优\nAV女优 and more words here.`,
  ];
  const texts = [...made, EN, ZH, ...sharedTexts(1500).map((x) => x.text)];
  assert.ok(PARA_RULES.some((r) => r.mayFire), 'rules with a shortcut');
  const a = outcomes(f, texts);
  assert.deepEqual(a, withoutShortcuts(() => outcomes(f, texts)));
  assert.ok(a.slice(0, made.length).filter((x, i) => x.out !== made[i]).length >= 5, JSON.stringify(a.slice(0, made.length)));
  // as in a run, each text scanned by DocFeatures (the document filter) just before: the
  // navigation rule then reads the separators the scan counted, which are the separators there are
  const scanned = texts.map((t) => {
    const feats = new DocFeatures(t, 'en');
    const want = t.match(/[|»›>·\/｜→]/g)?.length ?? 0;
    assert.ok(feats.navMarks === want || (feats.navMarks === -1 && /[\ud800-\udbff](?![\udc00-\udfff])/.test(t)), `${feats.navMarks} separators counted, ${want} there: ${JSON.stringify(t.slice(0, 80))}`);
    return outcomes(f, [t])[0]!;
  });
  assert.deepEqual(scanned, a);
  assert.ok(texts.filter((t) => new DocFeatures(t, 'en').navMarks === 0).length > (texts.length > 100 ? 500 : 2), 'texts without separators');
});

/** n strings of 0 to maxParts - 1 pieces drawn from parts by a seeded generator */
function randomStrings(seed: number, parts: string[], n: number, maxParts: number): string[] {
  let x = seed;
  const r = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    let s = '';
    const len = Math.floor(r() * maxParts);
    for (let j = 0; j < len; j++) s += parts[Math.floor(r() * parts.length)];
    out.push(s);
  }
  return out;
}

test('the interface-line test without trimming agrees with the pattern on trimmed lines', () => {
  const parts = ['Read', 'read', 'READ', ' more', ' More', 'Log', 'log', ' in', 'in', 'Login', 'sign', ' up', 'Next', 'home', 'x', 'K', '\u212a', '\u0131', '阅读全文', '首页', '搜索', ' ', '\t', '\u3000', '\u00a0', '»', ':', '：', '>', '.', '!', 'é'];
  const lines = ['', ' ', 'Read more', '  READ MORE »»', '\u3000阅读全文：', 'Login >', 'log in', 'Logout', 'home page', ' Next ', 'next.', ...randomStrings(5, parts, 20000, 5)];
  let matched = 0;
  for (const l of lines) {
    const want = UI_LINE.test(l.trim());
    assert.equal(isUiLine(l), want, JSON.stringify(l));
    if (want) matched++;
  }
  assert.ok(matched > 100 && matched < lines.length / 2, String(matched));
});

test('distinct stop-word ids are counted as a Set of the ids would count them', () => {
  const L = defaultLists();
  const r = (() => { let x = 5; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const shared = sharedTexts(600);
  const texts = [EN, ZH, '', 'the the the and', '的的的了', ...shared.map((x) => x.text)];
  // the default sets, and sets made of ids the texts hold (large ones too: the table grows past one probe run)
  const sets: Set<number>[] = [L.stopEn, L.stopZhChars, new Set<number>()];
  for (const size of [1, 3, 40, 5000]) {
    const f = new DocFeatures(texts[Math.floor(r() * texts.length)]! + EN + ZH, 'zh');
    const distinct = [...new Set(f.ids)];
    const s = new Set<number>();
    while (s.size < Math.min(size, distinct.length)) s.add(distinct[Math.floor(r() * distinct.length)]!);
    sets.push(s);
  }
  let compared = 0;
  for (const t of texts) {
    for (const lang of ['en', 'zh']) {
      const f = new DocFeatures(t, lang);
      for (const set of sets) {
        for (const enough of [1, 2, 5, 1e9]) {
          const want = new Set<number>();
          for (const x of f.ids) if (set.has(x) && want.size < enough) want.add(x);
          assert.equal(f.distinctIn(set, enough), want.size, `${lang} ${set.size} ${enough}: ${JSON.stringify(t.slice(0, 40))}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > (shared.length ? 1000 : 200), String(compared)); // (fewer texts without ../shared/data)
  assert.throws(() => new DocFeatures('a', 'en').distinctIn(new Set([0.5]), 2), /not a unit id/);
});

test('the bounded top n-gram test equals comparing the counted fraction', () => {
  const shared = sharedTexts(800);
  const texts = [EN, ZH, 'the cat the cat the cat sat on the mat the cat', '哈哈哈哈哈哈哈哈哈哈哈哈', ...shared.map((x) => x.text)];
  let fired = 0;
  let skipped = 0;
  for (const t of texts) {
    for (const lang of ['en', 'zh']) {
      for (const max of [0.01, 0.05, 0.1, 0.16, 0.2, 0.5]) {
        const bounded = new DocFeatures(t, lang);
        const counted = new DocFeatures(t, lang);
        for (const n of [2, 3, 4]) {
          const want = counted.topNgramFraction(n) > max;
          const got = bounded.topNgramExceeds(n, max);
          assert.equal(got, want, `n=${n} max=${max} ${lang}: ${JSON.stringify(t.slice(0, 60))}`);
          if (want) fired++;
        }
        // the bound spares the count of longer n-grams on most text
        if ((bounded as unknown as { topCounts: number[] | null }).topCounts?.[4] === undefined) skipped++;
      }
    }
  }
  // (without the shared corpora, ../shared/data, only the four texts above: 48 cases)
  assert.ok(fired > 50 && skipped > (shared.length ? 100 : 20), `${fired} fired, ${skipped} skipped`);
});

test('the short-line rule counts words and Han units as the expressions it was written with', () => {
  const rule = LINE_RULES.find((r) => r.name === 'line.short_no_punct')!;
  const spec = (l: string, p: { minWords: number; minHan: number }): string => {
    const t = l.trim();
    if (!t || TERMINAL.test(t)) return l;
    const han = (t.match(/[\u3400-\u9fff]/g) ?? []).length;
    if (han > 0) return han < p.minHan && t.split(/\s+/).length < p.minWords ? '' : l;
    return t.split(/\s+/).length < p.minWords ? '' : l;
  };
  const r = (() => { let x = 23; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const parts = ['word', 'a', ' ', '  ', '\t', '\u3000', '\u00a0', '中', '文', '㐀', '一', '.', '。', '!', '”', ')', 'x.', '\r', '5'];
  let cut = 0;
  let kept = 0;
  for (let k = 0; k < 20000; k++) {
    let l = '';
    const len = Math.floor(r() * 9);
    for (let j = 0; j < len; j++) l += parts[Math.floor(r() * parts.length)];
    const p = { minWords: Math.floor(r() * 5), minHan: Math.floor(r() * 7) };
    const want = spec(l, p);
    assert.equal(rule.apply(l, p, { multiLine: true }), want, `${JSON.stringify(l)} ${JSON.stringify(p)}`);
    if (want === '' && l.trim()) cut++;
    else kept++;
  }
  assert.ok(cut > 2000 && kept > 2000, `${cut} cut, ${kept} kept`);
});

test('the metadata pattern can start only with the units its shortcut lists', () => {
  // a pattern body's top-level alternatives, and the inside of the group an alternative starts with
  const alternatives = (body: string): string[] => {
    const alts: string[] = [];
    let depth = 0;
    let cur = '';
    for (let i = 0; i < body.length; i++) {
      const ch = body[i]!;
      if (ch === '\\') { cur += ch + body[++i]; continue; }
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === '|' && depth === 0) { alts.push(cur); cur = ''; continue; }
      cur += ch;
    }
    alts.push(cur);
    return alts;
  };
  const leadingGroup = (a: string): string => {
    let d = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === '\\') { i++; continue; }
      if (a[i] === '(') d++;
      if (a[i] === ')' && --d === 0) return a.slice(3, i);
    }
    throw new Error(`unclosed group in ${a}`);
  };
  // the first units of a pattern's alternatives, read from its source: a group gives the first
  // units of its own alternatives, \d the ten digits, a literal its (ASCII lower-cased) unit
  const firstUnits = (body: string): Set<string> => {
    const out = new Set<string>();
    for (const a of alternatives(body)) {
      if (a.startsWith('(?:')) for (const u of firstUnits(leadingGroup(a))) out.add(u);
      else if (a.startsWith('\\d')) for (const d of '0123456789') out.add(d);
      else out.add(a[0]!.toLowerCase());
    }
    return out;
  };
  const src = META_LINE.source;
  assert.ok(src.startsWith('^(?:') && src.endsWith(')'), src);
  const derived = firstUnits(src.slice(4, -1));
  assert.deepEqual([...derived].sort(), [...META_FIRST].map((c) => String.fromCharCode(c)).sort());
  // the first two units the same way: a group's alternatives give theirs (each starts with two
  // literal units), \d{k} with k >= 2 two digits, a literal its first two (the second not optional)
  const firstTwo = (body: string): Set<string> => {
    const out = new Set<string>();
    for (const a of alternatives(body)) {
      if (a.startsWith('(?:')) for (const u of firstTwo(leadingGroup(a))) out.add(u);
      else if (a.startsWith('\\d')) {
        const m = /^\\d\{(\d+)/.exec(a);
        assert.ok(m && Number(m[1]) >= 2, a);
        for (const x of '0123456789') for (const y of '0123456789') out.add(x + y);
      } else {
        assert.ok(!/[\\()[\]?*+{|.]/.test(a.slice(0, 2)) && !'?*{'.includes(a[2] ?? ''), a);
        out.add(a.slice(0, 2).toLowerCase());
      }
    }
    return out;
  };
  assert.deepEqual([...firstTwo(src.slice(4, -1))].sort(), [...META_PAIRS].map((k) => String.fromCharCode(Math.floor(k / 65536), k % 65536)).sort());
  // and on lines: every line the pattern matches starts (trimmed, lower-cased) with one of them, and with one of the pairs
  for (const l of ['Posted by admin', 'PUBLISHED ON Monday', 'Tags: a', 'categories: x', 'Filed under news', '2023-05-06 10:23', '2023年5月6日', '责任编辑：张三', '关键词：一', 'author: x']) {
    assert.ok(META_LINE.test(l), l);
    const [c, c2] = [0, 1].map((k) => { const u = l.charCodeAt(k); return u >= 65 && u <= 90 ? u + 32 : u; });
    assert.ok(META_FIRST.has(c!), l);
    assert.ok(META_PAIRS.has(c! * 65536 + c2!), l);
  }
});

test('IPv6 addresses are masked, and the scan is skipped only on text it cannot match', () => {
  const m = new PiiMask('pii', PII_DEFAULTS);
  const out = m.process(doc('server 2001:db8:85a3:0:0:8a2e:370:7334 and fe80::1ff:fe23:4567:890a, time 10:30:00'), ctx()) as Document;
  assert.equal(out.text, 'server <IP> and <IP>, time 10:30:00');
  const r = (() => { let x = 31; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const parts = ['a', 'f', '0', '9', 'db8', ':', '::', ' ', 'g', '.', '1'];
  let matched = 0;
  for (let k = 0; k < 20000; k++) {
    let t = '';
    const len = Math.floor(r() * 24);
    for (let j = 0; j < len; j++) t += parts[Math.floor(r() * parts.length)];
    IPV6.lastIndex = 0;
    const hit = IPV6.test(t);
    IPV6.lastIndex = 0;
    if (hit) {
      matched++;
      assert.ok(ipv6Possible(t), JSON.stringify(t));
    }
  }
  assert.ok(matched > 500, String(matched));
});

test('the hex-colon test from the colons answers as its pattern does', () => {
  const parts = ['a', 'F', '0', '9', 'db8', 'abcd', 'abcde', ':', '::', ' ', 'g', 'G', '.', '中', '：', '\ud83d'];
  const texts = ['', ':', '::', 'a:', 'a::', ':a:', 'a:b:', 'a:bcde:', 'a:bcd:', 'abcde:f:', 'g:a:', '1:2', ...sharedTexts(300).map((x) => x.text), ...randomStrings(43, parts, 30000, 14)];
  let yes = 0;
  for (const t of texts) {
    const want = HEX_COLONS.test(t);
    assert.equal(hexColons(t), want, JSON.stringify(t.slice(0, 80)));
    if (want) yes++;
  }
  assert.ok(yes > 2000 && yes < texts.length - 2000, String(yes));
});

test('PII masking skips the long-number patterns only where they cannot match: the same text and spans with the shortcut off', () => {
  const m = new PiiMask('pii', PII_DEFAULTS);
  const r = (() => { let x = 77; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const parts = ['0', '1', '3', '8', '9', '5', '12', '138', '86', '+', '(', ')', ' ', '-', '.', 'X', 'a', '中', '\n', '@', 'x.com', '110105199003071234', '4111 1111 1111 1111', '13812345678', '(555) 123-4567', '+44 20 7946 0958', '010-12345678', '555-123-4567', '021-1234567'];
  const shared = sharedTexts(600);
  const texts: string[] = [...shared.map((x) => x.text)];
  for (let k = 0; k < 20000; k++) {
    let t = '';
    const len = 1 + Math.floor(r() * 30);
    for (let j = 0; j < len; j++) t += parts[Math.floor(r() * parts.length)];
    texts.push(t);
  }
  let masked = 0;
  let skipped = 0;
  let fewDigits = 0;
  const TEN = /\d(?:[ -]?\d){9}/;
  for (const t of texts) {
    const on: string[] = [];
    const off: string[] = [];
    filterShortcuts.on = false;
    let want: string;
    try {
      want = m.mask(t, (rule, span) => off.push(`${rule}:${span}`));
    } finally {
      filterShortcuts.on = true;
    }
    const got = m.mask(t, (rule, span) => on.push(`${rule}:${span}`));
    assert.equal(got, want, JSON.stringify(t));
    assert.deepEqual(on, off, JSON.stringify(t));
    // and as in a run, the text scanned by the document filter just before (its digit count read)
    const feats = new DocFeatures(t, 'zh');
    assert.ok(digitsOf(t) === feats.digits || (digitsOf(t) === -1 && feats.navMarks === -1));
    if (digitsOf(t) >= 0 && digitsOf(t) < 10) fewDigits++;
    const scanned: string[] = [];
    assert.equal(m.mask(t, (rule, span) => scanned.push(`${rule}:${span}`)), want, JSON.stringify(t));
    assert.deepEqual(scanned, off, JSON.stringify(t));
    if (got !== t) masked++;
    if (/\d{3}/.test(t) && !TEN.test(t)) skipped++;
  }
  // (without the shared corpora, ../shared/data, only the 20,000 generated texts)
  assert.ok(masked > 2000 && skipped > (shared.length ? 1000 : 500), `${masked} masked, ${skipped} skipped`);
  assert.ok(fewDigits > 1000, `${fewDigits} texts with fewer than ten digits`);
});
