/**
 * An OpenAI-compatible completions server over one of our token-level models (`ziya eval
 * serve`): POST /v1/completions with prompt, max_tokens, temperature, top_p, stop, seed, echo
 * and logprobs (prompt tokens with their text offsets when echo is on), and GET /v1/models.
 * It lets any harness that speaks the API (lm-evaluation-harness local-completions,
 * OpenCompass) evaluate our checkpoints. `echoLogprobs: false` imitates servers that return
 * log-probabilities only for generated tokens.
 */
import { createServer, type Server } from 'node:http';
import type { TokenLM } from './models/token-lm.js';

export interface ServeOptions {
  host?: string;
  port?: number;
  modelName?: string;
  echoLogprobs?: boolean;
}

interface Body {
  model?: string;
  prompt?: string | string[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  seed?: number;
  echo?: boolean;
  logprobs?: number | null;
}

export function serveCompletions(lm: TokenLM, o: ServeOptions = {}): Promise<{ server: Server; url: string }> {
  const name = o.modelName ?? 'ziya';
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const send = (code: number, v: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (req.method === 'GET' && req.url?.startsWith('/v1/models')) return send(200, { object: 'list', data: [{ id: name, object: 'model', owned_by: 'ziya' }] });
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/completions')) return send(404, { error: { message: `no route ${req.method} ${req.url}` } });
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      // one request at a time: the model is single-threaded JavaScript anyway
      queue = queue.then(async () => {
        let b: Body;
        try {
          b = JSON.parse(raw) as Body;
        } catch {
          return send(400, { error: { message: 'the body is not JSON' } });
        }
        const prompt = Array.isArray(b.prompt) ? b.prompt[0] : b.prompt;
        if (typeof prompt !== 'string') return send(400, { error: { message: 'prompt must be a string' } });
        const maxTokens = Math.max(0, b.max_tokens ?? 16);
        const stop = b.stop === undefined ? [] : Array.isArray(b.stop) ? b.stop : [b.stop];
        try {
          const text = maxTokens > 0 ? (await lm.generateUntil([{ context: prompt, until: stop, maxTokens, temperature: b.temperature ?? 1, topP: b.top_p ?? 1, seed: b.seed ?? 0 }]))[0]! : '';
          let logprobs: unknown = null;
          if (b.logprobs !== undefined && b.logprobs !== null) {
            const k = Math.max(1, b.logprobs);
            const gen = await lm.promptScores(prompt + text, k);
            // tokens of the prompt (echo) and of the completion
            const cut = gen.offsets.findIndex((x) => x >= prompt.length);
            const start = b.echo && o.echoLogprobs !== false ? 0 : cut < 0 ? gen.tokens.length : cut;
            const pick = <T>(xs: T[]) => xs.slice(start);
            logprobs = {
              tokens: pick(gen.tokens),
              token_logprobs: pick(gen.logprobs).map((x) => (Number.isFinite(x) ? x : null)),
              top_logprobs: pick(gen.top),
              text_offset: pick(gen.offsets),
            };
          }
          send(200, { id: `cmpl-${Date.now()}`, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: name, choices: [{ index: 0, text: b.echo ? prompt + text : text, logprobs, finish_reason: 'stop' }] });
        } catch (e) {
          send(500, { error: { message: (e as Error).message } });
        }
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : o.port;
      resolve({ server, url: `http://${o.host ?? '127.0.0.1'}:${port}` });
    });
  });
}
