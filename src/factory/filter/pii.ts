/** Privacy masking: e-mail, phone numbers, Chinese ID cards (checksum), bank cards (Luhn), IP addresses. */
import type { Document } from '../../core/document.js';
import type { DocStep, StepContext } from '../../core/step.js';
import { filterShortcuts } from './shortcuts.js';
import { digitsOf } from './features.js';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643-1999 resident identity number: region, birth date, sequence, ISO 7064 MOD 11-2 check. */
export function cnIdValid(id: string): boolean {
  if (!/^[1-9]\d{16}[\dXx]$/.test(id)) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  let s = 0;
  for (let i = 0; i < 17; i++) s += (id.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return ID_CHECK[s % 11] === id[17]!.toUpperCase();
}

export interface PiiConfig {
  email: string | false;
  phone: string | false;
  idCard: string | false;
  bankCard: string | false;
  ip: string | false;
  /** Mask private-range IPs too (10.x, 192.168.x, 127.x …). */
  maskPrivateIp: boolean;
}

export const PII_DEFAULTS: PiiConfig = { email: '<EMAIL>', phone: '<PHONE>', idCard: '<ID_CARD>', bankCard: '<BANK_CARD>', ip: '<IP>', maskPrivateIp: false };

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const CN_ID = /(?<![\dA-Za-z])[1-9]\d{16}[\dXx](?![\dA-Za-z])/g;
const CARD = /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g;
const CN_MOBILE = /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/g;
const INTL_PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}(?!\d)|(?<!\d)\(\d{3}\) ?\d{3}-\d{4}(?!\d)|(?<![\d-])\d{3}-\d{3}-\d{4}(?![\d-])|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)/g;
const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.]*\d)/g;
/** ten digits, each two apart by at most one ' ' or '-' (in every match of CN_ID, CARD, CN_MOBILE and INTL_PHONE's forms without '+' or '(') */
const TEN_DIGITS = /\d(?:[ -]?\d){9}/;
export const IPV6 = /(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:){0,5}[0-9a-fA-F]{1,4}(?![\w:])/g;

/** Whether HEX_COLONS matches in t, from t's colons (the pattern, tried at every unit, cost ~1 % of a factory run). */
export function hexColons(t: string): boolean {
  for (let i = t.indexOf(':'); i >= 0; i = t.indexOf(':', i + 1)) {
    if (i === 0 || !isHex(t.charCodeAt(i - 1))) continue;
    // up to four hex digits, then a second colon
    for (let j = i + 1; j <= i + 5 && j < t.length; j++) {
      const c = t.charCodeAt(j);
      if (c === 58) return true;
      if (!isHex(c)) break;
    }
  }
  return false;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

/** a hex group and a colon, twice (the second group may be empty): what any IPV6 match starts with */
export const HEX_COLONS = /[0-9a-fA-F]{1,4}:[0-9a-fA-F]{0,4}:/;

/** False only when IPV6 cannot match t: its two forms have seven colons or a '::'. */
export function ipv6Possible(t: string): boolean {
  return t.includes('::') || colonsAtLeast(t, 7);
}

function colonsAtLeast(t: string, n: number): boolean {
  let k = 0;
  for (let i = t.indexOf(':'); i >= 0 && k < n; i = t.indexOf(':', i + 1)) k++;
  return k >= n;
}

function privateIp(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}

export class PiiMask implements DocStep {
  readonly rules = ['pii.email', 'pii.id_card', 'pii.bank_card', 'pii.phone', 'pii.ip'] as const;
  constructor(readonly name: string, private cfg: PiiConfig) {}

  /** Masks PII in text; `hit` is told of each masked span. */
  mask(text: string, hit: (rule: string, span: string) => void): string {
    const c = this.cfg;
    let t = text;
    // the digits the document filter's scan counted in this text (-1: not known); masking e-mail
    // addresses puts no digit in, so t holds at most as many
    const digits = filterShortcuts.on ? digitsOf(text) : -1;
    if (c.email && t.includes('@')) t = t.replace(EMAIL, (m) => (hit('pii.email', m), c.email as string));
    if (((digits >= 0 && digits < 3) || !/\d{3}/.test(t)) && !hexColons(t)) return t;
    // ID cards (17 digits in a row), bank cards (13+ digits), Chinese mobiles (11) and the
    // dash-separated phone forms (10) all hold ten digits with at most one ' ' or '-' between
    // each two; the other phone forms need a '+' or a '('. Masking only puts placeholders without
    // digits in, so what the text lacks before, it lacks after.
    const longNumber = !filterShortcuts.on || ((digits < 0 || digits >= 10) && TEN_DIGITS.test(t));
    if (c.idCard && longNumber) t = t.replace(CN_ID, (m) => (cnIdValid(m) ? (hit('pii.id_card', m), c.idCard as string) : m));
    if (c.bankCard && longNumber) t = t.replace(CARD, (m) => {
      const d = m.replace(/[ -]/g, '');
      if (d.length < 13 || d.length > 19 || !luhnValid(d) || /^(\d)\1+$/.test(d)) return m;
      hit('pii.bank_card', m);
      return c.bankCard as string;
    });
    if (c.phone) {
      if (longNumber) t = t.replace(CN_MOBILE, (m) => (hit('pii.phone', m), c.phone as string));
      if (longNumber || t.includes('+') || t.includes('(')) t = t.replace(INTL_PHONE, (m) => (m.replace(/\D/g, '').length >= 9 ? (hit('pii.phone', m), c.phone as string) : m));
    }
    if (c.ip) {
      // an IPv4 address has dots and an IPv6 one colons: skip the scans without them
      if (t.includes('.')) t = t.replace(IPV4, (m) => (!c.maskPrivateIp && privateIp(m) ? m : (hit('pii.ip', m), c.ip as string)));
      // an IPv6 match has seven colons or a '::' (its two forms)
      if (ipv6Possible(t)) t = t.replace(IPV6, (m) => (m.split(':').length >= 3 ? (hit('pii.ip', m), c.ip as string) : m));
    }
    return t;
  }

  process(doc: Document, ctx: StepContext): Document {
    const spans = new Map<string, string[]>();
    const text = this.mask(doc.text, (rule, span) => {
      let l = spans.get(rule);
      if (!l) spans.set(rule, (l = []));
      l.push(span);
    });
    if (text === doc.text) return doc;
    for (const [rule, l] of spans) ctx.cut(rule, doc, l.join(' | '), l.reduce((a, s) => a + s.length, 0));
    return { ...doc, text };
  }
}
