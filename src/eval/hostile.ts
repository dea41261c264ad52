/**
 * Hostile programs the HumanEval sandbox must contain, with the check (made from outside the
 * sandbox) that says whether it was: `ziya eval sandbox-check` runs them on this machine.
 */
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult, Sandbox } from './sandbox.js';

export interface HostileEnv {
  /** a folder outside the sandbox holding a sentinel file */
  outside: string;
  sentinel: string;
  /** a TCP port the parent listens on */
  port: number;
  /** a value in the parent's environment that must not leak */
  secret: string;
  /** unique text in the command line of processes the program leaves behind */
  marker: string;
}

export interface Hostile {
  name: string;
  program: (e: HostileEnv) => string;
  /** null when contained, else what escaped */
  escaped: (e: HostileEnv, r: RunResult, connections: number) => string | null;
}

/** processes whose command line holds the marker */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

export const HOSTILE: Hostile[] = [
  {
    name: 'fork bomb',
    program: (e) => `import os\nopen("pids", "w")\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.execvp("sleep", ["sleep", "${e.marker}"])\n    except Exception:\n        pass\n`,
    escaped: (e, r) => (r.status === 'passed' ? 'the program finished normally' : processesWith(e.marker).length ? `${processesWith(e.marker).length} forked processes survive` : null),
  },
  {
    name: 'memory bomb',
    program: () => `x = []\nwhile True:\n    x.append(bytearray(64 * 1024 * 1024))\n`,
    escaped: (_e, r) => (r.status === 'passed' ? 'allocation never failed' : null),
  },
  {
    name: 'infinite loop',
    program: () => `while True:\n    pass\n`,
    escaped: (_e, r) => (r.status !== 'timed out' && !/CPU|SIGXCPU|SIGKILL/.test(r.reason) ? `status ${r.status}` : null),
  },
  {
    name: 'write outside the directory',
    program: (e) => `import os\nfor p in [${JSON.stringify(join(e.outside, 'escaped.txt'))}, "/tmp/ziya-sbx-escaped-${e.marker}", os.path.expanduser("~/../ziya-sbx-escaped-${e.marker}"), "../ziya-sbx-escaped-${e.marker}"]:\n    try:\n        with open(p, "w") as f:\n            f.write("escaped")\n    except Exception as ex:\n        print("blocked", p, ex)\n`,
    escaped: (e) => {
      const hits = [join(e.outside, 'escaped.txt'), `/tmp/ziya-sbx-escaped-${e.marker}`, join(tmpdir(), `ziya-sbx-escaped-${e.marker}`)].filter((p) => existsSync(p));
      return hits.length ? `wrote ${hits.join(', ')}` : null;
    },
  },
  {
    name: 'delete files',
    program: (e) => `import os, shutil\nfor f in [lambda: os.remove(${JSON.stringify(e.sentinel)}), lambda: shutil.rmtree(${JSON.stringify(e.outside)}), lambda: os.rename(${JSON.stringify(e.sentinel)}, "stolen")]:\n    try:\n        f()\n    except Exception as ex:\n        print("blocked", ex)\n`,
    escaped: (e) => (existsSync(e.sentinel) && readFileSync(e.sentinel, 'utf8') === 'sentinel' ? null : 'the sentinel file outside was deleted or moved'),
  },
  {
    name: 'open sockets',
    program: (e) => `import socket\nfor target in [("127.0.0.1", ${e.port}), ("example.com", 80), ("1.1.1.1", 53)]:\n    try:\n        s = socket.create_connection(target, timeout=2)\n        s.sendall(b"escaped")\n        print("connected", target)\n    except Exception as ex:\n        print("blocked", target, ex)\n`,
    escaped: (_e, r, connections) => (connections > 0 ? `${connections} connection(s) reached the host` : /connected/.test(r.stdout) ? r.stdout.trim() : null),
  },
  {
    name: 'read environment variables',
    program: () => `import os\nprint(dict(os.environ))\nfor p in ["/proc/1/environ", "/proc/self/environ", "/proc/%d/environ" % os.getppid()]:\n    try:\n        print(open(p, "rb").read())\n    except Exception as ex:\n        print("blocked", p, ex)\n`,
    escaped: (e, r) => (r.stdout.includes(e.secret) || r.stderr.includes(e.secret) ? 'the parent environment leaked' : null),
  },
  {
    name: 'background process outliving the timeout',
    program: (e) => `import subprocess, os, time\ntry:\n    subprocess.Popen(["sleep", "${e.marker}"], start_new_session=True)\nexcept Exception as ex:\n    print("blocked", ex)\ntry:\n    if os.fork() == 0:\n        os.setsid()\n        os.execvp("sleep", ["sleep", "${e.marker}"])\nexcept Exception as ex:\n    print("blocked", ex)\ntime.sleep(60)\n`,
    escaped: (e) => (processesWith(e.marker).length ? `${processesWith(e.marker).length} process(es) still running after the run` : null),
  },
];

export interface HostileOutcome {
  name: string;
  status: string;
  contained: boolean;
  escaped: string | null;
  wallMs: number;
}

/** a TCP listener on 127.0.0.1 that counts (and drops) the connections made to it */
export async function connectionCounter(): Promise<{ port: number; count: () => number; reset: () => void; close: () => void }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, count: () => n, reset: () => { n = 0; }, close: () => server.close() };
}

/** runs every hostile program and checks each from outside */
export async function runHostileSuite(sandbox: Sandbox, o: { timeoutMs?: number } = {}): Promise<HostileOutcome[]> {
  const outside = mkdtempSync(join(tmpdir(), 'ziya-sbx-outside-'));
  const sentinel = join(outside, 'sentinel.txt');
  const secret = `ziya-secret-${process.pid}-${Date.now()}`;
  process.env['ZIYA_SANDBOX_SECRET'] = secret;
  const listener = await connectionCounter();
  const port = listener.port;
  const out: HostileOutcome[] = [];
  try {
    for (const h of HOSTILE) {
      writeFileSync(sentinel, 'sentinel');
      listener.reset();
      // a sleep argument that is a valid duration and unique to this run
      const marker = `${3000 + (process.pid % 1000)}.${Date.now() % 100000}`;
      const e: HostileEnv = { outside, sentinel, port, secret, marker };
      const r = await sandbox.run(h.program(e), { timeoutMs: o.timeoutMs ?? 3000 });
      await new Promise((res) => setTimeout(res, 300));
      const escaped = h.escaped(e, r, listener.count());
      for (const pid of processesWith(marker)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      out.push({ name: h.name, status: r.status, contained: escaped === null, escaped, wallMs: Math.round(r.wallMs) });
    }
  } finally {
    listener.close();
    delete process.env['ZIYA_SANDBOX_SECRET'];
    rmSync(outside, { recursive: true, force: true });
  }
  return out;
}
