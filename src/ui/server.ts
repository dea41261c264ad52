/**
 * `ziya ui`: one small HTTP server (node:http, no framework) for human evaluation and the
 * dashboard. Bound to 127.0.0.1 by default; on any other address it requires an access token
 * (given or generated) on every request. Runs are addressed by ids found under the root, never
 * by paths; static files come from a fixed table. Every response carries a Content-Security-
 * Policy that allows scripts only from /static/app.js.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverRuns, findRun, type RunKind } from './runs.js';
import { annotatePage, evalPage, factoryPage, indexPage, lawsPage, layout, esc, readMetrics, trainPage } from './pages.js';
import { AnnotationError, AnnotationStore } from './annotate.js';

const here = dirname(fileURLToPath(import.meta.url));
const STATIC_DIR = [resolve(here, '../../ui/static'), resolve(here, '../../../ui/static')].find((p) => existsSync(p)) ?? resolve(here, '../../ui/static');
const STATIC: Record<string, string> = { '/static/app.js': 'text/javascript; charset=utf-8', '/static/style.css': 'text/css; charset=utf-8' };

const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface UiOptions {
  root: string;
  host?: string;
  port?: number;
  /** required when the host is not loopback; generated when missing */
  token?: string;
  sampleSize?: number;
}

export interface UiServer {
  server: Server;
  url: string;
  token: string | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startUi(o: UiOptions): Promise<UiServer> {
  const root = resolve(o.root);
  const host = o.host ?? '127.0.0.1';
  const token = LOOPBACK.has(host) ? (o.token ?? null) : (o.token ?? randomBytes(18).toString('base64url'));
  const stores = new Map<string, AnnotationStore>();
  const store = (dir: string) => {
    let s = stores.get(dir);
    if (!s) stores.set(dir, (s = new AnnotationStore(dir, o.sampleSize ?? 1000)));
    return s;
  };

  const send = (res: ServerResponse, code: number, body: string | Buffer, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(code, { 'content-type': type, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store', ...extra });
    res.end(body);
  };
  const json = (res: ServerResponse, code: number, v: unknown) => send(res, code, JSON.stringify(v), 'application/json; charset=utf-8');
  const fail = (res: ServerResponse, code: number, msg: string, api: boolean) => (api ? json(res, code, { error: msg }) : send(res, code, layout('error', `<h1>${code}</h1><p>${esc(msg)}</p>`)));

  const authorized = (req: IncomingMessage, url: URL): { ok: boolean; setCookie?: string } => {
    if (!token) return { ok: true };
    const given = (req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? url.searchParams.get('token') ?? /(?:^|;\s*)ziya_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '');
    const a = Buffer.from(given), b = Buffer.from(token);
    const ok = a.length === b.length && timingSafeEqual(a, b);
    return ok ? { ok, setCookie: url.searchParams.has('token') ? `ziya_token=${token}; HttpOnly; SameSite=Strict; Path=/` : undefined } : { ok: false };
  };

  const readBody = (req: IncomingMessage) => new Promise<Record<string, unknown>>((res, rej) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      raw += d;
      if (raw.length > 1 << 20) {
        rej(new AnnotationError('request body over 1 MiB', 413));
        req.destroy();
      }
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(raw) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        res(v as Record<string, unknown>);
      } catch {
        rej(new AnnotationError('the body is not a JSON object'));
      }
    });
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ui.local');
    const api = url.pathname.startsWith('/api/');
    const auth = authorized(req, url);
    if (!auth.ok) return fail(res, 401, 'an access token is required (?token=… once, or Authorization: Bearer …)', api);
    if (auth.setCookie) res.setHeader('set-cookie', auth.setCookie);
    const run = (kind: RunKind) => {
      const r = findRun(root, url.searchParams.get('run'), kind);
      if (!r) throw new AnnotationError(`no ${kind} run ${JSON.stringify(url.searchParams.get('run'))} under the app's root`, 404);
      return r;
    };
    const handle = async () => {
      if (req.method === 'GET' && STATIC[url.pathname]) {
        const name = url.pathname.slice('/static/'.length);
        return send(res, 200, readFileSync(resolve(STATIC_DIR, name)), STATIC[url.pathname]);
      }
      if (req.method === 'GET') {
        switch (url.pathname) {
          case '/': return send(res, 200, indexPage(discoverRuns(root), root));
          case '/factory': return send(res, 200, factoryPage(run('factory')));
          case '/train': return send(res, 200, trainPage(run('train')));
          case '/eval': return send(res, 200, evalPage(run('eval')));
          case '/annotate': return send(res, 200, annotatePage(run('factory')));
          case '/laws': return send(res, 200, lawsPage(run('laws')));
          case '/api/runs': return json(res, 200, discoverRuns(root).map(({ id, kind, mtime }) => ({ id, kind, mtime })));
          case '/api/train': return json(res, 200, readMetrics(run('train').dir));
          case '/api/annotate/doc': {
            const ix = url.searchParams.get('index');
            return json(res, 200, await store(run('factory').dir).doc(url.searchParams.get('annotator'), ix === null ? undefined : Number(ix)));
          }
          case '/api/annotate/stats': return json(res, 200, await store(run('factory').dir).stats());
          case '/api/annotate/export': {
            const r = run('factory');
            return send(res, 200, await store(r.dir).exportJsonl(), 'application/x-ndjson; charset=utf-8', { 'content-disposition': `attachment; filename="annotations.jsonl"` });
          }
        }
      }
      if (req.method === 'POST' && url.pathname === '/api/annotate/label') {
        const r = run('factory');
        const label = await store(r.dir).save(await readBody(req));
        return json(res, 200, { saved: true, docId: label.docId, index: label.index });
      }
      return fail(res, 404, `nothing at ${req.method} ${url.pathname}`, api);
    };
    handle().catch((e: Error) => {
      const code = e instanceof AnnotationError ? e.status : 500;
      if (!res.headersSent) fail(res, code, e.message, api);
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 8787, host, () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server, token,
    url: `http://${shown}:${port}/`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
