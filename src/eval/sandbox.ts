/**
 * A sandbox for model-written Python (HumanEval). Each program runs in its own process with:
 *  - a throw-away working directory (deleted afterwards) and a clean environment (no variable of
 *    ours is passed on; HOME and TMPDIR point into the directory);
 *  - resource limits set by the kernel (prlimit): address space, CPU seconds, processes, file
 *    size, open files, no core dumps;
 *  - a wall-clock timeout after which the whole process tree is killed;
 *  - where the system allows unprivileged user namespaces (checked at start, and reported):
 *    a fresh network namespace (no interface but a downed loopback), a fresh PID namespace
 *    (every process the program starts dies with it, so nothing outlives the run), and a mount
 *    namespace in which every file system is read-only except the working directory; all
 *    capabilities are then dropped, so the program cannot undo any of it;
 *  - a second layer inside the interpreter (an audit hook, like human-eval's reliability guard
 *    but enforced on the audit events): no sockets, subprocesses, forks, signals to others,
 *    native libraries, or writes and deletions outside the working directory.
 * Without namespaces the run still has the limits, timeout, clean environment and guard, and
 * `isolation` says which kernel protections are missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SandboxOptions {
  /** Python interpreter (default: ZIYA_PYTHON, else python3 on PATH resolved to its real executable) */
  python?: string;
  /** wall-clock limit per program, interpreter start included (default 5000 ms) */
  timeoutMs?: number;
  cpuSeconds?: number;
  memoryBytes?: number;
  maxProcesses?: number;
  maxFileBytes?: number;
  /** 'auto' uses namespaces when the system allows them; 'none' never does */
  isolation?: 'auto' | 'none';
  /** the in-interpreter audit-hook layer (default on) */
  guard?: boolean;
}

export interface Isolation {
  namespaces: boolean;
  network: boolean;
  filesystem: boolean;
  pidNamespace: boolean;
  guard: boolean;
  notes: string[];
}

export interface RunResult {
  status: 'passed' | 'failed' | 'timed out';
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** last line of stderr for failures (the exception) */
  reason: string;
}

// Runs as root of a new user namespace: the working directory becomes its own mount, every
// other mount is made read-only, then all capabilities are dropped for the program.
const SETUP = `set -e
WD="$1"; shift
mount --bind "$WD" "$WD"
awk '{print $2}' /proc/self/mounts | sort -u | while read -r m; do
  case "$m" in "$WD"|/proc|/proc/*) continue;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || echo "ziya-sandbox: cannot make $m read-only" >&2
done
cd "$WD"
exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all "$@"`;

// The interpreter-level guard: an audit hook installed before the program runs.
const GUARD = `import sys, os
_wd = os.path.realpath(os.getcwd()) + os.sep
def _inside(p):
    try:
        p = os.fsdecode(p) if not isinstance(p, int) else None
    except Exception:
        return False
    if p is None:
        return True
    return os.path.realpath(p).startswith(_wd)
_deny = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "subprocess.Popen", "os.system",
         "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.kill", "os.killpg", "ctypes.dlopen",
         "ctypes.dlsym", "os.putenv", "os.unsetenv", "os.chdir", "os.chroot", "os.setuid", "os.setgid"}
_paths = {"os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.mkdir", "os.symlink", "os.link", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
def _hook(ev, args):
    if ev in _deny:
        raise PermissionError("sandbox: " + ev + " is not allowed")
    if ev == "open":
        mode = args[1] if len(args) > 1 else "r"
        flags = args[2] if len(args) > 2 else 0
        w = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        if w and not _inside(args[0]):
            raise PermissionError("sandbox: writing outside the working directory is not allowed")
    elif ev in _paths:
        for a in args[:2]:
            if isinstance(a, (str, bytes, os.PathLike)) and not _inside(a):
                raise PermissionError("sandbox: " + ev + " outside the working directory is not allowed")
sys.addaudithook(_hook)
del _hook
_src = open("program.py", encoding="utf-8").read()
_code = compile(_src, "program.py", "exec")
del _src
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
`;

const CAP = 64 * 1024;

let probed: { python: string; namespaces: boolean; notes: string[] } | null = null;

function resolvePython(explicit?: string): string {
  const cand = explicit ?? process.env['ZIYA_PYTHON'] ?? 'python3';
  const r = spawnSync(cand, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`sandbox: no Python interpreter (${cand}): ${r.error?.message ?? r.stderr.trim()}; HumanEval needs python3 (set ZIYA_PYTHON)`);
  return r.stdout.trim();
}

export class Sandbox {
  readonly isolation: Isolation;
  private constructor(readonly python: string, readonly opts: Required<Omit<SandboxOptions, 'python'>>, isolation: Isolation) {
    this.isolation = isolation;
  }

  /** finds Python and checks which kernel protections this system allows */
  static open(o: SandboxOptions = {}): Sandbox {
    const opts = {
      timeoutMs: o.timeoutMs ?? 5000,
      cpuSeconds: o.cpuSeconds ?? 10,
      memoryBytes: o.memoryBytes ?? 1 << 30,
      maxProcesses: o.maxProcesses ?? 64,
      maxFileBytes: o.maxFileBytes ?? 16 << 20,
      isolation: o.isolation ?? 'auto',
      guard: o.guard ?? true,
    };
    if (!probed || (o.python && probed.python !== o.python)) {
      const python = resolvePython(o.python);
      const notes: string[] = [];
      let namespaces = false;
      const wd = mkdtempSync(join(tmpdir(), 'ziya-sbx-probe-'));
      try {
        const r = spawnSync('unshare', ['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc', 'sh', '-c', SETUP, 'sh', wd, 'sh', '-c', `touch "${wd}/ok" && ! touch /ziya-sbx-escape-probe 2>/dev/null`], { encoding: 'utf8', timeout: 20000 });
        namespaces = r.status === 0 && existsSync(join(wd, 'ok'));
        if (!namespaces) notes.push(`user namespaces are not available here (${(r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`}): no network, PID or file-system isolation from the kernel; the interpreter guard, limits and timeout still apply`);
        else if (r.stderr.includes('cannot make')) notes.push(r.stderr.trim());
        if (!existsSync('/usr/bin/prlimit') && spawnSync('prlimit', ['--version']).status !== 0) notes.push('prlimit is missing: no kernel resource limits');
      } finally {
        rmSync(wd, { recursive: true, force: true });
      }
      probed = { python, namespaces, notes };
    }
    const ns = opts.isolation === 'auto' && probed.namespaces;
    const notes = [...probed.notes];
    if (opts.isolation === 'none') notes.push('namespaces turned off by the caller');
    if (!opts.guard) notes.push('interpreter guard turned off by the caller');
    return new Sandbox(probed.python, opts, { namespaces: ns, network: ns, filesystem: ns, pidNamespace: ns, guard: opts.guard, notes });
  }

  /** one line for reports */
  describe(): string {
    const i = this.isolation;
    const on = (b: boolean) => (b ? 'yes' : 'NO');
    return `python ${this.python}; network isolation ${on(i.network)}, read-only file system ${on(i.filesystem)}, PID namespace ${on(i.pidNamespace)}, interpreter guard ${on(i.guard)}; limits: ${this.opts.timeoutMs} ms wall, ${this.opts.cpuSeconds} s CPU, ${Math.round(this.opts.memoryBytes / 2 ** 20)} MiB memory, ${this.opts.maxProcesses} processes${i.notes.length ? ` (${i.notes.join('; ')})` : ''}`;
  }

  run(program: string, o: { timeoutMs?: number } = {}): Promise<RunResult> {
    const wd = mkdtempSync(join(tmpdir(), 'ziya-sbx-'));
    writeFileSync(join(wd, 'program.py'), program);
    const entry = this.opts.guard ? (writeFileSync(join(wd, 'runner.py'), GUARD), 'runner.py') : 'program.py';
    const limits = [`--as=${this.opts.memoryBytes}`, `--cpu=${this.opts.cpuSeconds}`, `--nproc=${this.opts.maxProcesses}`, `--fsize=${this.opts.maxFileBytes}`, '--nofile=256', '--core=0'];
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: wd, TMPDIR: wd, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', PYTHONHASHSEED: '0', OMP_NUM_THREADS: '1' };
    const py = ['prlimit', ...limits, '--', this.python, '-I', '-B', entry];
    const [cmd, ...args] = this.isolation.namespaces
      ? ['unshare', '--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc', 'sh', '-c', SETUP, 'sh', wd, ...py]
      : py;
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs;
    const t0 = performance.now();
    return new Promise((resolve) => {
      const child = spawn(cmd!, args, { cwd: wd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '', timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < CAP) stdout += d.slice(0, CAP - stdout.length); });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < CAP) stderr += d.slice(0, CAP - stderr.length); });
      const killAll = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killAll();
      }, timeoutMs);
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        killAll(); // anything left in the process group (the PID namespace is gone with its first process)
        rmSync(wd, { recursive: true, force: true });
        const lines = stderr.trim().split('\n');
        const status = timedOut ? 'timed out' : code === 0 ? 'passed' : 'failed';
        const reason = status === 'timed out' ? `timed out after ${timeoutMs} ms` : status === 'failed' ? (lines[lines.length - 1] || (signal ? `killed by ${signal}` : `exit ${code}`)) : '';
        resolve({ status, exitCode: code, signal, stdout, stderr, wallMs: performance.now() - t0, reason });
      };
      child.on('error', (e) => {
        stderr += `\n${e.message}`;
        done(127, null);
      });
      child.on('close', done);
    });
  }
}
