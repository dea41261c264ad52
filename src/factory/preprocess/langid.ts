/**
 * Language identification for the zh/en factory: a script census (Han,
 * kana, Hangul, Cyrillic, …) decides the writing system, and function-word
 * profiles decide among Latin-script languages. Han characters are weighed
 * against Latin words, so a Chinese page with English terms stays Chinese.
 * Agreement with fastText lid.176 is measured by bench/langid.
 */
import { withMeta, type Document } from '../../core/document.js';
import { drop, type DocStep, type Drop } from '../../core/step.js';
import { K, kindTable, textKernels, wordHash } from '../filter/features.js';
import { arg, argSlot } from '../../native/index.js';

const PROFILES: Record<string, string> = {
  en: 'the of and to in is that for it was on with as be by at this are from or his have an not but which they you he we had has were their been its one all would can there her more if will who so what when out also into them these than about some only other my me do any may no',
  fr: 'le la les de des du et est en un une que qui dans pour pas sur au aux ce il elle par plus sont avec ne se son sa ses nous vous mais ou été être cette comme tout',
  de: 'der die das und ist in den von zu mit sich des auf für nicht ein eine dem im auch es an als werden aus er hat dass sie nach wird bei einer um noch wie einem über so zum war',
  es: 'el la de que y en los del se las por un para con no una su al es lo como más pero sus le ya o fue este ha sí porque esta son entre cuando muy sin sobre también',
  pt: 'de a o que e do da em um para com não uma os no se na por mais as dos como mas ao ele das à seu sua ou quando muito nos já eu também só pelo pela até isso',
  it: 'di e il la che in per un del della è non con una sono le da si dei al nel lo gli come anche più ma alla delle questo nella ha ci se degli sua suo',
  nl: 'de het een van en in is dat op te zijn voor met die niet aan er om ook als bij of door maar naar dan wordt nog uit hij tot wel',
  id: 'yang dan di ini itu dengan untuk tidak dari dalam akan pada juga ke karena ada atau oleh saya mereka kita bisa sudah hanya lebih',
  pl: 'i w na z do nie się że to jest o jak po co ale od za tak jego przez są dla być który może już tylko jej',
  tr: 've bir bu da de için ile olarak daha çok gibi en ne ama olan kadar sonra değil her ki var',
  vi: 'và của là có được các cho một trong những không với người đã này khi đến để từ như nhiều',
  sv: 'och i att det som en på är av för med till den har de inte om ett men var jag',
};
/** word hash -> bit mask of the profiles it belongs to */
const profileBits = new Map<number, number>();
const LANGS = Object.keys(PROFILES);
LANGS.forEach((lang, b) => {
  for (const w of PROFILES[lang]!.split(' ')) profileBits.set(wordHash(w), (profileBits.get(wordHash(w)) ?? 0) | (1 << b));
});

/** profileBits as an open-addressed table for the native vote (slot = Fibonacci hash of the word hash; 0 = free) */
const profileTable = (() => {
  let size = 1;
  while (size < profileBits.size * 4) size <<= 1;
  const keys = new Int32Array(size);
  const bits = new Int32Array(size);
  for (const [key, b] of profileBits) {
    let j = (Math.imul(key, 0x9e3779b1) >>> 11) & (size - 1);
    while (keys[j] !== 0) j = (j + 1) & (size - 1);
    keys[j] = key;
    bits[j] = b;
  }
  return { keys, bits };
})();

/** The function-word vote (reference of the native latinVotes): counts[b] += 1 per profile word of language b; returns the words seen. */
export function latinVotesRef(s: string, kt: Uint8Array, maxWords: number, counts: Int32Array): number {
  counts.fill(0);
  let words = 0;
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i <= s.length && words < maxWords; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    const k = kt[c]!;
    if (k === K.Letter || k === K.Mark || c === 39 || c === 0x2019) {
      h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
      inWord = true;
    } else if (inWord) {
      words++;
      const bits = profileBits.get((h & 0x3fffffff) | 0x40000000);
      if (bits) for (let b = 0; b < counts.length; b++) if (bits & (1 << b)) counts[b]!++;
      h = 0x811c9dc5;
      inWord = false;
    }
  }
  return words;
}

/** The function-word vote over s (up to 3,000 words) with whichever implementation is switched on: counts per language (LANGS order), words seen. */
export function functionWordVotes(s: string, counts: Int32Array): number {
  const nk = textKernels.native;
  const kt = kindTable();
  return nk ? nk.latinVotes(s, s.length, arg(nk, kt, slots.kinds), arg(nk, profileTable.keys, slots.keys), arg(nk, profileTable.bits, slots.bits), 3000, counts === votes ? arg(nk, counts, slots.votes) : counts) : latinVotesRef(s, kt, 3000, counts);
}

let scripts: Uint8Array | null = null;
/** Script of every BMP code unit: 0 none, 1 Han, 2 kana, 3 Hangul, 4 Latin, 5 Cyrillic, 6 Greek, 7 Arabic, 8 Hebrew, 9 Indic, 10 Thai, 11 other letters. */
function scriptTable(): Uint8Array {
  if (scripts) return scripts;
  const t = new Uint8Array(65536);
  const kt = kindTable();
  for (let c = 0; c < 65536; c++) {
    if ((c | 32) >= 97 && (c | 32) <= 122 && c < 128) t[c] = 4;
    else if (c < 0x80) t[c] = 0;
    else if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff)) t[c] = 1;
    else if (c >= 0x3040 && c <= 0x30ff) t[c] = 2;
    else if (c >= 0xac00 && c <= 0xd7af) t[c] = 3;
    else if ((c >= 0x00c0 && c <= 0x024f && c !== 0xd7 && c !== 0xf7) || (c >= 0x1e00 && c <= 0x1eff)) t[c] = 4;
    else if (c >= 0x0400 && c <= 0x04ff) t[c] = 5;
    else if (c >= 0x0370 && c <= 0x03ff) t[c] = 6;
    else if (c >= 0x0600 && c <= 0x06ff) t[c] = 7;
    else if (c >= 0x0590 && c <= 0x05ff) t[c] = 8;
    else if (c >= 0x0900 && c <= 0x0dff) t[c] = 9;
    else if (c >= 0x0e00 && c <= 0x0e7f) t[c] = 10;
    else if (kt[c] === K.Letter) t[c] = 11;
  }
  scripts = t;
  return t;
}

export interface LangGuess {
  language: string;
  score: number;
}


// long-lived arrays for the kernels (a fresh small typed array handed to native code costs as much as the call)
const census = new Int32Array(12);
const votes = new Int32Array(LANGS.length);
/** the native kernels' numbers for the long-lived arrays here */
const slots = { kinds: argSlot(), keys: argSlot(), bits: argSlot(), votes: argSlot(), scripts: argSlot(), census: argSlot() };

export function identifyLanguage(text: string, maxChars = 8000): LangGuess {
  const s = text.length > maxChars ? text.slice(0, maxChars) : text;
  const kt = kindTable();
  const st = scriptTable();
  const cnt = census.fill(0);
  const nk = textKernels.native;
  if (nk) nk.scriptCensus(s, maxChars, arg(nk, st, slots.scripts), arg(nk, cnt, slots.census));
  else {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd840 && c <= 0xd87e) {
        cnt[1]!++; // Han extension B+ (surrogate pair)
        i++;
      } else cnt[st[c]!]!++;
    }
  }
  const han = cnt[1]!, kana = cnt[2]!, hangul = cnt[3]!, latin = cnt[4]!, cyr = cnt[5]!, greek = cnt[6]!, arabic = cnt[7]!, hebrew = cnt[8]!, indic = cnt[9]!, thai = cnt[10]!, other = cnt[11]!;
  // Han characters against Latin letters: one Han character carries about as much as a 4-letter word
  const latinUnits = latin / 4.5;
  const cjk = han + kana;
  const total = cjk + hangul + latinUnits + (cyr + greek + arabic + hebrew + indic + thai + other) / 4.5;
  if (total < 1) return { language: 'unknown', score: 0 };
  if (kana > 0 && kana >= 0.08 * cjk && cjk >= 0.3 * total) return { language: 'ja', score: cjk / total };
  if (hangul >= 0.3 * total) return { language: 'ko', score: hangul / total };
  if (han >= 0.3 * total) return { language: 'zh', score: Math.min(1, han / total + 0.3) };
  const scripts: [string, number][] = [['ru', cyr], ['el', greek], ['ar', arabic], ['he', hebrew], ['hi', indic], ['th', thai]];
  for (const [lang, n] of scripts) if (n / 4.5 >= 0.5 * total) return { language: lang, score: n / 4.5 / total };
  if (latinUnits < 0.5 * total) return { language: 'unknown', score: 0 };
  // Latin script: vote with function words
  const counts = votes;
  const words = functionWordVotes(s, counts);
  let best = 'en';
  let bestN = 0;
  for (let b = 0; b < counts.length; b++) {
    if (counts[b]! > bestN) {
      best = LANGS[b]!;
      bestN = counts[b]!;
    }
  }
  const en = counts[0]!;
  if (bestN === 0) return { language: latin > 0 && other === 0 ? 'en' : 'unknown', score: 0.2 };
  const ratio = bestN / words;
  return { language: best, score: Math.min(1, 0.4 + ratio * 1.5) * (best === 'en' ? 1 : 1 - en / (bestN + en)) };
}

export interface LangIdConfig {
  keep: string[];
  minScore: number;
}

export class LanguageId implements DocStep {
  readonly rules = ['langid.not_kept', 'langid.low_confidence'] as const;
  private keep: Set<string>;
  constructor(readonly name: string, private cfg: LangIdConfig) {
    this.keep = new Set(cfg.keep);
  }
  process(doc: Document): Document | Drop {
    const g = identifyLanguage(doc.text);
    const out = { ...doc, meta: withMeta(doc.meta, { language: g.language, languageScore: Math.round(g.score * 1000) / 1000 }) };
    if (this.keep.size && !this.keep.has(g.language)) return drop('langid.not_kept');
    if (g.score < this.cfg.minScore) return drop('langid.low_confidence');
    return out;
  }
}
