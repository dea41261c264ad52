/**
 * Server-rendered pages of the app. Every piece of data is escaped on the way out; charts are
 * inline SVG; the only script is /static/app.js (the Content-Security-Policy allows no other).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chart, type MonitorPoint } from './monitor.js';
import { resultsSection, trackSection, readTrack } from '../eval/report.js';
import type { TaskResult } from '../eval/runner.js';
import { gateSection } from '../dataeval/report.js';
import type { Iteration } from '../dataeval/loop.js';
import type { RunEntry } from './runs.js';
import { lawsSection } from '../laws/report.js';
import type { LawsResult } from '../laws/experiment.js';

export const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (x: number) => x.toLocaleString('en-US');
const q = (id: string) => encodeURIComponent(id);

export function layout(title: string, body: string, page = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Ziya</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/style.css"><script src="/static/app.js" defer></script></head>
<body data-page="${esc(page)}"><nav><a href="/">Ziya</a> · <a href="/#factory">factory runs</a> · <a href="/#train">training runs</a> · <a href="/#eval">evaluations</a> · <a href="/#laws">scaling laws</a></nav>
<main>${body}</main></body></html>
`;
}

export function indexPage(runs: RunEntry[], root: string): string {
  const list = (kind: string, links: (r: RunEntry) => string) => {
    const rs = runs.filter((r) => r.kind === kind);
    return rs.length ? `<table><tr><th>run</th><th>updated</th><th></th></tr>${rs.map((r) => `<tr><td>${esc(r.id)}</td><td>${esc(new Date(r.mtime).toISOString().slice(0, 16).replace('T', ' '))}</td><td>${links(r)}</td></tr>`).join('')}</table>` : '<p class="muted">none found</p>';
  };
  return layout('runs', `<h1>Runs under ${esc(root)}</h1>
<h2 id="factory">Factory runs</h2>${list('factory', (r) => `<a href="/factory?run=${q(r.id)}">dashboard</a> · <a href="/annotate?run=${q(r.id)}">annotate</a>`)}
<h2 id="train">Training runs</h2>${list('train', (r) => `<a href="/train?run=${q(r.id)}">curves</a>`)}
<h2 id="eval">Evaluations</h2>${list('eval', (r) => `<a href="/eval?run=${q(r.id)}">tables</a>`)}
<h2 id="laws">Scaling-law experiments</h2>${list('laws', (r) => `<a href="/laws?run=${q(r.id)}">fit</a>`)}`, 'index');
}

interface RuleStats { docsDropped: number; docsCut?: number; charsCut?: number; marginal?: number; examples?: { id: string; language?: string; text: string }[] }
interface StepStats { name: string; docsIn: number; docsOut: number; charsIn: number; charsOut: number; seconds: number; rules: Record<string, RuleStats> }
interface Stats {
  recipe: string; read: number; kept: number; charsRead: number; charsKept: number; seconds: number;
  accounting: { read: number; kept: number; droppedTotal: number; quarantinedTotal: number; dropped: Record<string, number>; balanced: boolean };
  quarantined: Record<string, number>; steps: StepStats[]; corpusSteps: Record<string, Record<string, unknown>>; warnings: string[];
}

export function bars(title: string, labels: string[], values: number[]): string {
  // many bars: the labels are turned to read along a slant, with room below for them
  const slant = labels.length > 6 && labels.length <= 24;
  const W = 460, P = 30, B = slant ? 70 : 30, H = 150 + B, max = Math.max(1, ...values), bw = (W - 2 * P) / Math.max(1, values.length);
  const rects = values.map((v, i) => `<rect x="${(P + i * bw + 1).toFixed(1)}" y="${(H - B - ((H - P - B) * v) / max).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(((H - P - B) * v) / max).toFixed(1)}" fill="#4a7fb5"><title>${esc(labels[i])}: ${n(v)}</title></rect>`).join('');
  const ticks = labels.length > 24 ? '' : labels.map((l, i) => {
    const x = (P + i * bw + bw / 2).toFixed(1), y = H - B + 12;
    return slant ? `<text x="${x}" y="${y}" font-size="9" text-anchor="end" transform="rotate(-40 ${x} ${y})">${esc(l)}</text>` : `<text x="${x}" y="${y}" font-size="9" text-anchor="middle">${esc(l)}</text>`;
  }).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><line x1="${P}" y1="${H - B}" x2="${W - P}" y2="${H - B}" stroke="#999"/>${rects}${ticks}<text x="${P - 4}" y="${P}" font-size="10" text-anchor="end">${n(max)}</text></svg></figure>`;
}

export function factoryPage(run: RunEntry): string {
  const s = JSON.parse(readFileSync(join(run.dir, 'stats.json'), 'utf8')) as Stats;
  const a = s.accounting;
  const funnel = bars('documents after each step (funnel)', ['read', ...s.steps.map((x) => x.name)], [s.read, ...s.steps.map((x) => x.docsOut)]);
  const rules = s.steps.flatMap((st) => Object.entries(st.rules).map(([name, r]) => ({ step: st.name, name, r }))).filter((x) => x.r.docsDropped || x.r.docsCut).sort((x, y) => (y.r.docsDropped + (y.r.docsCut ?? 0)) - (x.r.docsDropped + (x.r.docsCut ?? 0)));
  const ruleRows = rules.map(({ step, name, r }) => `<tr><td>${esc(step)}</td><td>${esc(name)}</td><td>${n(r.docsDropped)}</td><td>${n(r.marginal ?? 0)}</td><td>${n(r.docsCut ?? 0)}</td><td>${n(r.charsCut ?? 0)}</td><td class="l">${(r.examples ?? []).slice(0, 3).map((e) => `<details><summary>${esc(e.id)}${e.language ? ` (${esc(e.language)})` : ''}</summary><pre class="doc">${esc(e.text)}</pre></details>`).join('')}</td></tr>`).join('');
  const hists = Object.entries(s.corpusSteps ?? {}).flatMap(([step, v]) => Object.entries((v['histograms'] ?? {}) as Record<string, number[]>).map(([lang, bins]) => bars(`${step}: ${lang} perplexity (log10 bins of 0.2, 10^0 to 10^8)`, bins.map((_, i) => `10^${(i / 5).toFixed(1)}`), bins)));
  const noScores = hists.length === 0 ? '<p class="muted">this run has no perplexity scores (no ppl_buckets step)</p>' : '';
  const dedup = Object.entries(s.corpusSteps ?? {}).filter(([k]) => /dedup/.test(k)).map(([k, v]) => {
    const facts = Object.entries(v).filter(([, x]) => typeof x === 'number' || typeof x === 'string').map(([f, x]) => `<tr><td>${esc(f)}</td><td>${esc(x)}</td></tr>`).join('');
    const sizes = (v['sizes'] ?? {}) as Record<string, number>;
    const shown = ((v['shown'] ?? []) as { k: string; text: string }[][]).slice(0, 10).map((c) => `<div class="cluster">${c.map((m, i) => `<div class="ex"><span class="muted">${esc(m.k)} ${i === 0 ? '(kept)' : '(dropped)'}</span> ${esc(m.text)}</div>`).join('')}</div>`).join('');
    return `<h3>${esc(k)}</h3><table>${facts}</table>${Object.keys(sizes).length ? bars('cluster sizes', Object.keys(sizes), Object.values(sizes)) : ''}${shown}`;
  }).join('');
  let gate = '';
  const gdir = run.gateDir ?? run.dir;
  if (existsSync(join(gdir, 'gate.json'))) {
    const g = JSON.parse(readFileSync(join(gdir, 'gate.json'), 'utf8')) as { stopped: string; iterations: Iteration[] };
    const last = g.iterations[g.iterations.length - 1];
    gate = `<h2>Data evaluation gate</h2><p>${esc(g.stopped)}</p><table><tr><th>#</th><th>tightened</th><th>kept</th><th>unqualified</th><th>gate</th><th>segments</th></tr>${g.iterations.map((it) => `<tr><td>${it.index}</td><td class="l">${it.changes.map(esc).join('<br>') || '(recipe as written)'}</td><td>${n(it.kept)}</td><td>${it.gate.unqualified}/${it.gate.sampled}</td><td>${it.gate.pass ? 'pass' : 'fail'}</td><td>${it.segmentsRun} run, ${it.segmentsReused} reused</td></tr>`).join('')}</table>${last ? gateSection(last.gate) : ''}`;
  }
  let attrs = '';
  if (existsSync(join(run.dir, 'annotation', 'attributes.json'))) {
    const at = JSON.parse(readFileSync(join(run.dir, 'annotation', 'attributes.json'), 'utf8')) as Record<string, unknown>;
    attrs = `<h2>Human evaluation</h2><p>${esc(`documents ${at['documents']} · CH ${at['CH']} · RA ${at['RA']} · non-toxic ${at['nonToxic']}`)}</p>`;
  }
  return layout(`factory ${run.id}`, `<h1>Factory run ${esc(run.id)}</h1>
<p class="kpis"><span><b>${n(a.read)}</b> read</span><span><b>${n(a.kept)}</b> kept</span><span><b>${n(a.droppedTotal)}</b> dropped</span><span><b>${n(a.quarantinedTotal)}</b> quarantined</span><span><b>${s.charsRead ? ((100 * s.charsKept) / s.charsRead).toFixed(1) : '0'}%</b> characters kept</span></p>
<p class="${a.balanced ? 'ok' : 'bad'}">accounting ${a.balanced ? 'balanced' : 'NOT balanced'}: read = kept + dropped + quarantined</p>
<p><a href="/annotate?run=${q(run.id)}">annotate a random sample of this run (human evaluation)</a></p>
${funnel}
<h2>Removals by rule</h2><table><tr><th>step</th><th>rule</th><th>docs dropped</th><th>marginal</th><th>docs cut</th><th>chars cut</th><th>examples</th></tr>${ruleRows || '<tr><td colspan="7">no removals</td></tr>'}</table>
<h2>Quarantine</h2><table>${Object.entries(s.quarantined ?? {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${n(v)}</td></tr>`).join('') || '<tr><td>none</td></tr>'}</table>
<h2>Scores</h2>${hists.join('')}${noScores}
<h2>De-duplication</h2>${dedup || '<p class="muted">no de-duplication step</p>'}
${gate}${attrs}`, 'factory');
}

export function readMetrics(dir: string): MonitorPoint[] {
  const f = join(dir, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as MonitorPoint];
    } catch {
      return []; // a line being written
    }
  });
}

export function trainPage(run: RunEntry): string {
  const pts = readMetrics(run.dir);
  const steps = pts.filter((p) => p.loss !== undefined);
  const evals = pts.filter((p) => p.eval);
  const domains = [...new Set(evals.flatMap((e) => Object.keys(e.eval!)))];
  return layout(`training ${run.id}`, `<h1>Training run ${esc(run.id)}</h1>
<p class="muted" id="live-status">${steps.length} steps logged; this page updates itself while the run writes metrics.jsonl</p>
<div id="charts" data-run="${esc(run.id)}">
<div data-chart="loss">${chart('training loss', [{ name: 'loss', points: steps.map((p) => [p.step, p.loss!]) }])}</div>
<div data-chart="lr">${chart('learning rate', [{ name: 'lr', points: steps.map((p) => [p.step, p.lr!]) }])}</div>
<div data-chart="grad_norm">${chart('gradient norm', [{ name: 'grad norm', points: steps.map((p) => [p.step, p.grad_norm!]) }], true)}</div>
<div data-chart="tokens_per_s">${chart('tokens per second', [{ name: 'tokens/s', points: steps.map((p) => [p.step, p.tokens_per_s!]) }])}</div>
${domains.length ? `<div data-chart="eval">${chart('held-out loss per domain', domains.map((d) => ({ name: d, points: evals.map((e) => [e.step, e.eval![d]!] as [number, number]) })))}</div>` : ''}
</div>`, 'train');
}

export function evalPage(run: RunEntry): string {
  const r = JSON.parse(readFileSync(join(run.dir, 'results.json'), 'utf8')) as { model: string; stage?: string; results: TaskResult[] };
  const track = existsSync(join(run.dir, 'track.jsonl')) ? readTrack(join(run.dir, 'track.jsonl')) : [];
  return layout(`evaluation ${run.id}`, `<h1>Evaluation ${esc(run.id)}</h1><p>model ${esc(r.model)}${r.stage ? ` · stage ${esc(r.stage)}` : ''}</p>
<p class="muted">Scores in % with standard errors; micro: every question counts once, macro: every subject counts once.</p>
${resultsSection(r.results)}
${track.length ? `<h2>Across stages</h2>${trackSection(track)}` : ''}`, 'eval');
}

export function lawsPage(run: RunEntry): string {
  const r = JSON.parse(readFileSync(join(run.dir, 'laws.json'), 'utf8')) as LawsResult;
  return layout(`laws ${run.id}`, `<h1>Data-centric scaling law: ${esc(run.id)}</h1>${lawsSection(r)}`, 'laws');
}

export function annotatePage(run: RunEntry): string {
  return layout(`annotate ${run.id}`, `<h1>Human evaluation: ${esc(run.id)}</h1>
<div id="annotate" data-run="${esc(run.id)}">
<form id="who"><label>annotator <input id="annotator" name="annotator" autocomplete="off" pattern="[A-Za-z0-9_.\\-]{1,40}" required></label> <button type="submit">start</button></form>
<div id="work" hidden>
<p id="progress" class="muted"></p><progress id="bar" max="1000" value="0"></progress>
<p class="keys">keys: <kbd>c</kbd> coherence problem · <kbd>r</kbd> readability problem · <kbd>t</kbd> toxic · <kbd>h</kbd> highlight the selected text as the checked problem · <kbd>Enter</kbd> save and next · <kbd>←</kbd>/<kbd>→</kbd> previous/next</p>
<fieldset><label><input type="checkbox" id="p-coherence"> <u>C</u>oherence problem (ads, navigation, boilerplate, unrelated pieces glued together)</label><br>
<label><input type="checkbox" id="p-readability"> <u>R</u>eadability problem (grammar, punctuation, formatting)</label><br>
<label><input type="checkbox" id="p-toxic"> <u>T</u>oxic (violent, terrorist, pornographic)</label></fieldset>
<p id="docmeta" class="muted"></p>
<pre id="doc" class="doc"></pre>
<p><button id="prev" type="button">← previous</button> <button id="save" type="button">save and next (Enter)</button> <span id="status" class="muted"></span></p>
</div>
<h2>Agreement and attributes</h2><div id="stats" class="muted">—</div>
<p><a href="/api/annotate/export?run=${q(run.id)}">export all labels (JSONL)</a></p>
</div>`, 'annotate');
}
