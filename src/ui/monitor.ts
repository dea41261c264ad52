/**
 * The live training view: one self-contained HTML file (inline SVG charts of loss, learning rate,
 * gradient norm, tokens/s and held-out loss per domain) rewritten while training runs; it reloads
 * itself every few seconds until the run is done. Opens from disk, no server needed.
 */
export interface MonitorPoint {
  step: number;
  loss?: number;
  lr?: number;
  grad_norm?: number;
  tokens_per_s?: number;
  eval?: Record<string, number>;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function chart(title: string, series: { name: string; points: [number, number][] }[], log = false, xLabel = 'step', xTicks?: string[]): string {
  const W = 460, H = 200, P = 36;
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!log || y > 0));
  if (!all.length) return `<figure><figcaption>${esc(title)}</figcaption><p>no data yet</p></figure>`;
  const xs = all.map(([x]) => x), ys = all.map(([, y]) => (log ? Math.log10(y) : y));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-9);
  const X = (x: number) => P + ((x - x0) / (x1 - x0)) * (W - 2 * P);
  const Y = (y: number) => H - P + (-((log ? Math.log10(y) : y) - y0) / (y1 - y0)) * (H - 2 * P);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const lines = series.map((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0)).map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="1.5" points="${pts}"/>` + (series.length > 1 ? `<text x="${W - P}" y="${14 + 12 * i}" text-anchor="end" font-size="11" fill="${colors[i % colors.length]}">${esc(s.name)}</text>` : '');
  }).join('');
  const fmt = (v: number) => (log ? (10 ** v).toPrecision(3) : v.toPrecision(3));
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#999"/>` +
    `<text x="${P - 4}" y="${P + 4}" text-anchor="end" font-size="10">${fmt(y1)}</text><text x="${P - 4}" y="${H - P}" text-anchor="end" font-size="10">${fmt(y0)}</text>` +
    (xTicks
      ? xTicks.map((t, i) => `<text x="${X(i).toFixed(1)}" y="${H - P + 14}" text-anchor="middle" font-size="10">${esc(t)}</text>`).join('')
      : `<text x="${P}" y="${H - P + 14}" font-size="10">${x0}</text><text x="${W - P}" y="${H - P + 14}" text-anchor="end" font-size="10">${esc(xLabel)} ${x1}</text>`) + `${lines}</svg></figure>`;
}

export function monitorHtml(title: string, points: MonitorPoint[], opts: { done: boolean; totalSteps: number; note?: string }): string {
  const steps = points.filter((p) => p.loss !== undefined);
  const evals = points.filter((p) => p.eval);
  const domains = [...new Set(evals.flatMap((e) => Object.keys(e.eval!)))];
  const last = steps[steps.length - 1];
  const summary = last ? `step ${last.step + 1} of ${opts.totalSteps} · loss ${last.loss!.toFixed(4)} · lr ${last.lr!.toExponential(2)} · ${Math.round(last.tokens_per_s ?? 0).toLocaleString('en-US')} tokens/s` : 'starting';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>${opts.done ? '' : '<meta http-equiv="refresh" content="5">'}
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px 16px 8px 0}figcaption{font-weight:600;margin-bottom:4px}.s{color:#555}</style></head><body>
<h1>${esc(title)}</h1><p class="s">${esc(summary)}${opts.done ? ' · finished' : ' · running (this page reloads every 5 s)'}</p>${opts.note ? `<p>${esc(opts.note)}</p>` : ''}
${chart('training loss', [{ name: 'loss', points: steps.map((p) => [p.step, p.loss!]) }])}
${chart('learning rate', [{ name: 'lr', points: steps.map((p) => [p.step, p.lr!]) }])}
${chart('gradient norm (before clipping)', [{ name: 'grad norm', points: steps.map((p) => [p.step, p.grad_norm!]) }], true)}
${chart('tokens per second', [{ name: 'tokens/s', points: steps.map((p) => [p.step, p.tokens_per_s!]) }])}
${domains.length ? chart('held-out loss per domain', domains.map((d) => ({ name: d, points: evals.map((e) => [e.step, e.eval![d]!] as [number, number]) }))) : ''}
</body></html>
`;
}
