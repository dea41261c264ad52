/** The main job's single report: factory funnel and gate, attributes, training curves, per-stage table, benchmarks across stages. */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { chart } from '../ui/monitor.js';
import { bars, readMetrics } from '../ui/pages.js';
import { trackSection, readTrack } from '../eval/report.js';
import type { MainJobResult } from './pipeline.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (x: number) => x.toLocaleString('en-US');
const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));

export function mainReportHtml(r: MainJobResult, out: string): string {
  const link = (p: string, text: string) => (existsSync(p) ? `<a href="${esc(relative(out, p))}">${esc(text)}</a>` : '');
  const fin = r.factory.iterations[r.factory.iterations.length - 1]!;
  // the funnel of the final iteration: read, then the documents after every step of every segment
  const segStats = (fin.segments ?? [fin.output]).map((d) => JSON.parse(readFileSync(join(d, 'stats.json'), 'utf8')) as { read: number; steps: { name: string; docsOut: number }[] });
  const stats = { read: segStats[0]!.read, steps: segStats.flatMap((x) => x.steps) };
  // the funnel across the gate's segments: read, then the documents after each step of the final iteration
  const gateRows = r.factory.iterations.map((it) => `<tr><td>${it.index}</td><td class="l">${it.changes.map(esc).join('<br>') || '(the recipe as written)'}</td><td>${n(it.read)}</td><td>${n(it.kept)}</td><td>${it.gate.unqualified}/${it.gate.sampled}</td><td>${it.gate.pass ? 'pass' : 'fail'}</td></tr>`).join('');
  // training curves: every stage's loss against cumulative tokens
  const curves: { name: string; points: [number, number][] }[] = [];
  let offset = 0;
  const stageDirs = [{ name: 'base (from scratch, English)', dir: join(out, 'base', 'stages', 'pretrain') }, ...r.cpt.stages.map((s) => ({ name: s.name, dir: join(out, 'cpt', 'stages', s.name) }))];
  for (const s of stageDirs) {
    const pts = readMetrics(s.dir).filter((p) => p.loss !== undefined) as { step: number; loss: number; tokens?: number }[];
    let tok = offset;
    curves.push({ name: s.name, points: pts.map((p) => { tok += p.tokens ?? 0; return [tok, p.loss] as [number, number]; }) });
    offset = tok;
  }
  // the per-stage table: held-out loss per domain and the benchmarks
  const domains = [...new Set([...Object.keys(r.base.base), ...Object.keys(r.cpt.base), ...r.cpt.stages.flatMap((s) => Object.keys(s.heldout))])];
  const rows: { stage: string; loss: Record<string, number>; tokens: number; seconds: number }[] = [
    { stage: 'base model (after pre-training)', loss: { ...r.base.stages[0]!.heldout, ...r.cpt.base }, tokens: r.base.stages[0]!.tokens, seconds: r.base.stages[0]!.seconds },
    ...r.cpt.stages.map((s) => ({ stage: s.name, loss: s.heldout, tokens: s.tokens, seconds: s.seconds })),
  ];
  const evalFor = (i: number) => r.evals[i]?.results ?? [];
  const benchNames = (r.evals[0]?.results ?? []).flatMap((x) => x.metrics.slice(0, x.task === 'gsm8k' ? 2 : 1).map((m) => `${x.task} ${m}`));
  const benchCell = (i: number, name: string) => {
    const [task, metric] = name.split(' ') as [string, string];
    const res = evalFor(i).find((x) => x.task === task);
    const s = res?.overall[metric]?.micro;
    return s ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.stderr).toFixed(1)}` : '-';
  };
  const table = `<table><tr><th>after</th><th>tokens</th><th>time</th>${domains.map((d) => `<th>held-out loss ${esc(d)}</th>`).join('')}${benchNames.map((b) => `<th>${esc(b)} (%)</th>`).join('')}</tr>${rows.map((row, i) => `<tr><td>${esc(row.stage)}</td><td>${n(row.tokens)}</td><td>${row.seconds.toFixed(0)} s</td>${domains.map((d) => `<td>${f3(row.loss[d])}</td>`).join('')}${benchNames.map((b) => `<td>${benchCell(i, b)}</td>`).join('')}</tr>`).join('')}</table>`;
  const attrs = `<table><tr><th>stage data</th><th>documents</th><th>CH</th><th>RA</th>${Object.keys(r.attributes[0]?.SIM ?? {}).map((b) => `<th>SIM ${esc(b)}</th>`).join('')}</tr>${r.attributes.map((a) => `<tr><td>${esc(a.stage)}</td><td>${a.documents}</td><td>${f3(a.CH)}</td><td>${f3(a.RA)}</td>${Object.values(a.SIM).map((v) => `<td>${f3(v)}</td>`).join('')}</tr>`).join('')}</table>`;
  const track = existsSync(join(out, 'eval', 'track.jsonl')) ? trackSection(readTrack(join(out, 'eval', 'track.jsonl'))) : '';
  const phases = r.phases.map((p) => `<tr><td class="l">${esc(p.phase)}</td><td>${p.seconds.toFixed(1)} s</td></tr>`).join('');
  const ext = existsSync(join(out, 'cpt', 'tokenizer', 'extension.json')) ? (JSON.parse(readFileSync(join(out, 'cpt', 'tokenizer', 'extension.json'), 'utf8')) as { compression?: { per1000Before: number; per1000After: number; reduction: number } }).compression : undefined;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ziya-TS main job</title>
<style>body{font:14px/1.45 system-ui,'Noto Sans CJK SC',sans-serif;margin:24px;color:#222;max-width:1300px}table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #d6dbe1;padding:3px 8px;text-align:right;vertical-align:top}th{background:#f1f4f8}td.l,td:first-child{text-align:left}.muted{color:#777}figure{display:inline-block;margin:8px 16px 8px 0}figcaption{font-weight:600}</style></head><body>
<h1>Ziya2's recipe end to end (the embedded default, CPU scale)</h1>
<p class="muted">${r.seconds.toFixed(0)} s in all on this machine · output ${esc(out)}</p>
<h2>1. Data factory</h2>
<p>read ${n(stats.read)} records → kept ${n(fin.kept)} after the gate's last iteration. ${link(join(out, 'factory', 'gate.html'), 'gate report')}</p>
${bars('documents after each step (final iteration)', ['read', ...stats.steps.map((s) => s.name)], [stats.read, ...stats.steps.map((s) => s.docsOut)])}
<h3>Evaluation gate (automatic metrics on a sample; limit 0.1% unqualified)</h3><table><tr><th>iteration</th><th>tightened</th><th>read</th><th>kept</th><th>unqualified</th><th>gate</th></tr>${gateRows}</table>
<p class="muted">${esc(r.factory.stopped)}; ${r.factory.iterations.length} iteration(s).</p>
<h2>2. Data attributes per stage</h2>
<p class="muted">CH and RA: share of documents without a coherence or readability problem (uncalibrated estimator: no human labels in the default run; annotate with <code>ziya ui</code> to calibrate). SIM: centroid cosine of hashed n-gram TF-IDF vectors against each benchmark.</p>${attrs}
<h2>3. Tokenizer and models</h2>
<p>base tokenizer: BPE trained on the English part (1,024 pieces, byte fallback); extended with ${r.cpt.tokenizer.added} Chinese characters to ${n(r.cpt.tokenizer.size)} pieces${ext ? `; Chinese tokens per 1,000 characters ${ext.per1000Before} → ${ext.per1000After} (${ext.reduction}% fewer)` : ''}. Model: ${n(r.cpt.model.parameters)} parameters (LLaMA architecture; new embedding rows start as the mean of the rows that spelled the character).</p>
<h2>4. Training</h2>${chart('training loss against tokens (base pre-training, then the three stages)', curves, false, 'tokens')}
<h2>5. After each stage</h2>${table}
${track}
<h2>Time per phase</h2><table>${phases}</table>
</body></html>
`;
}
