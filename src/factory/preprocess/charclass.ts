/** One lookup table over the BMP, built once, that the normaliser and the statistics share. */
export const enum CC {
  Keep = 0,
  Control = 1, // C0/C1 controls except \t \n
  Format = 2, // zero-width, bidi and other invisible format characters
  PrivateUse = 3,
  Emoji = 4, // pictographs, dingbats, variation selectors
  FoldWidth = 5, // full-width ASCII letters, digits and symbols folded to ASCII
  Junk = 6, // box drawing, block elements, specials
  NeedsNfc = 7, // combining marks and CJK compatibility ideographs
  Space = 8, // exotic spaces folded to U+0020
}

let table: Uint8Array | null = null;

export function charTable(): Uint8Array {
  if (table) return table;
  const t = new Uint8Array(65536);
  const pict = /\p{Extended_Pictographic}/u;
  for (let c = 0; c < 65536; c++) {
    if (c === 9 || c === 10) continue;
    if (c < 32 || (c >= 0x7f && c <= 0x9f)) t[c] = CC.Control;
    else if ((c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c === 0xfeff || c === 0x00ad || c === 0x180e || (c >= 0xfff9 && c <= 0xfffb)) t[c] = CC.Format;
    else if (c >= 0xe000 && c <= 0xf8ff) t[c] = CC.PrivateUse;
    else if ((c >= 0xfe00 && c <= 0xfe0f) || c === 0x20e3) t[c] = CC.Emoji;
    else if (c >= 0xd800 && c <= 0xdfff) t[c] = CC.Keep; // surrogates: handled by the caller
    else if (c === 0x00a9 || c === 0x00ae || c === 0x2122 || (c >= 0x2190 && c <= 0x21ff)) t[c] = CC.Keep;
    else if (pict.test(String.fromCharCode(c))) t[c] = CC.Emoji;
    else if ((c >= 0x2500 && c <= 0x259f) || (c >= 0xfff0 && c <= 0xfffc) || (c >= 0x2800 && c <= 0x28ff)) t[c] = CC.Junk;
    else if ((c >= 0xff10 && c <= 0xff19) || (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a) || [0xff03, 0xff04, 0xff05, 0xff06, 0xff0a, 0xff0b, 0xff0d, 0xff0f, 0xff1c, 0xff1d, 0xff1e, 0xff20, 0xff3b, 0xff3c, 0xff3d, 0xff3e, 0xff3f, 0xff40, 0xff5b, 0xff5c, 0xff5d].includes(c)) t[c] = CC.FoldWidth;
    else if (c === 0x00a0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x0085) t[c] = CC.Space;
    else if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f) || (c >= 0xf900 && c <= 0xfaff)) t[c] = CC.NeedsNfc;
  }
  t[13] = CC.Control; // \r is handled before the table
  table = t;
  return t;
}

export function isHan(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2ebef);
}

/** Chinese / CJK punctuation that ends a sentence or clause. */
export const CJK_TERMINAL = new Set(['。', '！', '？', '…', '」', '』', '”', '；']);

/** Whether the normaliser has to look at the unit x: not kept as it is by the table (\t and \n are), or a high surrogate. */
function needsLook(t: Uint8Array, x: number): boolean {
  return (t[x] !== CC.Keep && x !== 9 && x !== 10) || (x >= 0xd800 && x <= 0xdbff);
}

let specialT: Uint8Array | null = null;
/** specialChars() as a table: 1 for the units it matches. */
export function specialTable(): Uint8Array {
  if (specialT) return specialT;
  const t = charTable();
  const out = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) if (needsLook(t, c)) out[c] = 1;
  return (specialT = out);
}

let special: RegExp | null = null;
/**
 * Matches the first code unit the normaliser has to look at: anything not kept as it is by the
 * table (controls and \r included) and every high surrogate. Text without one needs no pass.
 */
export function specialChars(): RegExp {
  if (special) return special;
  const t = charTable();
  const hex = (c: number) => '\\u' + c.toString(16).padStart(4, '0');
  const needs = (x: number) => needsLook(t, x);
  const ranges: string[] = [];
  let c = 0;
  while (c < 65536) {
    if (!needs(c)) {
      c++;
      continue;
    }
    let e = c;
    while (e + 1 < 65536 && needs(e + 1)) e++;
    ranges.push(e === c ? hex(c) : `${hex(c)}-${hex(e)}`);
    c = e + 1;
  }
  special = new RegExp(`[${ranges.join('')}]`);
  return special;
}
