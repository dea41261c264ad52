/**
 * Files from a dataset hub (the Hugging Face Hub's resolve URLs, or any mirror given as the
 * endpoint / HF_ENDPOINT): downloaded once into a cache folder (a temporary file renamed into
 * place, so an interrupted download never looks complete) and read from there.
 * `hf://datasets/<owner>/<name>[@revision]/<path>` names a file.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface HubRef {
  repo: string;
  revision: string;
  path: string;
}

export function parseHubRef(ref: string): HubRef {
  const m = /^hf:\/\/datasets\/([^/@]+\/[^/@]+)(?:@([^/]+))?\/(.+)$/.exec(ref);
  if (!m) throw new Error(`${ref}: expected hf://datasets/<owner>/<name>[@revision]/<path>`);
  return { repo: m[1]!, revision: m[2] ?? 'main', path: m[3]! };
}

export interface HubOptions {
  endpoint?: string;
  cacheDir?: string;
  token?: string;
  timeoutMs?: number;
}

export function hubCacheDir(o: HubOptions = {}): string {
  return o.cacheDir ?? process.env['ZIYA_HUB_CACHE'] ?? join(homedir(), '.cache', 'ziya', 'hub');
}

/** local path of a hub file, downloading it first when it is not cached */
export async function hubFile(ref: HubRef | string, o: HubOptions = {}): Promise<string> {
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  const local = join(hubCacheDir(o), 'datasets', r.repo, r.revision, r.path);
  if (existsSync(local)) return local;
  const endpoint = (o.endpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${endpoint}/datasets/${r.repo}/resolve/${encodeURIComponent(r.revision)}/${r.path.split('/').map(encodeURIComponent).join('/')}`;
  const token = o.token ?? process.env['HF_TOKEN'];
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(o.timeoutMs ?? 600000), redirect: 'follow' });
  } catch (e) {
    throw new Error(`${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause?: Error }).cause!.message})` : ''}`);
  }
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (a gated dataset needs HF_TOKEN)' : ''}`);
  mkdirSync(dirname(local), { recursive: true });
  const part = `${local}.part-${process.pid}`;
  try {
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(part));
    renameSync(part, local);
  } catch (e) {
    rmSync(part, { force: true });
    throw new Error(`${url}: download failed: ${(e as Error).message}`);
  }
  return local;
}
