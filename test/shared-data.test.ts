/** Checks on real data from ../shared/data; each skips with a message when its folder is absent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { scoreHtml } from '../bench/html-extract.js';
import { identifyLanguage } from '../src/factory/preprocess/langid.js';
import { sharedDocs } from '../bench/corpus.js';
import { SHARED } from './helpers.js';

const webHtml = join(SHARED, 'web-html');
test('HTML extraction keeps at least 80% of the text to keep and removes at least 85% of the text to remove (web-html evaldata)', { skip: !existsSync(webHtml) && `${webHtml} absent` }, () => {
  const r = scoreHtml(webHtml)!;
  assert.ok(r.pages >= 200, `${r.pages} pages`);
  const keep = r.keepFound / r.keepTotal;
  const remove = r.removeGone / r.removeTotal;
  assert.ok(keep >= 0.8, `kept ${(100 * keep).toFixed(1)}%`);
  assert.ok(remove >= 0.85, `removed ${(100 * remove).toFixed(1)}%`);
});

const lid = join(SHARED, 'fasttext-lid176/whatthelang/model/lid.176.ftz');
test('language identification agrees with fastText lid.176 on at least 95% of a sample of the shared corpora', { skip: (!existsSync(lid) || !existsSync(join(SHARED, 'uer-py-zh-corpora'))) && 'fastText model or corpora absent' }, async () => {
  const { getLIDModel } = await import('fasttext.wasm.js');
  const m = await getLIDModel({ modelPath: pathToFileURL(lid).href });
  await m.load();
  const bucket = (l: string | null) => (l === 'zh' || l === 'en' ? l : 'other');
  let n = 0;
  let agree = 0;
  let i = 0;
  for (const d of sharedDocs()) {
    if (i++ % 17) continue; // a deterministic ~6% sample
    const ft = bucket((await m.identify(d.text.replace(/\n/g, ' ').slice(0, 4000))).alpha2);
    const ours = bucket(identifyLanguage(d.text).language);
    n++;
    if (ft === ours) agree++;
  }
  assert.ok(n > 1000, `${n} documents`);
  assert.ok(agree / n >= 0.95, `agreement ${(100 * agree / n).toFixed(2)}% on ${n}`);
});

const trad = join(SHARED, 'drcd-zhwiki-trad/DRCD_dev.json');
test('Traditional Wikipedia paragraphs (DRCD) come out Simplified', { skip: !existsSync(trad) && `${trad} absent` }, async () => {
  const { TraditionalToSimplified } = await import('../src/factory/preprocess/t2s.js');
  const t = new TraditionalToSimplified('t2s', { from: 't' });
  const d = JSON.parse(readFileSync(trad, 'utf8')) as { data: { paragraphs: { context: string }[] }[] };
  let before = 0;
  let after = 0;
  for (const a of d.data.slice(0, 50)) for (const p of a.paragraphs) {
    before += t.traditionalCount(p.context);
    const r = t.process({ id: 'x', text: p.context, meta: { source: 't' } }, { cut: () => {} });
    after += t.traditionalCount(r.text);
  }
  assert.ok(before > 1000, `${before} Traditional characters`);
  assert.ok(after / before < 0.01, `${after} of ${before} left`);
});

test('our OpenCC converter gives the same Simplified text as opencc-js (t, tw, hk) on DRCD and Tang poems', { skip: !existsSync(trad) && `${trad} absent` }, async () => {
  const OpenCC = await import('opencc-js');
  const { toSimplified } = await import('../src/factory/preprocess/opencc.js');
  const texts: string[] = [];
  const d = JSON.parse(readFileSync(trad, 'utf8')) as { data: { paragraphs: { context: string }[] }[] };
  for (const a of d.data) for (const p of a.paragraphs) texts.push(p.context);
  const tang = join(SHARED, 'chinese-poetry/全唐诗/poet.tang.0.json');
  if (existsSync(tang)) for (const p of JSON.parse(readFileSync(tang, 'utf8')) as { paragraphs: string[] }[]) texts.push(p.paragraphs.join(''));
  for (const from of ['t', 'tw', 'hk'] as const) {
    const ref = OpenCC.Converter({ from, to: 'cn' }) as (s: string) => string;
    const ours = toSimplified(from);
    const diff = texts.filter((t) => ref(t) !== ours(t)).length;
    assert.equal(diff, 0, `${from}: ${diff} of ${texts.length} texts differ`);
  }
});
