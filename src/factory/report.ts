/** The run's HTML report: funnel, per-rule removals with marginal and overlap figures, examples, quarantine. */
import { accounting, type ShardStats, type StepStats } from '../core/stats.js';
import type { Plan } from './plan.js';
import type { Recipe } from './recipe.js';
import { STEP_ABOUT } from './registry.js';
import { DOC_RULES } from './filter/doc-rules.js';
import { PARA_RULES, LINE_RULES } from './filter/cut-rules.js';

const ABOUT = new Map<string, string>([...DOC_RULES, ...PARA_RULES, ...LINE_RULES].map((r) => [r.name, r.about]));

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n = (x: number) => x.toLocaleString('en-US');
const pct = (a: number, b: number) => (b ? (a < 0 ? '+' + ((-100 * a) / b).toFixed(2) + '% added' : ((100 * a) / b).toFixed(2) + '%') : '–');

function funnelSvg(read: number, steps: StepStats[]): string {
  const rows = [{ name: 'read', docs: read }, ...steps.map((s) => ({ name: s.name, docs: s.docsOut }))];
  const w = 640;
  const h = rows.length * 26 + 10;
  const max = Math.max(1, ...rows.map((r) => r.docs));
  const bars = rows.map((r, i) => {
    const bw = Math.max(1, ((w - 260) * r.docs) / max);
    return `<text x="150" y="${i * 26 + 22}" text-anchor="end" font-size="12">${esc(r.name)}</text><rect x="160" y="${i * 26 + 8}" width="${bw.toFixed(1)}" height="18" fill="#4a7fb5"/><text x="${(165 + bw).toFixed(1)}" y="${i * 26 + 22}" font-size="12">${n(r.docs)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="funnel">${bars.join('')}</svg>`;
}

function overlapMatrix(st: StepStats): string {
  const rules = Object.entries(st.rules).filter(([, r]) => r.docsFired > 0).map(([k]) => k);
  if (rules.length < 2) return '';
  const max = Math.max(1, ...rules.flatMap((a) => rules.map((b) => st.rules[a]!.overlap[b] ?? 0)));
  const head = rules.map((r) => `<th class="rot"><div>${esc(r.replace(/^doc\./, ''))}</div></th>`).join('');
  const body = rules.map((a) => {
    const cells = rules.map((b) => {
      const v = a === b ? st.rules[a]!.docsFired : st.rules[a]!.overlap[b] ?? 0;
      const alpha = a === b ? 0.15 : v / max;
      return `<td style="background:rgba(200,60,40,${alpha.toFixed(2)})" title="${esc(a)} ∧ ${esc(b)}: ${v}">${v || ''}</td>`;
    }).join('');
    return `<tr><th>${esc(a)}</th>${cells}</tr>`;
  }).join('');
  return `<h4>Overlap (documents on which both rules fired; diagonal: fired at all)</h4><div class="scroll"><table class="matrix"><tr><th></th>${head}</tr>${body}</table></div>`;
}

function ruleTable(st: StepStats): string {
  const rows = Object.entries(st.rules)
    .filter(([, r]) => r.docsDropped || r.docsCut || r.docsFired)
    .sort((a, b) => b[1].docsDropped + b[1].docsCut - (a[1].docsDropped + a[1].docsCut))
    .map(([name, r]) => {
      const top = Object.entries(r.overlap).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${esc(k)} (${v})`).join(', ');
      const ex = (lang: string) => r.examples.filter((e) => e.language === lang).map((e) => `<div class="ex"><span class="id">${esc(e.id)}</span> ${esc(e.text)}</div>`).join('') || '<span class="muted">–</span>';
      return `<tr><td><b>${esc(name)}</b><div class="muted">${esc(ABOUT.get(name) ?? '')}</div></td><td>${n(r.docsDropped)}</td><td>${n(r.charsDropped)}</td><td>${n(r.docsFired)}</td><td>${n(r.marginal)}</td><td>${top || '–'}</td><td>${n(r.docsCut)}</td><td>${n(r.charsCut)}</td>
<td class="exs"><details><summary>zh (${r.examples.filter((e) => e.language === 'zh').length}) · en (${r.examples.filter((e) => e.language === 'en').length}) · other (${r.examples.filter((e) => e.language === 'other').length})</summary><h5>中文</h5>${ex('zh')}<h5>English</h5>${ex('en')}<h5>other</h5>${ex('other')}</details></td></tr>`;
    });
  if (!rows.length) return '<p class="muted">No rule of this step fired.</p>';
  return `<table><tr><th>rule</th><th>docs dropped</th><th>chars dropped</th><th>docs fired</th><th>marginal</th><th>top overlaps</th><th>docs cut</th><th>chars cut</th><th>examples</th></tr>${rows.join('')}</table>`;
}

export function renderReport(recipe: Recipe, s: ShardStats, plan: Plan, corpus: Record<string, Record<string, unknown>> = {}): string {
  const acc = accounting(s);
  const funnel = s.steps.map((st) => `<tr><td>${esc(st.name)}</td><td class="muted">${esc(STEP_ABOUT[(recipe.steps.find((x) => (x.name ?? x.type) === st.name)?.type ?? 'normalize') as keyof typeof STEP_ABOUT] ?? '')}</td><td>${n(st.docsIn)}</td><td>${n(st.docsOut)}</td><td>${pct(st.docsIn - st.docsOut, st.docsIn)}</td><td>${n(st.charsIn)}</td><td>${n(st.charsOut)}</td><td>${pct(st.charsIn - st.charsOut, st.charsIn)}</td><td>${st.seconds.toFixed(2)}</td></tr>`).join('');
  const q = Object.entries(s.quarantined).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${n(v)}</td></tr>`).join('') || '<tr><td colspan="2" class="muted">none</td></tr>';
  const steps = s.steps.map((st) => `<section><h3>${esc(st.name)}</h3>${ruleTable(st)}${st.name.includes('doc_filter') || Object.keys(st.rules).some((r) => r.startsWith('doc.')) ? overlapMatrix(st) : ''}</section>`).join('');
  const dropped = Object.entries(acc.dropped).map(([k, v]) => `${esc(k)}: ${n(v)}`).join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ziya factory report: ${esc(recipe.name)}</title>
<style>
body{font:14px/1.45 system-ui,'Noto Sans CJK SC',sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f5f8}.muted{color:#888;font-size:12px}.ok{color:#1a7f37}.bad{color:#c62828}
.ex{border-left:3px solid #c9d6e8;padding:2px 6px;margin:4px 0;font-size:12px;white-space:pre-wrap;max-width:520px}.id{color:#999}
.exs{min-width:260px}.matrix td{text-align:center;font-size:11px;min-width:22px}.rot{height:120px;vertical-align:bottom}.rot div{writing-mode:vertical-rl;transform:rotate(180deg);font-size:11px}
.scroll{overflow-x:auto}.cluster{border:1px solid #ddd;margin:6px 0;padding:4px;display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:4px}.kpi{display:inline-block;margin:0 24px 8px 0}.kpi b{font-size:20px;display:block}
</style></head><body>
<h1>Factory report: ${esc(recipe.name)}</h1>
<p class="muted">recipe hash ${esc(plan.recipeHash)} · ${plan.shards.length} shards · ${n(s.bytesRead)} input bytes · ${s.seconds.toFixed(1)} worker-seconds</p>
<div><span class="kpi"><b>${n(acc.read)}</b>records read</span><span class="kpi"><b>${n(acc.kept)}</b>kept</span><span class="kpi"><b>${n(acc.droppedTotal)}</b>dropped</span><span class="kpi"><b>${n(acc.quarantinedTotal)}</b>quarantined</span><span class="kpi"><b>${pct(s.charsKept, s.charsRead)}</b>characters kept</span></div>
<p class="${acc.balanced ? 'ok' : 'bad'}">Accounting: read ${n(acc.read)} = kept ${n(acc.kept)} + dropped ${n(acc.droppedTotal)} + quarantined ${n(acc.quarantinedTotal)} ${acc.balanced ? '✔ balanced' : '✘ NOT balanced'}</p>
<p class="muted">Dropped by rule: ${dropped || 'none'}</p>
<h2>Funnel</h2>${funnelSvg(s.docsRead, s.steps)}
<table><tr><th>step</th><th>what it does</th><th>docs in</th><th>docs out</th><th>docs removed</th><th>chars in</th><th>chars out</th><th>chars removed</th><th>seconds</th></tr>${funnel}</table>
<h2>Quarantine</h2><table><tr><th>reason</th><th>records</th></tr>${q}</table>
<h2>Rules</h2><p class="muted"><b>docs dropped</b>: documents charged to the rule (first rule of its step that fired). <b>marginal</b>: documents on which only this rule fired, i.e. what turning it off would let through. <b>docs/chars cut</b>: partial removals (paragraphs, lines, masked spans). Examples are a deterministic sample per language.</p>
${steps}
${corpusSection(corpus)}
<h2>Warnings</h2>${s.warnings.length ? `<ul>${s.warnings.slice(0, 200).map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '<p class="muted">none</p>'}
</body></html>`;
}

function corpusSection(corpus: Record<string, Record<string, unknown>>): string {
  const parts = Object.entries(corpus).filter(([, v]) => Object.keys(v).length).map(([name, v]) => {
    const sizes = (v.sizes ?? {}) as Record<string, number>;
    const maxN = Math.max(1, ...Object.values(sizes));
    const hist = Object.entries(sizes).sort((a, b) => Number(a[0]) - Number(b[0])).map(([size, n]) => `<tr><td>${esc(size)}</td><td>${n}</td><td><div style="background:#4a7fb5;height:10px;width:${Math.max(2, (200 * n) / maxN)}px"></div></td></tr>`).join('');
    const shown = ((v.shown ?? []) as { k: string; text: string }[][]).map((c) => `<div class="cluster">${c.map((m, i) => `<div class="ex"><span class="id">${esc(m.k)}${i === 0 ? ' (kept)' : ' (dropped)'}</span> ${esc(m.text)}</div>`).join('')}</div>`).join('');
    const extra = Object.keys(v).filter((k) => /: /.test(k) || k === 'unscored');
    const hists = (v.histograms ?? {}) as Record<string, number[]>;
    const histSvg = Object.entries(hists).map(([lang, bins]) => {
      const max = Math.max(1, ...bins);
      const bars = bins.map((n, i) => `<rect x="${i * 12}" y="${60 - (60 * n) / max}" width="10" height="${(60 * n) / max}" fill="#4a7fb5"><title>10^${(i / 5).toFixed(1)}–10^${((i + 1) / 5).toFixed(1)}: ${n}</title></rect>`).join('');
      return `<div><b>${esc(lang)}</b> perplexity histogram (log scale, 10^0 to 10^8)<br><svg xmlns="http://www.w3.org/2000/svg" width="${bins.length * 12}" height="62">${bars}</svg></div>`;
    }).join('');
    const keys = [...extra, 'clusters', 'dropped', 'candidatePairs', 'emptyDocuments', 'probedPairs', 'jaccardThreshold', 'estimatedPrecision', 'medianJaccard', 'duplicates', 'seenBefore', 'noKey', 'm', 'k', 'inserted', 'falsePositiveRate', 'targetFalsePositiveRate'];
    const facts = keys.filter((k) => v[k] !== undefined && v[k] !== null).map((k) => `<tr><td>${esc(k)}</td><td>${esc(typeof v[k] === 'number' ? Number((v[k] as number).toPrecision(6)) : v[k])}</td></tr>`).join('');
    return `<section><h3>${esc(name)}</h3><table>${facts}</table>${histSvg}${hist ? `<h4>Cluster sizes</h4><table><tr><th>size</th><th>clusters</th><th></th></tr>${hist}</table>` : ''}${shown ? `<h4>Clusters side by side</h4>${shown}` : ''}</section>`;
  });
  return parts.length ? `<h2>Corpus steps</h2><p class="muted">Estimated precision: share of sampled (kept, dropped) pairs whose true Jaccard similarity of shingles reaches the threshold.</p>${parts.join('')}` : '';
}
