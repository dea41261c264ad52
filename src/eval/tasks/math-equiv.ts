/**
 * MATH answer handling: Minerva's normalize_final_answer (as lm-evaluation-harness's
 * minerva_math has it), Hendrycks' _strip_string / is_equiv, and an equivalence check that
 * stands in for SymPy: equal after normalisation, or both sides evaluate to the same numbers
 * (fractions, roots, powers, π, products; tuples and intervals element by element, with the
 * same brackets). Expressions with free variables are compared as normalised strings only.
 */

const SUBSTITUTIONS: [string, string][] = [
  ['an ', ''], ['a ', ''], ['.$', '$'], ['\\$', ''], ['\\ ', ''], [' ', ''], ['mbox', 'text'],
  [',\\text{and}', ','], ['\\text{and}', ','], ['\\text{m}', '\\text{}'],
];
const REMOVED = [
  'square', 'ways', 'integers', 'dollars', 'mph', 'inches', 'ft', 'hours', 'km', 'units', '\\ldots', 'sue', 'points', 'feet',
  'minutes', 'digits', 'cents', 'degrees', 'cm', 'gm', 'pounds', 'meters', 'meals', 'edges', 'students', 'childrentickets',
  'multiples', '\\text{s}', '\\text{.}', '\\text{\ns}', '\\text{}^2', '\\text{}^3', '\\text{\n}', '\\text{}', '\\mathrm{th}',
  '^\\circ', '^{\\circ}', '\\;', ',\\!', '{,}', '"', '\\dots',
];

const replaceAll = (s: string, a: string, b: string) => s.split(a).join(b);

/** Minerva's final-answer normalisation (Lewkowycz et al. 2022, appendix D) */
export function minervaNormalize(answer: string): string {
  let s = answer.split('=').pop()!;
  for (const [a, b] of SUBSTITUTIONS) s = replaceAll(s, a, b);
  for (const e of REMOVED) s = replaceAll(s, e, '');
  s = s.replace(/(.*?)(\$)(.*?)(\$)(.*)/g, '$$$3$$');
  s = s.replace(/(\\text\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\textbf\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\overline\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\boxed\{)(.*)(\})/g, '$2');
  s = s.replace(/(frac)([^{])(.)/g, 'frac{$2}{$3}');
  s = s.replace(/(sqrt)([^{])/g, 'sqrt{$2}');
  s = s.replace(/\$/g, '');
  const noCommas = s.replace(/,/g, '');
  if (/^\d+$/.test(noCommas)) s = noCommas;
  return s;
}

/** the Minerva answer line: "Final Answer: The final answer is X. I hope it is correct." */
export function minervaExtract(output: string): string {
  const m = /Final Answer: The final answer is(.*?)\. I hope it is correct\./s.exec(output + 'I hope it is correct.');
  return m ? m[1]!.trim() : '[invalidanswer]';
}

// ------------------------------------------------------------------ Hendrycks is_equiv
function fixFracs(s: string): string {
  const subs = s.split('\\frac');
  let out = subs[0]!;
  for (const sub of subs.slice(1)) {
    out += '\\frac';
    if (sub[0] === '{') out += sub;
    else {
      if (sub.length < 2) return s;
      const a = sub[0]!, b = sub[1]!;
      if (b !== '{') out += `{${a}}{${b}}` + sub.slice(2);
      else out += `{${a}}${b}` + sub.slice(2);
    }
  }
  return out;
}
function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts as [string, string];
  if (!/^\s*[+-]?\d+\s*$/.test(a) || !/^\s*[+-]?\d+\s*$/.test(b)) throw new Error('not integers'); // Python's int() raises
  const ai = parseInt(a, 10), bi = parseInt(b, 10);
  if (s !== `${ai}/${bi}`) return s;
  return `\\frac{${ai}}{${bi}}`;
}
function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const parts = s.split('\\sqrt');
  let out = parts[0]!;
  for (const p of parts.slice(1)) out += p[0] !== '{' ? `\\sqrt{${p[0] ?? ''}}` + p.slice(1) : '\\sqrt' + p;
  return out;
}

/** Hendrycks' _strip_string; throws where the Python raises (is_equiv then compares raw strings) */
export function hendrycksStrip(str: string): string {
  let s = str.replace(/\n/g, '');
  s = replaceAll(s, '\\!', '');
  s = replaceAll(s, '\\\\', '\\');
  s = replaceAll(s, 'tfrac', 'frac');
  s = replaceAll(s, 'dfrac', 'frac');
  s = replaceAll(s, '\\left', '');
  s = replaceAll(s, '\\right', '');
  s = replaceAll(s, '^{\\circ}', '');
  s = replaceAll(s, '^\\circ', '');
  s = replaceAll(s, '\\$', '');
  if (s.includes('\\text{ ')) {
    const sp = s.split('\\text{ ');
    if (sp.length !== 2) throw new Error('units');
    s = sp[0]!;
  }
  s = replaceAll(s, '\\%', '');
  s = replaceAll(s, ' .', ' 0.');
  s = replaceAll(s, '{.', '{0.');
  if (s.length === 0) return s;
  if (s[0] === '.') s = '0' + s;
  const eq = s.split('=');
  if (eq.length === 2 && eq[0]!.length <= 2) s = eq[1]!;
  s = fixSqrt(s);
  s = s.replace(/ /g, '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  s = fixASlashB(s);
  return s;
}

export function hendrycksEquiv(a: string | null, b: string | null): boolean {
  if (a === null && b === null) return true;
  if (a === null || b === null) return false;
  try {
    return hendrycksStrip(a) === hendrycksStrip(b);
  } catch {
    return a === b;
  }
}

// ------------------------------------------------------------------ numeric evaluation
/** value of a closed LaTeX arithmetic expression, or null when it has variables or unknown commands */
export function latexValue(src: string): number | null {
  let s = src.replace(/\\left|\\right|\\!|\\,|\\;|\\ |\s+/g, '').replace(/\\[dt]frac/g, '\\frac').replace(/\\cdot|\\times/g, '*').replace(/\\div/g, '/');
  s = s.replace(/\^\{\\circ\}|\^\\circ|\\%|%/g, '');
  let i = 0;
  const peek = () => s[i];
  const fail = (): never => { throw new Error('parse'); };
  const group = (): number => {
    if (s[i] === '{') {
      i++;
      const v = expr();
      if (s[i] !== '}') fail();
      i++;
      return v;
    }
    // a single digit or character argument: \frac12
    if (/[0-9]/.test(s[i] ?? '')) return Number(s[i++]);
    return atom();
  };
  const atom = (): number => {
    const c = peek();
    if (c === undefined) return fail();
    if (c === '(' || c === '[') {
      i++;
      const v = expr();
      if (s[i] !== ')' && s[i] !== ']') fail();
      i++;
      return v;
    }
    if (c === '{') return group();
    if (/[0-9.]/.test(c)) {
      const m = /^(\d+(\.\d*)?|\.\d+)/.exec(s.slice(i));
      if (!m) return fail();
      i += m[0].length;
      return Number(m[0]);
    }
    if (c === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(s.slice(i));
      if (!m) return fail();
      i += m[0].length;
      switch (m[1]) {
        case 'frac': { const a = group(); const b = group(); return a / b; }
        case 'sqrt': {
          let n = 2;
          if (s[i] === '[') { i++; n = expr(); if (s[i] !== ']') fail(); i++; }
          return Math.pow(group(), 1 / n);
        }
        case 'pi': return Math.PI;
        default: return fail();
      }
    }
    return fail();
  };
  const power = (): number => {
    let b = atom();
    while (s[i] === '^') {
      i++;
      b = Math.pow(b, group());
    }
    return b;
  };
  const unary = (): number => {
    if (s[i] === '-') { i++; return -unary(); }
    if (s[i] === '+') { i++; return unary(); }
    return power();
  };
  const term = (): number => {
    let v = unary();
    for (;;) {
      const c = s[i];
      if (c === '*') { i++; v *= unary(); }
      else if (c === '/') { i++; v /= unary(); }
      else if (c !== undefined && (/[0-9.({\\]/.test(c))) v *= power(); // implicit product: 2\sqrt{3}, 3\pi
      else return v;
    }
  };
  function expr(): number {
    let v = term();
    for (;;) {
      if (s[i] === '+') { i++; v += term(); }
      else if (s[i] === '-') { i++; v -= term(); }
      else return v;
    }
  }
  try {
    if (!s) return null;
    const v = expr();
    if (i !== s.length || !Number.isFinite(v)) return null;
    return v;
  } catch {
    return null;
  }
}

/** top-level comma split with the enclosing brackets, for tuples and intervals */
function splitTuple(s: string): { open: string; close: string; parts: string[] } | null {
  const t = s.replace(/\\left|\\right/g, '');
  const open = t[0], close = t[t.length - 1];
  if (!open || !close || !'([{'.includes(open) || !')]}'.includes(close)) return null;
  const inner = t.slice(1, -1);
  const parts: string[] = [];
  let depth = 0, cur = '';
  for (const c of inner) {
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += c;
  }
  parts.push(cur);
  return parts.length > 1 ? { open, close, parts } : null;
}

function numEq(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Minerva-normalised answers equal, or numerically equal (element-wise for tuples/intervals) */
export function isEquivalent(pred: string, gold: string): boolean {
  // \left and \right go first: Minerva's list removes "ft", which would leave "\le("
  const unsize = (s: string) => s.replace(/\\left|\\right/g, '');
  const a = minervaNormalize(unsize(pred)), b = minervaNormalize(unsize(gold));
  if (a === b) return true;
  if (hendrycksEquiv(a, b)) return true;
  const ta = splitTuple(a), tb = splitTuple(b);
  if (ta || tb) {
    if (!ta || !tb || ta.open !== tb.open || ta.close !== tb.close || ta.parts.length !== tb.parts.length) return false;
    return ta.parts.every((p, i) => isEquivalent(p, tb.parts[i]!));
  }
  const va = latexValue(a), vb = latexValue(b);
  return va !== null && vb !== null && numEq(va, vb);
}
