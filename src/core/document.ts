/** The unit that flows through the factory. */
export interface DocumentMeta {
  /** Where the document came from: a file path (and record number) or a corpus name. */
  source: string;
  url?: string;
  /** ISO 639-1 code set by the language identifier, or by the reader when it knows. */
  language?: string;
  languageScore?: number;
  /** MIME type of the raw record, when the reader knows it (WARC, HTML files). */
  contentType?: string;
  /** Anything else the reader or a step knows. */
  [key: string]: unknown;
}

export interface Document {
  id: string;
  text: string;
  meta: DocumentMeta;
}

/** A record that could not become a document, with the reason. */
export interface Quarantined {
  file: string;
  /** 1-based line (JSONL, text) or record number (WARC, Parquet row + 1). */
  record: number;
  reason: string;
  detail: string;
  /** A bounded excerpt of the raw record. */
  excerpt: string;
}

/** Count of characters in code points, not UTF-16 units. */
export function charCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

export function excerpt(s: string, max = 300): string {
  if (s.length <= max) return s;
  return s.slice(0, max) + '…';
}
