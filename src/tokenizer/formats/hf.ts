/** Hugging Face tokenizer.json (the LLaMA BPE layout written by transformers' LlamaConverter), read and written. */
import { PieceType, TokenizerFormatError, checkVocab, type Vocab } from '../vocab.js';

interface HfJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; unk_token?: string; byte_fallback?: boolean };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  normalizer?: { type: string; normalizers?: { type: string; prepend?: string; pattern?: { String?: string }; content?: string }[] } | null;
  pre_tokenizer?: { type: string; prepend_scheme?: string; add_prefix_space?: boolean } | null;
}

export function readHfTokenizer(text: string, where = 'tokenizer.json'): Vocab {
  let j: HfJson;
  try {
    j = JSON.parse(text) as HfJson;
  } catch (e) {
    throw new TokenizerFormatError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (!j.model || typeof j.model !== 'object') throw new TokenizerFormatError(`${where}: no "model" object; not a Hugging Face tokenizer.json`);
  if (j.model.type !== 'BPE') throw new TokenizerFormatError(`${where}: model type "${j.model.type}" is not supported (expected "BPE", as LLaMA uses)`);
  const vocab = j.model.vocab ?? {};
  const size = Math.max(-1, ...Object.values(vocab), ...(j.added_tokens ?? []).map((t) => t.id)) + 1;
  const pieces: string[] = new Array(size);
  for (const [p, id] of Object.entries(vocab)) pieces[id] = p;
  const special = new Set<string>();
  const added = new Set<string>();
  for (const t of j.added_tokens ?? []) {
    if (pieces[t.id] !== undefined && pieces[t.id] !== t.content) throw new TokenizerFormatError(`${where}: added token ${t.id} "${t.content}" clashes with vocabulary piece "${pieces[t.id]}"`);
    pieces[t.id] = t.content;
    (t.special ? special : added).add(t.content);
  }
  for (let i = 0; i < size; i++) if (pieces[i] === undefined) throw new TokenizerFormatError(`${where}: id ${i} has no piece (ids must be dense)`);
  const unk = j.model.unk_token ?? '<unk>';
  const ranks = new Map<string, number>();
  (j.model.merges ?? []).forEach((m, r) => {
    const key = Array.isArray(m) ? `${m[0]} ${m[1]}` : m;
    if (!ranks.has(key)) ranks.set(key, r);
  });
  // score: minus the rank of the first merge that produces the piece (what SentencePiece's scores order)
  const scores = new Float32Array(size);
  const produced = new Map<string, number>();
  for (const [key, r] of ranks) {
    const sp = key.indexOf(' ');
    const merged = key.slice(0, sp) + key.slice(sp + 1);
    if (!produced.has(merged)) produced.set(merged, r);
  }
  const types = new Uint8Array(size);
  pieces.forEach((p, i) => {
    scores[i] = produced.has(p) ? -produced.get(p)! : 0;
    types[i] = p === unk ? PieceType.Unknown : special.has(p) ? PieceType.Control : added.has(p) && !(p in vocab) ? PieceType.UserDefined : /^<0x[0-9A-F]{2}>$/.test(p) ? PieceType.Byte : PieceType.Normal;
  });
  const norms = j.normalizer?.type === 'Sequence' ? j.normalizer.normalizers ?? [] : j.normalizer ? [j.normalizer as { type: string; prepend?: string }] : [];
  const prepend = norms.some((n) => n.type === 'Prepend' && n.prepend === '\u2581') || (j.pre_tokenizer?.type === 'Metaspace' && j.pre_tokenizer.prepend_scheme !== 'never' && j.pre_tokenizer.add_prefix_space !== false);
  const v: Vocab = {
    pieces,
    scores,
    types,
    modelType: 'bpe',
    byteFallback: Boolean(j.model.byte_fallback),
    addDummyPrefix: prepend,
    removeExtraWhitespaces: false,
    escapeWhitespaces: true,
    unkId: pieces.indexOf(unk),
    bosId: pieces.indexOf('<s>'),
    eosId: pieces.indexOf('</s>'),
    padId: -1,
    unkSurface: ' \u2047 ',
    mergeRanks: ranks,
  };
  checkVocab(v, where);
  return v;
}

/**
 * Merges from piece scores, in the order of the LLaMA-2 release's tokenizer.json
 * (transformers' SentencePieceExtractor of that time): every split of a piece into
 * two vocabulary pieces, stably ordered by the merged piece's score (highest first);
 * ties keep vocabulary order: merged piece id, then (id of left, id of right).
 */
export function mergesFromScores(v: Vocab): [string, string][] {
  const id = new Map<string, number>();
  v.pieces.forEach((p, i) => id.set(p, i));
  const all: { l: number; r: number; m: number; score: number }[] = [];
  v.pieces.forEach((p, i) => {
    const score = v.scores[i]!;
    const cps = [...p];
    for (let k = 1; k < cps.length; k++) {
      const l = id.get(cps.slice(0, k).join(''));
      const r = id.get(cps.slice(k).join(''));
      if (l !== undefined && r !== undefined) all.push({ l, r, m: i, score });
    }
  });
  all.sort((a, b) => b.score - a.score || a.m - b.m || a.l - b.l || a.r - b.r);
  return all.map((m) => [v.pieces[m.l]!, v.pieces[m.r]!]);
}

export function writeHfTokenizer(v: Vocab): string {
  const merges = v.mergeRanks ? [...v.mergeRanks.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k) : mergesFromScores(v).map(([l, r]) => `${l} ${r}`);
  const vocab: Record<string, number> = {};
  v.pieces.forEach((p, i) => {
    if (v.types[i] !== PieceType.UserDefined) vocab[p] = i;
  });
  const added = v.pieces.flatMap((p, i) => (v.types[i] === PieceType.Unknown || v.types[i] === PieceType.Control || v.types[i] === PieceType.UserDefined
    ? [{ id: i, content: p, single_word: false, lstrip: false, rstrip: false, normalized: v.types[i] === PieceType.UserDefined, special: v.types[i] !== PieceType.UserDefined }]
    : []));
  const j = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [...(v.addDummyPrefix ? [{ type: 'Prepend', prepend: '\u2581' }] : []), { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { '<s>': { id: '<s>', ids: [v.bosId], tokens: ['<s>'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: v.pieces[v.unkId], continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: v.byteFallback, vocab, merges },
  };
  return JSON.stringify(j, null, 2);
}
