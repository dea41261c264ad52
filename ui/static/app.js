// The app's only script. It never writes HTML from data: text goes through textContent and
// SVG is built with createElementNS, so a document's content cannot become markup.
'use strict';
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function svgEl(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

// a line chart like the server's (src/ui/monitor.ts), drawn in the browser for live updates
function lineChart(title, series, log) {
  const W = 460, H = 200, P = 36;
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.appendChild(cap);
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!log || y > 0));
  if (!all.length) {
    const p = document.createElement('p');
    p.textContent = 'no data yet';
    fig.appendChild(p);
    return fig;
  }
  const tr = (y) => (log ? Math.log10(y) : y);
  const xs = all.map(([x]) => x), ys = all.map(([, y]) => tr(y));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-9);
  const X = (x) => P + ((x - x0) / (x1 - x0)) * (W - 2 * P), Y = (y) => H - P - ((tr(y) - y0) / (y1 - y0)) * (H - 2 * P);
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  svg.appendChild(svgEl('line', { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: '#999' }));
  svg.appendChild(svgEl('line', { x1: P, y1: P, x2: P, y2: H - P, stroke: '#999' }));
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0)).map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    svg.appendChild(svgEl('polyline', { fill: 'none', stroke: colors[i % colors.length], 'stroke-width': 1.5, points: pts }));
    if (series.length > 1) {
      const t = svgEl('text', { x: W - P, y: 14 + 12 * i, 'text-anchor': 'end', 'font-size': 11, fill: colors[i % colors.length] });
      t.textContent = s.name;
      svg.appendChild(t);
    }
  });
  const label = (x, y, text, anchor) => {
    const t = svgEl('text', { x, y, 'font-size': 10, 'text-anchor': anchor });
    t.textContent = text;
    svg.appendChild(t);
  };
  const fmt = (v) => (log ? (10 ** v).toPrecision(3) : v.toPrecision(3));
  label(P - 4, P + 4, fmt(y1), 'end');
  label(P - 4, H - P, fmt(y0), 'end');
  label(P, H - P + 14, String(x0), 'start');
  label(W - P, H - P + 14, `step ${x1}`, 'end');
  fig.appendChild(svg);
  return fig;
}

async function liveTraining() {
  const box = $('charts');
  const run = box.dataset.run;
  let last = -1;
  const tick = async () => {
    try {
      const r = await fetch(`/api/train?run=${encodeURIComponent(run)}`);
      if (!r.ok) return;
      const pts = await r.json();
      const steps = pts.filter((p) => p.loss !== undefined);
      if (steps.length === last) return;
      last = steps.length;
      const evals = pts.filter((p) => p.eval);
      const domains = [...new Set(evals.flatMap((e) => Object.keys(e.eval)))];
      const draw = (key, fig) => {
        let slot = box.querySelector(`[data-chart="${key}"]`);
        if (!slot) {
          slot = document.createElement('div');
          slot.dataset.chart = key;
          box.appendChild(slot);
        }
        slot.replaceChildren(fig);
      };
      draw('loss', lineChart('training loss', [{ name: 'loss', points: steps.map((p) => [p.step, p.loss]) }]));
      draw('lr', lineChart('learning rate', [{ name: 'lr', points: steps.map((p) => [p.step, p.lr]) }]));
      draw('grad_norm', lineChart('gradient norm', [{ name: 'grad norm', points: steps.map((p) => [p.step, p.grad_norm]) }], true));
      draw('tokens_per_s', lineChart('tokens per second', [{ name: 'tokens/s', points: steps.map((p) => [p.step, p.tokens_per_s]) }]));
      if (domains.length) draw('eval', lineChart('held-out loss per domain', domains.map((d) => ({ name: d, points: evals.map((e) => [e.step, e.eval[d]]) }))));
      $('live-status').textContent = `${steps.length} steps logged · updated ${new Date().toLocaleTimeString()}`;
    } catch {
      // the server went away: keep the last picture
    }
  };
  await tick();
  setInterval(tick, 2000);
}

// ------------------------------------------------------------------ annotation
function annotate() {
  const root = $('annotate');
  const run = root.dataset.run;
  const state = { annotator: '', cur: null, spans: [] };
  const boxes = { coherence: $('p-coherence'), readability: $('p-readability'), toxic: $('p-toxic') };
  const status = (t) => { $('status').textContent = t; };

  // the document with its highlighted spans, built from text nodes and <mark> elements only
  function renderDoc() {
    const text = state.cur.doc.text;
    const pre = $('doc');
    pre.replaceChildren();
    const spans = [...state.spans].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const s of spans) {
      if (s.start < at) continue;
      pre.appendChild(document.createTextNode(text.slice(at, s.start)));
      const m = document.createElement('mark');
      m.className = s.problem;
      m.textContent = text.slice(s.start, s.end);
      m.title = `${s.problem} (click to remove)`;
      m.addEventListener('click', () => {
        state.spans = state.spans.filter((x) => x !== s);
        renderDoc();
      });
      pre.appendChild(m);
      at = s.end;
    }
    pre.appendChild(document.createTextNode(text.slice(at)));
  }

  async function load(index) {
    const q = new URLSearchParams({ run, annotator: state.annotator });
    if (index !== undefined) q.set('index', String(index));
    const r = await fetch(`/api/annotate/doc?${q}`);
    const v = await r.json();
    if (!r.ok) {
      status(v.error || `error ${r.status}`);
      return;
    }
    state.cur = v;
    const l = v.label;
    for (const p of Object.keys(boxes)) boxes[p].checked = !!(l && l[p]);
    state.spans = l ? l.spans.slice() : [];
    $('progress').textContent = `document ${v.index + 1} of ${v.total} · ${v.done} labelled by ${state.annotator}${l ? ' · already labelled (saving replaces it)' : ''}`;
    $('bar').max = v.total;
    $('bar').value = v.done;
    $('docmeta').textContent = `${v.doc.id}${v.doc.language ? ` · ${v.doc.language}` : ''}`;
    renderDoc();
    status('');
  }

  // character offsets of the selection inside the document
  function selectionOffsets() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const pre = $('doc');
    if (!pre.contains(range.startContainer) || !pre.contains(range.endContainer)) return null;
    const offset = (node, off) => {
      const r = document.createRange();
      r.selectNodeContents(pre);
      r.setEnd(node, off);
      return r.toString().length;
    };
    const start = offset(range.startContainer, range.startOffset), end = offset(range.endContainer, range.endOffset);
    return end > start ? { start, end } : null;
  }

  function highlight() {
    const o = selectionOffsets();
    if (!o) {
      status('select some text in the document first');
      return;
    }
    const problem = ['coherence', 'readability', 'toxic'].find((p) => boxes[p].checked) || 'coherence';
    boxes[problem].checked = true;
    state.spans.push({ start: o.start, end: o.end, problem });
    window.getSelection().removeAllRanges();
    renderDoc();
  }

  async function save() {
    const v = state.cur;
    const body = { run: v.run, annotator: state.annotator, index: v.index, docId: v.doc.id, coherence: boxes.coherence.checked, readability: boxes.readability.checked, toxic: boxes.toxic.checked, spans: state.spans };
    status('saving…');
    const r = await fetch(`/api/annotate/label?run=${encodeURIComponent(run)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await r.json();
    if (!r.ok) {
      status(res.error || `error ${r.status}`);
      return;
    }
    status('saved');
    await stats();
    if (v.index + 1 < v.total) await load(v.index + 1);
    else await load(v.index);
  }

  async function stats() {
    const r = await fetch(`/api/annotate/stats?run=${encodeURIComponent(run)}`);
    const s = await r.json();
    const box = $('stats');
    box.replaceChildren();
    if (!r.ok) {
      box.textContent = s.error;
      return;
    }
    const line = (t) => {
      const p = document.createElement('p');
      p.textContent = t;
      box.appendChild(p);
    };
    line(`annotators: ${Object.entries(s.annotators).map(([a, n]) => `${a} ${n}/${s.total}`).join(', ') || 'none yet'}`);
    const fmt = (x) => (x === null || x === undefined ? '–' : Number(x).toFixed(3));
    line(`attributes (share of labelled documents without the problem): CH ${fmt(s.attributes.CH)}, RA ${fmt(s.attributes.RA)}, non-toxic ${fmt(s.attributes.nonToxic)} over ${s.labelled} documents`);
    for (const [pair, k] of Object.entries(s.kappa)) line(`Cohen's kappa ${pair}: coherence ${fmt(k.coherence)}, readability ${fmt(k.readability)}, toxic ${fmt(k.toxic)}`);
    for (const w of s.warnings) line(`warning: ${w}`);
  }

  $('who').addEventListener('submit', async (e) => {
    e.preventDefault();
    state.annotator = $('annotator').value.trim();
    localStorage.setItem('ziya-annotator', state.annotator);
    $('work').hidden = false;
    await load();
    await stats();
  });
  const saved = localStorage.getItem('ziya-annotator');
  if (saved) $('annotator').value = saved;
  $('save').addEventListener('click', save);
  $('prev').addEventListener('click', () => state.cur && state.cur.index > 0 && load(state.cur.index - 1));
  document.addEventListener('keydown', (e) => {
    if (!state.cur || e.target === $('annotator') || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (k === 'c' || k === 'r' || k === 't') {
      const box = { c: boxes.coherence, r: boxes.readability, t: boxes.toxic }[k];
      box.checked = !box.checked;
    } else if (k === 'h') highlight();
    else if (k === 'Enter') save();
    else if (k === 'ArrowLeft' && state.cur.index > 0) load(state.cur.index - 1);
    else if (k === 'ArrowRight' && state.cur.index + 1 < state.cur.total) load(state.cur.index + 1);
    else return;
    e.preventDefault();
  });
  stats();
}

document.addEventListener('DOMContentLoaded', () => {
  const page = document.body.dataset.page;
  if (page === 'train') liveTraining();
  if (page === 'annotate') annotate();
});
