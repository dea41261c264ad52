/**
 * The charset an HTML page declares, apart from the HTML extractor (html.ts) so that the readers,
 * which need only this, do not load the HTML parser in every worker.
 */

/** Charset declared in a <meta> tag within the first 4 KiB, if any. */
export function sniffHtmlCharset(head: string): string | undefined {
  const m = /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head.slice(0, 4096));
  return m?.[1]?.toLowerCase();
}
