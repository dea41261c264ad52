/**
 * UTF-8 decoding as SentencePiece does it: every byte that does not start a
 * valid sequence (overlong forms, surrogates, code points above U+10FFFF,
 * truncated sequences) becomes one U+FFFD and decoding resumes at the next byte.
 */
export function decodeUtf8Spm(b: Uint8Array, start = 0, end = b.length): string {
  let out = '';
  let run = start; // start of a run of ASCII/valid bytes not yet appended
  let i = start;
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  const flush = (to: number) => {
    if (to > run) out += dec.decode(b.subarray(run, to));
  };
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    let need = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; }
    let ok = need > 0 && i + need < end + 0 + 1 && i + need <= end - 0;
    let cp = need === 1 ? c & 0x1f : need === 2 ? c & 0x0f : c & 0x07;
    if (ok) {
      for (let k = 1; k <= need; k++) {
        const d = b[i + k]!;
        if ((d & 0xc0) !== 0x80) { ok = false; break; }
        cp = (cp << 6) | (d & 0x3f);
      }
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok) { i += need + 1; continue; }
    flush(i);
    out += '\ufffd';
    i++;
    run = i;
  }
  flush(end);
  return out;
}
