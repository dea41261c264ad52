/** A progress line: percentage, documents/s, MB/s, ETA. Redraws in place on a TTY, prints periodically otherwise. */
export class Progress {
  private t0 = Date.now();
  private last = 0;
  private lastLine = '';
  constructor(private label: string, private totalBytes: number, private everyMs = 1000, private out: NodeJS.WriteStream = process.stderr, private enabled = true, private unit = 'docs') {}

  static fmtTime(s: number): string {
    if (!Number.isFinite(s) || s < 0) return '--:--';
    s = Math.round(s);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
  }

  line(bytes: number, docs: number, extra = ''): string {
    const el = Math.max(1e-3, (Date.now() - this.t0) / 1000);
    const pct = this.totalBytes ? Math.min(100, (100 * bytes) / this.totalBytes) : 0;
    const mbs = bytes / 1e6 / el;
    const eta = bytes > 0 && this.totalBytes ? ((this.totalBytes - bytes) / bytes) * el : NaN;
    return `${this.label} ${pct.toFixed(1).padStart(5)}% | ${docs.toLocaleString('en-US')} ${this.unit} | ${Math.round(docs / el).toLocaleString('en-US')} ${this.unit}/s | ${mbs.toFixed(1)} MB/s | ETA ${Progress.fmtTime(eta)}${extra ? ' | ' + extra : ''}`;
  }

  update(bytes: number, docs: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    const tty = this.out.isTTY;
    if (now - this.last < (tty ? 200 : this.everyMs)) return;
    this.last = now;
    const l = this.line(bytes, docs, extra);
    if (tty) this.out.write(`\r${l.padEnd(this.lastLine.length)}`);
    else this.out.write(l + '\n');
    this.lastLine = l;
  }

  done(bytes: number, docs: number, extra = ''): void {
    if (!this.enabled) return;
    const l = this.line(bytes, docs, extra);
    this.out.write(this.out.isTTY ? `\r${l.padEnd(this.lastLine.length)}\n` : l + '\n');
  }
}
