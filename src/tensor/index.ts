/** Backend selection: the native addon when it is built, else the TypeScript reference after a one-line warning. */
import type { Backend } from './backend.js';
import { nativeBackend } from './native.js';
import { refBackend } from './ref.js';

export type { Backend, AttentionShape, RoundMode } from './backend.js';
export { refBackend } from './ref.js';
export { nativeBackend, nativeGemmKernel, setNativeThreads, nativeThreads } from './native.js';

let current: Backend | null = null;
let warned = false;

/** the backend in use: ZIYA_BACKEND=ref forces the reference; otherwise native when available */
export function backend(): Backend {
  if (current) return current;
  if (process.env.ZIYA_BACKEND === 'ref') current = refBackend;
  else if (nativeBackend) current = nativeBackend;
  else {
    if (!warned) console.warn('ziya-ts: native tensor kernels unavailable (addon not built); training runs on the TypeScript reference backend (slow)');
    warned = true;
    current = refBackend;
  }
  return current;
}

export function setBackend(b: Backend): void {
  current = b;
}
