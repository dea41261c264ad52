import type { Document } from '../../core/document.js';
import type { DocStep, StepContext, Drop } from '../../core/step.js';
import { drop } from '../../core/step.js';
import { CC, charTable, specialTable } from './charclass.js';
import { unitPositions } from '../filter/features.js';
import { argSlot } from '../../native/index.js';

/** the native scan's number for the special table (the default look table) */
const specialSlot = argSlot();

export interface NormalizeConfig {
  removeControl: boolean;
  removeFormat: boolean;
  removePrivateUse: boolean;
  removeEmoji: boolean;
  removeJunkSymbols: boolean;
  foldFullWidth: boolean;
  collapseBlankLines: boolean;
}

export const NORMALIZE_DEFAULTS: NormalizeConfig = {
  removeControl: true, removeFormat: true, removePrivateUse: true, removeEmoji: true, removeJunkSymbols: true, foldFullWidth: true, collapseBlankLines: true,
};

const RULES = ['normalize.control_chars', 'normalize.invisible_format', 'normalize.private_use', 'normalize.emoji_symbols', 'normalize.junk_symbols', 'normalize.empty'] as const;

/**
 * Unicode standardisation in one pass: strips control, invisible, private-use,
 * emoji and junk characters, folds full-width ASCII letters/digits/symbols and
 * exotic spaces while keeping Chinese punctuation (，。！？：；（）) as it is,
 * applies NFC only where combining marks or compatibility ideographs occur.
 */
export class Normalize implements DocStep {
  readonly rules = RULES;
  constructor(readonly name: string, private cfg: NormalizeConfig) {}

  process(doc: Document, ctx: StepContext): Document | Drop {
    const { text, removed } = normalizeText(doc.text, this.cfg, specialTable());
    for (let b = 0; b < 5; b++) if (removed[b]!.length) ctx.cut(RULES[b]!, doc, removed[b]!.join(''));
    if (!text) return drop('normalize.empty');
    if (text === doc.text) return doc;
    return { ...doc, text };
  }
}

/**
 * The normalised text and what each of the five removal rules took out of it. Only the units
 * marked in `look` are examined (every other unit is kept as it is): specialTable() marks
 * exactly the units that need a look; a table marking every unit examines them all, one by one.
 */
export function normalizeText(s: string, cfg: NormalizeConfig, lookTable: Uint8Array): { text: string; removed: string[][] } {
  const t = charTable();
  const out: string[] = [];
  let runStart = 0;
  const removed: string[][] = [[], [], [], [], [], []];
  let nfc = false;
  let changed = false;
  const cut = (i: number, len: number, bucket: number) => {
    if (i > runStart) out.push(s.slice(runStart, i));
    removed[bucket]!.push(s.slice(i, i + len));
    runStart = i + len;
    changed = true;
  };
  // only the units the table does not keep as they are need a look (every other unit is passed
  // over): visit their positions, in order, skipping those a surrogate pair already took
  const look = unitPositions(s, lookTable, lookTable === specialTable() ? specialSlot : undefined);
  let next = 0;
  for (let q = 0; q < look.length; q++) {
    const i = look[q]!;
    if (i < next) continue;
    next = i + 1;
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 32 || c === 10 || c === 9) continue;
      if (c === 13) {
        // \r\n -> \n, lone \r -> \n
        if (i > runStart) out.push(s.slice(runStart, i));
        if (s.charCodeAt(i + 1) !== 10) out.push('\n');
        runStart = i + 1;
        changed = true;
        continue;
      }
      if (cfg.removeControl) cut(i, 1, 0);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const cp = s.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if ((cp >= 0x1f000 && cp <= 0x1faff) || (cp >= 0x1f1e6 && cp <= 0x1f1ff)) {
        if (cfg.removeEmoji) cut(i, len, 3);
      } else if (cp >= 0xe0000 && cp <= 0xe007f) {
        if (cfg.removeFormat) cut(i, len, 1);
      } else if (cp >= 0xf0000) {
        if (cfg.removePrivateUse) cut(i, len, 2);
      } else if (cp >= 0x2f800 && cp <= 0x2fa1f) nfc = true;
      next = i + len;
      continue;
    }
    const k = t[c]!;
    switch (k) {
      case CC.Keep:
        break;
      case CC.Control:
        if (cfg.removeControl) cut(i, 1, 0);
        break;
      case CC.Format:
        if (cfg.removeFormat) cut(i, 1, 1);
        break;
      case CC.PrivateUse:
        if (cfg.removePrivateUse) cut(i, 1, 2);
        break;
      case CC.Emoji:
        if (cfg.removeEmoji) cut(i, 1, 3);
        break;
      case CC.Junk:
        if (cfg.removeJunkSymbols) cut(i, 1, 4);
        break;
      case CC.FoldWidth:
        if (cfg.foldFullWidth) {
          if (i > runStart) out.push(s.slice(runStart, i));
          out.push(String.fromCharCode(c - 0xfee0));
          runStart = i + 1;
          changed = true;
        }
        break;
      case CC.Space:
        if (i > runStart) out.push(s.slice(runStart, i));
        out.push(c === 0x2028 || c === 0x2029 || c === 0x85 ? '\n' : ' ');
        runStart = i + 1;
        changed = true;
        break;
      case CC.NeedsNfc:
        nfc = true;
        break;
    }
  }
  let text = s;
  if (changed) {
    if (runStart < s.length) out.push(s.slice(runStart));
    text = out.join('');
  }
  if (nfc) text = text.normalize('NFC');
  if (cfg.collapseBlankLines && (text.includes('\n\n\n') || spaceBeforeNewline(text))) {
    text = text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
  }
  return { text: text.trim(), removed };
}

/**
 * Whether a space or tab comes right before a line break: /[ \t]\n/.test(t), looked for from
 * the line breaks (the pattern stops at every space, many more in English text).
 */
export function spaceBeforeNewline(t: string): boolean {
  for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) {
    if (i === 0) continue;
    const c = t.charCodeAt(i - 1);
    if (c === 32 || c === 9) return true;
  }
  return false;
}
