/**
 * HTML to main text with boilerplate removed.
 *
 * Our own extractor, in the spirit of Readability and jusText: drop
 * non-content subtrees (scripts, navigation, forms, elements whose class or id
 * says menu/footer/sidebar/comment/share…), split what is left into text
 * blocks, score block containers by text length, punctuation and link
 * density, keep the best container (plus siblings that score well), then drop
 * link-heavy and boilerplate blocks inside it.
 */
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';

const DROP_TAGS = new Set([
  'script', 'style', 'noscript', 'template', 'svg', 'iframe', 'head', 'nav', 'footer', 'aside', 'form',
  'button', 'select', 'option', 'input', 'textarea', 'label', 'menu', 'object', 'embed', 'canvas', 'video', 'audio', 'map', 'dialog',
]);
const BLOCK_TAGS = new Set([
  'p', 'div', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'td', 'th', 'tr', 'table', 'pre', 'blockquote', 'article', 'section',
  'main', 'dd', 'dt', 'dl', 'figcaption', 'figure', 'header', 'address', 'center', 'body', 'html', 'caption', 'summary', 'details', 'hr',
]);
const LEAF_BLOCKS = new Set(['p', 'pre', 'li', 'td', 'th', 'blockquote', 'dd', 'dt', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'figcaption', 'address']);
const UNLIKELY = /-ad-|\bads?\b|advert|agegate|banner|breadcrumb|combx|comment|community|cookie|consent|disqus|extra|footer|gdpr|header|legends|masthead|menu|navbar|\bnav\b|newsletter|pager|pagination|popup|related|remark|replies|rss|share|sharing|shoutbox|sidebar|skyscraper|social|sponsor|subscribe|supplemental|toolbar|widget|login|signup|tags?-?(list|cloud)|byline|author-?info|promo|teaser|recommend|breadcrumbs|skip-?link|print|modal/i;
const MAYBE = /and|article|body|column|content|main|shadow|entry|post|story|text|blog/i;
const BOILER_LINE = /^(share|tweet|print|e-?mail|login|log in|sign in|sign up|register|subscribe|home|menu|search|next|previous|prev|back to top|read more|more|top|skip to (main )?content|cookie|accept|close|reply|comments?|related posts?|advertisement|anzeige|werbung|impressum|datenschutz|kontakt|teilen|drucken|weiterlesen|zurück|分享|打印|登录|注册|首页|返回顶部|上一篇|下一篇|阅读全文|相关阅读|更多|评论|收藏|点赞|关注我们|广告)[\s:：»›>|\-–—]*$/i;

interface Block {
  text: string;
  linkChars: number;
  container: Element | null;
  heading: boolean;
}

function attr(el: Element, name: string): string {
  return el.attribs?.[name] ?? '';
}

function isHidden(el: Element): boolean {
  if ('hidden' in (el.attribs ?? {})) return true;
  if (attr(el, 'aria-hidden') === 'true') return true;
  const style = attr(el, 'style');
  return /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style);
}

function unlikely(el: Element): boolean {
  if (el.name === 'body' || el.name === 'article' || el.name === 'main' || el.name === 'html') return false;
  const role = attr(el, 'role');
  if (/^(navigation|banner|contentinfo|complementary|search|menu|menubar|dialog|alert)$/.test(role)) return true;
  const sig = `${attr(el, 'class')} ${attr(el, 'id')}`;
  if (sig.length < 2) return false;
  return UNLIKELY.test(sig) && !MAYBE.test(sig);
}

function visibleLength(s: string): number {
  // CJK characters carry about three times the information of a Latin letter
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x2e80) n += 3;
    else if (c > 32) n += 1;
  }
  return n;
}

function countCommas(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 || c === 0xff0c || c === 0x3001 || c === 0x3002 || c === 46) n++;
  }
  return n;
}

function collectBlocks(root: ChildNode[]): Block[] {
  const blocks: Block[] = [];
  let buf = '';
  let linkChars = 0;
  let container: Element | null = null;
  let heading = false;
  const flush = () => {
    const text = buf.replace(/[ \t\r\f\v\u00a0]+/g, ' ').trim();
    if (text) blocks.push({ text, linkChars: Math.min(linkChars, text.length), container, heading });
    buf = '';
    linkChars = 0;
    heading = false;
  };
  const walk = (nodes: ChildNode[], inLink: boolean, parentBlock: Element | null) => {
    for (const n of nodes) {
      if (n.type === 'text') {
        const t = (n as unknown as { data: string }).data;
        if (!buf) container = parentBlock;
        buf += t;
        if (inLink) linkChars += t.trim().length;
        continue;
      }
      if (n.type !== 'tag' && n.type !== 'script' && n.type !== 'style') continue;
      const el = n as Element;
      const name = el.name.toLowerCase();
      if (DROP_TAGS.has(name) || isHidden(el) || unlikely(el)) continue;
      if (name === 'br') {
        buf += '\n';
        continue;
      }
      const block = BLOCK_TAGS.has(name);
      if (block) flush();
      if (/^h[1-6]$/.test(name)) heading = true;
      walk(el.children as ChildNode[], inLink || name === 'a', block ? el : parentBlock);
      if (block) flush();
    }
  };
  walk(root, false, null);
  flush();
  return blocks;
}

export interface ExtractOptions {
  /** Minimum visible length of a block kept outside headings. */
  minBlockLength?: number;
  /** Blocks with more link text than this fraction are dropped. */
  maxLinkDensity?: number;
  /** Outside the main container, blocks shorter than this (visible length, CJK counts 3) are dropped. */
  outsideMinLength?: number;
}

export function htmlToText(html: string, opts: ExtractOptions = {}): string {
  return extractHtml(html, opts).text;
}

/** Main text and the text blocks that were removed as boilerplate. */
export function extractHtml(html: string, opts: ExtractOptions = {}): { text: string; removed: string[] } {
  const minBlock = opts.minBlockLength ?? 10;
  const maxLink = opts.maxLinkDensity ?? 0.5;
  const dom = parseDocument(html, { decodeEntities: true, lowerCaseTags: true });
  const blocks = collectBlocks(dom.children as ChildNode[]);
  if (!blocks.length) return { text: '', removed: [] };

  // Score containers, Readability-style, and propagate to ancestors.
  const score = new Map<Element, number>();
  for (const b of blocks) {
    if (!b.container) continue;
    const len = visibleLength(b.text);
    if (len < 25) continue;
    const density = b.linkChars / Math.max(1, b.text.length);
    const s = (1 + countCommas(b.text) + Math.min(len / 100, 3)) * (1 - density);
    // as in Readability, a paragraph's score goes to the element that holds it and that element's parent
    let el: Element | null = b.container;
    if (el && LEAF_BLOCKS.has(el.name) && el.parent && (el.parent as Element).type === 'tag') el = el.parent as Element;
    let w = 1;
    for (let depth = 0; el && depth < 3; depth++) {
      score.set(el, (score.get(el) ?? 0) + s * w);
      w = depth === 0 ? 0.5 : w / 3;
      el = (el.parent && (el.parent as Element).type === 'tag' ? (el.parent as Element) : null);
    }
  }
  let best: Element | null = null;
  let bestScore = 0;
  for (const [el, s] of score) {
    if (s > bestScore) {
      bestScore = s;
      best = el;
    }
  }
  // Accept siblings of the best container that score well too.
  const accepted = new Set<Element>();
  if (best) {
    accepted.add(best);
    const parent = best.parent as Element | null;
    if (parent && parent.children) {
      for (const sib of parent.children) {
        if (sib === best || sib.type !== 'tag') continue;
        const s = score.get(sib as Element) ?? 0;
        if (s >= Math.max(10, bestScore * 0.2)) accepted.add(sib as Element);
      }
    }
  }
  const inAccepted = (el: Element | null): boolean => {
    for (let e: Element | null = el; e; e = e.parent && (e.parent as Element).type === 'tag' ? (e.parent as Element) : null) {
      if (accepted.has(e)) return true;
    }
    return false;
  };
  const out: string[] = [];
  const removed: string[] = [];
  const useAll = !best || bestScore < 5;
  const outsideMin = opts.outsideMinLength ?? 100;
  for (const b of blocks) {
    const density = b.linkChars / Math.max(1, b.text.length);
    const len = visibleLength(b.text);
    // outside the main container only long, link-free prose survives (jusText's "good" blocks)
    const drop =
      (!useAll && !inAccepted(b.container) && !(len >= outsideMin && density < 0.2 && countCommas(b.text) >= 1)) ||
      (density > maxLink && len < 200) || BOILER_LINE.test(b.text) || (!b.heading && len < minBlock);
    (drop ? removed : out).push(b.text.split('\n').map((l) => l.trim()).filter(Boolean).join('\n'));
  }
  return { text: out.join('\n'), removed };
}

export { sniffHtmlCharset } from './charset.js';
