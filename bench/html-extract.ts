/**
 * bench/html-extract: how much of the text to keep is kept, and how much of the
 * text to remove is removed, on ../shared/data/web-html (trafilatura's
 * evaluation pages) against its evaldata.json, plus pages/s.
 *
 *   node dist/bench/html-extract.js
 *
 * The peer (trafilatura) is Python and cannot be installed here; its published
 * scores on its own benchmark are quoted in the README, not measured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlToText } from '../src/io/html.js';
import { decodeBytes } from '../src/io/decode.js';
import { sniffHtmlCharset } from '../src/io/html.js';
import { SHARED } from './corpus.js';

export interface HtmlScore { pages: number; keepTotal: number; keepFound: number; removeTotal: number; removeGone: number; seconds: number; bytes: number }

function norm(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function scoreHtml(dir = join(SHARED, 'web-html'), limit = Infinity): HtmlScore | null {
  const evalFile = join(dir, 'evaldata.json');
  if (!existsSync(evalFile)) return null;
  const data = JSON.parse(readFileSync(evalFile, 'utf8')) as Record<string, { file: string; with?: string[]; without?: string[] }>;
  const r: HtmlScore = { pages: 0, keepTotal: 0, keepFound: 0, removeTotal: 0, removeGone: 0, seconds: 0, bytes: 0 };
  for (const e of Object.values(data)) {
    if (r.pages >= limit) break;
    const p = [join(dir, 'cache', e.file), join(dir, 'eval', e.file)].find((x) => existsSync(x));
    if (!p) continue;
    const raw = readFileSync(p);
    const html = decodeBytes(raw, sniffHtmlCharset(raw.subarray(0, 4096).toString('latin1'))).text;
    const t0 = performance.now();
    const text = norm(htmlToText(html));
    r.seconds += (performance.now() - t0) / 1000;
    r.bytes += raw.length;
    r.pages++;
    for (const w of e.with ?? []) {
      r.keepTotal++;
      if (text.includes(norm(w))) r.keepFound++;
    }
    for (const w of e.without ?? []) {
      r.removeTotal++;
      if (!text.includes(norm(w))) r.removeGone++;
    }
  }
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = scoreHtml();
  if (!r) {
    process.stdout.write(`bench/html-extract: skipped: ${join(SHARED, 'web-html')} not found\n`);
    process.stdout.write(JSON.stringify({ name: 'html_extract', skipped: true }) + '\n');
  } else {
    const keep = r.keepFound / r.keepTotal;
    const remove = r.removeGone / r.removeTotal;
    const f1 = (2 * keep * remove) / (keep + remove);
    process.stdout.write(`pages ${r.pages}: kept ${r.keepFound}/${r.keepTotal} snippets to keep (${(100 * keep).toFixed(1)}%), removed ${r.removeGone}/${r.removeTotal} snippets to remove (${(100 * remove).toFixed(1)}%), harmonic mean ${(100 * f1).toFixed(1)}%; ${(r.pages / r.seconds).toFixed(0)} pages/s, ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s\n`);
    process.stdout.write(JSON.stringify({ name: 'html_extract_keep_remove', value: Number((100 * f1).toFixed(1)), unit: '% (harmonic mean of kept and removed)', keep_pct: Number((100 * keep).toFixed(1)), remove_pct: Number((100 * remove).toFixed(1)), pages: r.pages, pages_per_s: Math.round(r.pages / r.seconds), peer: 'trafilatura (not installable here)', peer_value: null, ratio: null }) + '\n');
  }
}
