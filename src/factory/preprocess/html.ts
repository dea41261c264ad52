import { withMeta, type Document } from '../../core/document.js';
import { drop, type DocStep, type Drop, type StepContext } from '../../core/step.js';
import { extractHtml, type ExtractOptions } from '../../io/html.js';

/** Turns HTML records (meta.contentType text/html) into main text; other documents pass through. */
export class HtmlExtract implements DocStep {
  readonly rules = ['html.boilerplate', 'html.no_main_text'] as const;
  constructor(readonly name: string, private cfg: ExtractOptions & { detect: boolean }) {}
  process(doc: Document, ctx: StepContext): Document | Drop {
    const ct = doc.meta.contentType;
    const isHtml = ct === 'text/html' || (this.cfg.detect && ct === undefined && /^\s*<(!doctype html|html[\s>])/i.test(doc.text.slice(0, 200)));
    if (!isHtml) return doc;
    const { text, removed } = extractHtml(doc.text, this.cfg);
    if (!text.trim()) return drop('html.no_main_text');
    // chars: markup and boilerplate together; the example shows the boilerplate text blocks
    ctx.cut('html.boilerplate', doc, removed.join(' ¦ '), Math.max(0, doc.text.length - text.length));
    return { ...doc, text, meta: withMeta(doc.meta, { contentType: 'text/plain', extractedFrom: 'text/html' }) };
  }
}
