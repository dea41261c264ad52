/** Word lists are plain text data files (one entry per line, # comments) that users can replace. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** data/wordlists in the package, from src/… or dist/src/… */
export const DEFAULT_WORDLIST_DIR = [resolve(here, '../../../data/wordlists'), resolve(here, '../../../../data/wordlists')].find((p) => {
  try {
    readFileSync(join(p, 'stopwords-en.txt'));
    return true;
  } catch {
    return false;
  }
}) ?? resolve(here, '../../../data/wordlists');

const cache = new Map<string, string[]>();

export function loadWordList(pathOrName: string): string[] {
  const path = pathOrName.includes('/') ? pathOrName : join(DEFAULT_WORDLIST_DIR, `${pathOrName}.txt`);
  let list = cache.get(path);
  if (list) return list;
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read word list ${path}: ${(e as Error).message}`);
  }
  list = [...new Set(raw.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.toLowerCase()))];
  cache.set(path, list);
  return list;
}
