/** laws.html: constants with intervals, predicted against observed, loss against volume per slice, the held-out mixtures and the recommendation. */
import { chart } from '../ui/monitor.js';
import type { LawsResult } from './experiment.js';
import type { FitResult } from './fit.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const g = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : '-');

/** predicted against observed loss as a scatter with the diagonal */
export function scatter(title: string, pts: { observed: number; predicted: number; label?: string }[]): string {
  const W = 360, H = 320, P = 40;
  const all = pts.flatMap((p) => [p.observed, p.predicted]).filter(Number.isFinite);
  if (!all.length) return '';
  const lo = Math.min(...all), hi = Math.max(...all, lo + 1e-9);
  const X = (v: number) => P + ((v - lo) / (hi - lo)) * (W - 2 * P), Y = (v: number) => H - P - ((v - lo) / (hi - lo)) * (H - 2 * P);
  const dots = pts.map((p) => `<circle cx="${X(p.observed).toFixed(1)}" cy="${Y(p.predicted).toFixed(1)}" r="3" fill="#1f77b4" fill-opacity="0.7"><title>${esc(p.label ?? '')} observed ${g(p.observed)}, predicted ${g(p.predicted)}</title></circle>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><line x1="${X(lo)}" y1="${Y(lo)}" x2="${X(hi)}" y2="${Y(hi)}" stroke="#bbb" stroke-dasharray="4 3"/><line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#999"/>${dots}<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">observed loss</text><text x="12" y="${H / 2}" font-size="11" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">predicted</text><text x="${P}" y="${H - P + 14}" font-size="10">${g(lo)}</text><text x="${W - P}" y="${H - P + 14}" font-size="10" text-anchor="end">${g(hi)}</text></svg></figure>`;
}

export function constantsTable(f: FitResult): string {
  return `<table><tr><th>constant</th><th>value</th><th>95% interval (bootstrap, ${f.bootstrap} resamples)</th></tr>${Object.entries(f.intervals).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${g(v.value)}</td><td>${g(v.lo)} – ${g(v.hi)}</td></tr>`).join('')}</table>
<p class="muted">Huber loss (delta 1e-3) at the optimum ${g(f.objective)}; RMS error of log loss ${g(f.rmseLog)}; ${f.starts} grid starts, ${f.converged} of the 32 best converged; ${f.seconds.toFixed(1)} s.</p>`;
}

export function lawsSection(r: LawsResult): string {
  const tasks = [...new Set(r.points.map((p) => p.task))];
  const curves = tasks.map((t) => chart(`test loss on ${t} against tokens of continual pre-training`, r.slices.map((s) => ({ name: s.name, points: r.points.filter((p) => p.task === t && p.slice === s.name).map((p) => [p.V, p.L] as [number, number]) })), false, 'tokens')).join('');
  const sl = `<table><tr><th>slice</th><th>documents</th><th>tokens</th><th>CH</th><th>RA</th>${tasks.map((t) => `<th>SIM ${esc(t)}</th>`).join('')}</tr>${r.slices.map((s) => `<tr><td>${esc(s.name)}</td><td>${s.documents}</td><td>${s.tokens.toLocaleString('en-US')}</td><td>${g(s.CH)}</td><td>${g(s.RA)}</td>${tasks.map((t) => `<td>${g(s.SIM[t]!)}</td>`).join('')}</tr>`).join('')}</table>`;
  const ho = r.heldout.length ? `<h3>Held-out mixtures (trained, not used in the fit)</h3><table><tr><th>mixture</th><th>task</th><th>tokens</th><th>observed</th><th>predicted</th><th>error</th></tr>${r.heldout.map((h) => `<tr><td>${esc(h.name)}</td><td>${esc(h.task)}</td><td>${h.V.toLocaleString('en-US')}</td><td>${g(h.observed)}</td><td>${g(h.predicted)}</td><td>${(100 * h.error).toFixed(2)}%</td></tr>`).join('')}</table>` : '';
  const rec = r.recommendation ? `<h3>Recommended mixture for ${esc(r.recommendation.task)} (${r.recommendation.budget.toLocaleString('en-US')} tokens, at most 4 epochs per slice)</h3><table><tr><th>slice</th><th>share</th><th>epochs</th></tr>${Object.entries(r.recommendation.shares).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${(100 * v).toFixed(1)}%</td><td>${g(r.recommendation!.epochs[k]!)}</td></tr>`).join('')}</table><p>predicted loss ${g(r.recommendation.predictedLoss)}</p>` : '';
  return `<p>${esc(r.calibration.note)}${r.calibration.coherence ? `; agreement with people (5-fold): coherence accuracy ${g(r.calibration.coherence.accuracy)}, kappa ${g(r.calibration.coherence.kappa)}; readability accuracy ${g(r.calibration.readability!.accuracy)}, kappa ${g(r.calibration.readability!.kappa)}` : ''}. SIM: ${esc(r.embedder)}.</p>
<h3>Slices</h3>${sl}
<h3>Fitted law: L = D^-alpha + E, D = (A·CH + B·RA + C·SIM)·V + F</h3><p class="muted">F grid {1, 1.67, 2.33, 3} × ${r.fScale.toExponential(0)} (the experiment's volume scale).</p>
${Object.entries(r.perTask).map(([t, f]) => `<h4>${esc(t)} (${f.residuals.length} points)</h4>${constantsTable(f)}${scatter(`${t}: predicted against observed`, f.residuals.map((x, i) => ({ ...x, label: `${r.points.filter((p) => p.task === t)[i]!.slice} V=${r.points.filter((p) => p.task === t)[i]!.V}` })))}`).join('')}
<h4>all tasks together (${r.points.length} points, as Ziya2 pools its six benchmarks)</h4>${constantsTable(r.fit)}
${scatter('all tasks: predicted against observed', r.fit.residuals.map((x, i) => ({ ...x, label: `${r.points[i]!.slice} / ${r.points[i]!.task} / V=${r.points[i]!.V}` })))}${curves}
${ho}${rec}`;
}

export function lawsHtml(r: LawsResult): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>scaling laws: ${esc(r.recipe)}</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}.muted{color:#777}figure{display:inline-block;margin:8px 16px 8px 0}</style></head><body>
<h1>Data-centric scaling law: ${esc(r.recipe)}</h1><p class="muted">${r.seconds.toFixed(0)} s</p>${lawsSection(r)}</body></html>
`;
}
