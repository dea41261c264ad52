/**
 * What `ziya eval` shows and keeps: a text table (every figure with its standard error, micro
 * and macro), results.json, report.html (overall, categories, subjects, how each task was
 * scored, the sandbox's isolation), and a tracking file with one line per benchmark and stage
 * drawn as Ziya2's Figure 6 (score across training stages).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chart } from '../ui/monitor.js';
import type { Summary } from './metrics.js';
import type { TaskResult } from './runner.js';

const pct = (s: Summary) => (Number.isFinite(s.mean) ? `${(100 * s.mean).toFixed(2)} ± ${Number.isFinite(s.stderr) ? (100 * s.stderr).toFixed(2) : '-'}` : '-');
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** headline figure: macro for protocols whose source reports macro averages, micro otherwise */
export function headline(r: TaskResult): { metric: string; kind: 'micro' | 'macro'; value: Summary } {
  const metric = r.metrics[0]!;
  const kind = r.protocol === 'opencompass' || (r.protocol === 'original' && r.task !== 'mmlu') ? 'macro' : 'micro';
  return { metric, kind, value: r.overall[metric]![kind] };
}

export function formatTable(results: TaskResult[]): string {
  const rows = [['task', 'protocol', 'metric', 'micro (%)', 'macro (%)', 'n', 'items/s']];
  for (const r of results) for (const m of r.metrics) rows.push([r.task, r.protocol, m, pct(r.overall[m]!.micro), pct(r.overall[m]!.macro), String(r.n), r.itemsPerSecond.toFixed(2)]);
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const line = (r: string[]) => r.map((c, j) => (j >= 3 ? c.padStart(w[j]!) : c.padEnd(w[j]!))).join('  ');
  return [line(rows[0]!), w.map((n) => '-'.repeat(n)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function atomicWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path + '.tmp', text);
  renameSync(path + '.tmp', path);
}

export interface ReportMeta {
  model: string;
  stage?: string;
  started: string;
  cache?: string;
}

/** the per-task sections of a report (tables, categories, subjects, warnings) */
export function resultsSection(results: TaskResult[]): string {
  return results.map((r) => {
    const cats = Object.entries(r.categories);
    const subj = Object.entries(r.subjects);
    return `<h2>${esc(r.task)} <small>(${esc(r.protocol)})</small></h2>
<p class="s">${esc(r.scoring)}</p>${r.sandbox ? `<p class="s">sandbox: ${esc(r.sandbox)}</p>` : ''}
<table><tr><th>metric</th><th>micro (%)</th><th>macro (%)</th><th>n</th></tr>${r.metrics.map((m) => `<tr><td>${esc(m)}</td><td>${pct(r.overall[m]!.micro)}</td><td>${pct(r.overall[m]!.macro)}</td><td>${r.n}</td></tr>`).join('')}</table>
${cats.length ? `<h3>categories</h3><table><tr><th>category</th>${r.metrics.map((m) => `<th>${esc(m)} micro</th><th>${esc(m)} macro</th>`).join('')}</tr>${cats.map(([c, v]) => `<tr><td>${esc(c)}</td>${r.metrics.map((m) => `<td>${pct(v[m]!.micro)}</td><td>${pct(v[m]!.macro)}</td>`).join('')}</tr>`).join('')}</table>` : ''}
${subj.length > 1 ? `<details><summary>${subj.length} subjects</summary><table><tr><th>subject</th><th>n</th>${r.metrics.map((m) => `<th>${esc(m)} (%)</th>`).join('')}</tr>${subj.map(([s, v]) => `<tr><td>${esc(s)}</td><td>${v[r.metrics[0]!]!.n}</td>${r.metrics.map((m) => `<td>${pct(v[m]!)}</td>`).join('')}</tr>`).join('')}</table></details>` : ''}
${r.warnings.length ? `<p class="w">${r.warnings.map(esc).join('<br>')}</p>` : ''}`;
  }).join('\n');
}

export function renderHtml(results: TaskResult[], meta: ReportMeta): string {
  const sec = resultsSection(results);
  return `<!doctype html><html><head><meta charset="utf-8"><title>evaluation: ${esc(meta.model)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.s{color:#555}.w{color:#a40}</style></head><body>
<h1>Evaluation</h1><p>model: <b>${esc(meta.model)}</b>${meta.stage ? ` · stage <b>${esc(meta.stage)}</b>` : ''} · started ${esc(meta.started)}${meta.cache ? ` · cache ${esc(meta.cache)}` : ''}</p>
<p class="s">Scores in % with their standard errors. Micro: every question counts once; macro: every subject counts once.</p>
${sec}
</body></html>
`;
}

export function writeReports(dir: string, results: TaskResult[], meta: ReportMeta): { json: string; html: string } {
  const json = `${dir}/results.json`, html = `${dir}/report.html`;
  atomicWrite(json, JSON.stringify({ ...meta, results }, null, 2) + '\n');
  atomicWrite(html, renderHtml(results, meta));
  return { json, html };
}

// ------------------------------------------------------------------ tracking across checkpoints
export interface TrackRow {
  stage: string;
  model: string;
  task: string;
  protocol: string;
  metric: string;
  average: 'micro' | 'macro';
  value: number;
  stderr: number;
  n: number;
  at: string;
}

/** appends one row per benchmark (its headline figure) for this stage; a stage already there is replaced */
export function appendTrack(file: string, stage: string, results: TaskResult[]): void {
  const keep = readTrack(file).filter((r) => !(r.stage === stage && results.some((x) => x.task === r.task && x.protocol === r.protocol)));
  const at = new Date().toISOString();
  const add = results.map((r): TrackRow => {
    const h = headline(r);
    return { stage, model: r.model, task: r.task, protocol: r.protocol, metric: h.metric, average: h.kind, value: h.value.mean, stderr: h.value.stderr, n: r.n, at };
  });
  mkdirSync(dirname(file), { recursive: true });
  if (keep.length === readTrack(file).length) for (const r of add) appendFileSync(file, JSON.stringify(r) + '\n');
  else atomicWrite(file, [...keep, ...add].map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export function readTrack(file: string): TrackRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as TrackRow;
    } catch {
      throw new Error(`${file}:${i + 1}: not a tracking row`);
    }
  });
}

/** Figure 6: every benchmark's headline score across stages, in the order the stages first appear */
export function trackHtml(rows: TrackRow[], title = 'Benchmarks across training stages'): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style></head><body>
<h1>${esc(title)}</h1>${trackSection(rows)}</body></html>
`;
}

/** the chart and table of a tracking file */
export function trackSection(rows: TrackRow[]): string {
  const stages = [...new Set(rows.map((r) => r.stage))];
  const names = [...new Set(rows.map((r) => `${r.task} (${r.protocol}, ${r.metric})`))];
  const series = names.map((name) => ({ name, points: rows.filter((r) => `${r.task} (${r.protocol}, ${r.metric})` === name).map((r) => [stages.indexOf(r.stage), 100 * r.value] as [number, number]) }));
  const table = `<table><tr><th>benchmark</th>${stages.map((s) => `<th>${esc(s)}</th>`).join('')}</tr>${names.map((name) => `<tr><td>${esc(name)}</td>${stages.map((st) => {
    const row = rows.find((r) => `${r.task} (${r.protocol}, ${r.metric})` === name && r.stage === st);
    return `<td>${row ? `${(100 * row.value).toFixed(2)} ± ${(100 * row.stderr).toFixed(2)}` : '-'}</td>`;
  }).join('')}</tr>`).join('')}</table>`;
  return chart('score (%) per stage', series, false, 'stage', stages) + table;
}
