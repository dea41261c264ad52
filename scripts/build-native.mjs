// Builds the optional native addon during `npm install`. A failed build never fails the
// install: the program then runs on the TypeScript kernels, after a one-line warning.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.env.ZIYA_NO_NATIVE === '1') {
  console.warn('ziya-ts: ZIYA_NO_NATIVE=1, native addon not built (TypeScript kernels will be used)');
  process.exit(0);
}
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p && existsSync(p));
let ok = false;
let why = 'node-gyp not found';
if (candidates.length) {
  // build against the installed Node headers when there are any (no download needed)
  const prefix = dirname(dirname(process.execPath));
  const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : '');
  const args = [candidates[0], 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  ok = r.status === 0;
  if (!ok) why = (r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`;
}
if (!ok) console.warn(`ziya-ts: native addon not built (${why}); the TypeScript kernels will be used (slower)`);
