import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Normalize, NORMALIZE_DEFAULTS, normalizeText, spaceBeforeNewline } from '../src/factory/preprocess/normalize.js';
import { CC, charTable, specialChars, specialTable } from '../src/factory/preprocess/charclass.js';
import { textKernels } from '../src/factory/filter/features.js';
import { Encoding, ENCODING_DEFAULTS, repairGbkMojibake, repairLatinMojibake } from '../src/factory/preprocess/encoding.js';
import { TraditionalToSimplified } from '../src/factory/preprocess/t2s.js';
import { identifyLanguage, LanguageId } from '../src/factory/preprocess/langid.js';
import { HtmlExtract } from '../src/factory/preprocess/html.js';
import { isDrop, type Drop } from '../src/core/step.js';
import type { Document } from '../src/core/document.js';
import { ctx, doc, sharedTexts } from './helpers.js';

const text = (r: Document | Drop) => {
  assert.ok(!isDrop(r), `dropped by ${(r as Drop).rule}`);
  return (r as Document).text;
};

test('normalize folds full-width letters and digits but keeps Chinese punctuation', () => {
  const n = new Normalize('normalize', NORMALIZE_DEFAULTS);
  assert.equal(text(n.process(doc('ＡＩ技术在２０２３年发展迅速（ＣＨＡＴＧＰＴ），真好！'), ctx())), 'AI技术在2023年发展迅速（CHATGPT），真好！');
});

test('normalize removes controls, invisible characters, private use, emoji and box drawing, and reports each', () => {
  const n = new Normalize('normalize', NORMALIZE_DEFAULTS);
  const c = ctx();
  const out = text(n.process(doc('Hello\u0007 wor\u200bld \ue000🎉👍🏽 ok ═══ done\r\nnext\u00a0line'), c));
  assert.equal(out, 'Hello world  ok  done\nnext line');
  const rules = new Set(c.cuts.map((x) => x.rule));
  for (const r of ['normalize.control_chars', 'normalize.invisible_format', 'normalize.private_use', 'normalize.emoji_symbols', 'normalize.junk_symbols']) assert.ok(rules.has(r), r);
});

test('normalize applies NFC and drops documents left empty', () => {
  const n = new Normalize('normalize', NORMALIZE_DEFAULTS);
  assert.equal(text(n.process(doc('Cafe\u0301'), ctx())), 'Café');
  const r = n.process(doc('\u200b\u200b🎉'), ctx());
  assert.ok(isDrop(r) && r.rule === 'normalize.empty');
});

test('encoding repairs UTF-8 read as Windows-1252 and as GBK', () => {
  const latin = Buffer.from('naïve café — “quoted”', 'utf8').toString('latin1').replace(/\u0080-\u009f/g, '');
  assert.equal(repairLatinMojibake('The cafÃ© serves crÃ¨me brÃ»lÃ©e.').text, 'The café serves crème brûlée.');
  assert.ok(latin.length > 0);
  const zh = '我们的数据是高质量的中文文本，经过了认真的清洗。';
  const moji = new TextDecoder('gbk').decode(Buffer.from(zh + '好', 'utf8'));
  const fixed = repairGbkMojibake(moji);
  if (fixed !== null) assert.equal(fixed, zh + '好');
  const e = new Encoding('encoding', ENCODING_DEFAULTS);
  const c = ctx();
  assert.equal(text(e.process(doc('The cafÃ© serves crÃ¨me brÃ»lÃ©e every day.'), c)), 'The café serves crème brûlée every day.');
  assert.deepEqual(c.cuts.map((x) => x.rule), ['encoding.mojibake_repaired']);
});

test('encoding rejects text with many invalid bytes and strips a few', () => {
  const e = new Encoding('encoding', ENCODING_DEFAULTS);
  const r = e.process(doc('ab\ufffd\ufffd\ufffdcd\ufffd'), ctx());
  assert.ok(isDrop(r) && r.rule === 'encoding.invalid_utf8');
  const long = 'x'.repeat(1000) + '\ufffd' + 'y'.repeat(1000);
  assert.equal(text(e.process(doc(long), ctx())), 'x'.repeat(1000) + 'y'.repeat(1000));
});

test('Traditional to Simplified conversion only touches Traditional text', () => {
  const t = new TraditionalToSimplified('t2s', { from: 't' });
  const c = ctx();
  assert.equal(text(t.process(doc('聞道收宗廟，鳴鑾自陝歸。'), c)), '闻道收宗庙，鸣銮自陕归。');
  assert.equal(c.cuts.length, 1);
  const simple = doc('这是简体中文。');
  assert.equal(t.process(simple, ctx()), simple);
});

test('language identification: Chinese with English terms stays Chinese; English, French, Japanese, Russian', () => {
  assert.equal(identifyLanguage('我们使用 PyTorch 和 CUDA 训练了一个 Transformer 模型，在 GPU 集群上运行了三天，效果非常好。').language, 'zh');
  assert.equal(identifyLanguage('The committee will review the proposal and report back to the board next week.').language, 'en');
  assert.equal(identifyLanguage("Le conseil municipal a annoncé que les travaux sur le pont dureront encore deux mois.").language, 'fr');
  assert.equal(identifyLanguage('町は雨の中で目を覚ました。住民たちはいつものように一日を始めた。').language, 'ja');
  assert.equal(identifyLanguage('Город проснулся под дождём. Жители начали свой день как обычно.').language, 'ru');
  assert.equal(identifyLanguage('An English article that quotes 一句中文 once stays English because most of it is English text.').language, 'en');
});

test('LanguageId keeps zh and en, records the language, drops the rest', () => {
  const l = new LanguageId('langid', { keep: ['zh', 'en'], minScore: 0.3 });
  const r = l.process(doc('这是一段很普通的中文文本，用来测试语言识别。'));
  assert.ok(!isDrop(r) && r.meta.language === 'zh');
  const f = l.process(doc('Der Stadtrat hat angekündigt, dass die Arbeiten an der Brücke noch zwei Monate dauern werden.'));
  assert.ok(isDrop(f) && f.rule === 'langid.not_kept');
});

test('html_extract turns HTML records into main text and leaves other documents alone', () => {
  const h = new HtmlExtract('html_extract', { detect: true });
  const page = '<html><head><title>t</title><script>var a=1;</script></head><body><nav><a href="/">Home</a> | <a href="/x">News</a></nav><article><h1>Headline here</h1><p>' + 'This is the article body, with enough words to count as content. '.repeat(4) + '</p></article><footer>Copyright 2024. All rights reserved.</footer></body></html>';
  const out = text(h.process(doc(page, { contentType: 'text/html' }), ctx()));
  assert.match(out, /^Headline here\nThis is the article body/);
  assert.doesNotMatch(out, /Home|Copyright|var a/);
  const plain = doc('just text');
  assert.equal(h.process(plain, ctx()), plain);
});

test('the normaliser starts at the first unit the table does not keep: its pattern covers exactly those units', () => {
  const t = charTable();
  const re = specialChars();
  for (let c = 0; c < 65536; c++) {
    const expected = (t[c] !== CC.Keep && c !== 9 && c !== 10) || (c >= 0xd800 && c <= 0xdbff);
    if (re.test(String.fromCharCode(c)) !== expected) assert.fail(`U+${c.toString(16)}: pattern ${!expected} but table ${expected}`);
  }
  // and the output is what a pass from the first unit gives
  const n = new Normalize('normalize', NORMALIZE_DEFAULTS);
  const c = ctx();
  const out = n.process(doc('plain ascii text, nothing to do\nsecond line'), c);
  assert.equal((out as Document).text, 'plain ascii text, nothing to do\nsecond line');
  const out2 = n.process(doc('前面没有特殊字符ＡＢＣ\u200b１２３😀尾'), c);
  assert.equal((out2 as Document).text, '前面没有特殊字符ABC123尾');
});

test('the normaliser visiting only the units that need a look equals a visit of every unit', () => {
  const everyUnit = new Uint8Array(65536).fill(1);
  const special = specialTable();
  const re = specialChars();
  for (let c = 0; c < 65536; c++) if (Boolean(special[c]) !== re.test(String.fromCharCode(c))) assert.fail(`U+${c.toString(16)}: table and pattern differ`);
  const r = (() => { let x = 11; return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32); })();
  const parts = ['a', 'Z', ' ', '\n', '\t', '\r', '\r\n', '\u0000', '\u0007', '\u007f', '\u0085', '\u00a0', '\u00ad', '\u200b', '\u202e', '\ufeff', '\ue000', '\uf8ff',
    '\ufe0f', '\u20e3', '😀', '🇨🇳', '\u{e0041}', '\u{f0000}', '\u{2f800}', '\u{20000}', '\ud800', '\udc00', '\u2500', '\u2800', '\ufff0', 'Ａ', '１', '＃', '，', '。',
    '\u3000', '\u2003', '\u2028', '\u2029', 'e\u0301', '\uf900', '中', '文', ' \n', '\n\n\n', '©', '™'];
  const texts: string[] = ['', ' ', '\r', '😀', 'plain text'];
  for (let k = 0; k < 3000; k++) {
    let t = '';
    const len = Math.floor(r() ** 2 * 60);
    for (let j = 0; j < len; j++) t += parts[Math.floor(r() * parts.length)];
    texts.push(t);
  }
  texts.push(...sharedTexts(300).map((x) => x.text));
  const configs = [NORMALIZE_DEFAULTS, { ...NORMALIZE_DEFAULTS, removeEmoji: false, foldFullWidth: false, removeControl: false }];
  const saved = textKernels.native;
  try {
    for (const kernels of saved ? [saved, null] : [null]) {
      textKernels.native = kernels;
      for (const cfg of configs) for (const t of texts) assert.deepEqual(normalizeText(t, cfg, special), normalizeText(t, cfg, everyUnit), JSON.stringify(t));
    }
  } finally {
    textKernels.native = saved;
  }
});

test('spaceBeforeNewline equals /[ \\t]\\n/ on 20,000 random strings', () => {
  let x = 5;
  const r = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pool = [' ', '\t', '\n', 'a', '中', '\r', '\u3000', '\n\n'];
  let yes = 0;
  for (let k = 0; k < 20000; k++) {
    const t = Array.from({ length: Math.floor(r() * 12) }, () => pool[Math.floor(r() * pool.length)]).join('');
    const want = /[ \t]\n/.test(t);
    assert.equal(spaceBeforeNewline(t), want, JSON.stringify(t));
    if (want) yes++;
  }
  assert.ok(yes > 3000 && yes < 17000, String(yes));
});
