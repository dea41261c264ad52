/** The gate's HTML report: every iteration of the loop, the metrics of the last one, distributions. */
import { chart } from '../ui/monitor.js';
import type { GateReport } from './gate.js';
import type { Iteration } from './loop.js';
import { METRICS } from './metrics.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number) => `${(100 * x).toFixed(3)}%`;

export function gateSection(g: GateReport): string {
  const rows = METRICS.map((m) => {
    const x = g.metrics[m];
    const thr = (g.thresholds as unknown as Record<string, Record<string, number>>)[m]!;
    return `<tr><td>${m}</td><td>${esc(Object.entries(thr).map(([k, v]) => `${k} ${v}`).join(', '))}</td><td>${x.failed}</td><td>${pct(x.share)}</td><td class="l">${x.examples.map((e) => `<details><summary>${esc(e.id)} (${e.value})</summary><pre>${esc(e.excerpt)}</pre></details>`).join('')}</td></tr>`;
  }).join('');
  const langs = Object.entries(g.languages).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${esc(l)} ${(100 * n / g.sampled).toFixed(1)}%`).join(' · ');
  const lenLabels = ['<100', ...g.lengths.edges.map((e, i) => (i + 1 < g.lengths.edges.length ? `${e}-${g.lengths.edges[i + 1]}` : `≥${e}`))];
  return `<p><b>${g.pass ? 'PASS' : 'FAIL'}</b>: ${g.unqualified} of ${g.sampled} sampled documents unqualified (${pct(g.share)}; limit ${pct(g.limit)}), sample of ${g.kept} kept documents.</p>
<table><tr><th>metric</th><th>threshold</th><th>failed</th><th>share</th><th>examples</th></tr>${rows}</table>
<p>means: ${esc(Object.entries(g.means).map(([k, v]) => `${k} ${v}`).join(' · '))}</p>
<p>languages: ${langs}</p>
${chart('document length (characters)', [{ name: 'documents', points: g.lengths.counts.map((c, i) => [i, c] as [number, number]) }], false, 'bin', lenLabels)}
<h3>topics (keyword clusters)</h3><table><tr><th>share</th><th>keywords</th></tr>${g.topics.map((t) => `<tr><td>${(100 * t.share).toFixed(1)}%</td><td class="l">${esc(t.keywords.join(', '))}</td></tr>`).join('')}</table>`;
}

export function loopHtml(name: string, iterations: Iteration[], stopped: string): string {
  const its = iterations.map((it) => `<tr><td>${it.index}</td><td class="l">${it.changes.length ? it.changes.map(esc).join('<br>') : '(the recipe as written)'}</td><td>${it.read}</td><td>${it.kept}</td><td>${it.gate.unqualified}/${it.gate.sampled}</td><td>${pct(it.gate.share)}</td><td>${it.gate.pass ? 'pass' : 'fail'}</td><td>${it.segmentsRun} run, ${it.segmentsReused} reused</td><td>${it.seconds.toFixed(1)} s</td></tr>`).join('');
  const last = iterations[iterations.length - 1]!;
  return `<!doctype html><html><head><meta charset="utf-8"><title>data gate: ${esc(name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}td.l{text-align:left}pre{white-space:pre-wrap;max-width:60em}</style></head><body>
<h1>Data evaluation gate: ${esc(name)}</h1>
<p>${esc(stopped)}; final output ${esc(last.output)}</p>
<h2>iterations</h2>
<table><tr><th>#</th><th>tightened</th><th>read</th><th>kept</th><th>unqualified</th><th>share</th><th>gate</th><th>segments</th><th>time</th></tr>${its}</table>
<h2>last iteration</h2>${gateSection(last.gate)}
</body></html>
`;
}

export function gateHtml(g: GateReport): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>data gate</title><style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}td.l{text-align:left}pre{white-space:pre-wrap;max-width:60em}</style></head><body><h1>Data evaluation gate: ${esc(g.run)}</h1>${gateSection(g)}</body></html>\n`;
}
