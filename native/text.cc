// Native text-statistics kernels for the rule-based filters (src/factory/filter/features.ts and
// matcher.ts hold the TypeScript references, which the tests compare these with document by
// document). All hashes are the references' 32-bit arithmetic (Math.imul, | 0), so every id,
// key and count is bit-identical.
#include <node_api.h>
#include "napi_check.h"
#include "napi_args.h"
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

// Coarse Unicode kinds (src/factory/filter/features.ts, const enum K)
enum Kind : uint8_t { Other = 0, Letter = 1, Digit = 2, Mark = 3, Punct = 4, Symbol = 5, Space = 6, Han = 7 };

const uint32_t FNV_OFF = 0x811c9dc5u, FNV_PRIME = 0x01000193u;

using ziya_native::Arr;
using ziya_native::arr_arg;

// The hash tables of the n-gram kernels: open addressing with linear probing, at most 1/8 full
// where the table stays in the L1 cache (a probe that runs on past an occupied slot is a branch
// the CPU cannot predict: at half full, as these tables were, every other key paid a
// misprediction). Their slots live in per-thread vectors that are all zero between calls: a
// kernel writes down each slot it fills and zeroes those when it is done (a memset of the whole
// table cost more than the keys on short documents). A kernel takes a view once, so that its
// loop works on local pointers (a thread_local access in a shared library is a call to
// __tls_get_addr, which measured ~6 ns per key when left inside the loop).

// slots for `expected` keys: 8 per key up to 32,768 slots, then 4 per key (the table is in the L2
// cache either way, and a larger one only misses more), at least 256
inline size_t table_cap(size_t expected) {
  size_t cap = 256;
  while (cap < expected * 8 && cap < 32768) cap <<= 1;
  while (cap < expected * 4) cap <<= 1;
  return cap;
}

// Exact counts of 32-bit keys (key and count side by side so that a probe touches one cache line).
struct Slot {
  uint32_t key;
  int32_t count;
};

struct Table {
  Slot* t;
  uint32_t mask;
  uint32_t* filled;  // the slots filled so far, filled[0, nfilled)
  uint32_t nfilled;
  inline uint32_t slot(uint32_t key) const {
    uint32_t x = key * 0x9e3779b1u;
    return (x ^ (x >> 15)) & mask;
  }
  inline int32_t add(uint32_t key) {
    uint32_t i = slot(key);
    for (;;) {
      Slot& e = t[i];
      if (e.count == 0) {
        e.key = key;
        e.count = 1;
        filled[nfilled++] = i;
        return 1;
      }
      if (e.key == key) return ++e.count;
      i = (i + 1) & mask;
    }
  }
  // zeroes the filled slots (the table is empty again for the next kernel)
  inline void clear() {
    for (uint32_t k = 0; k < nfilled; k++) t[filled[k]] = Slot{0, 0};
    nfilled = 0;
  }
};

// A set of 32-bit keys, four bytes a slot (half the memory of the counting table: a 20,000-unit
// document's character n-grams stay in the L2 cache); 0 marks a free slot, so key 0 is a flag.
struct KeySet {
  uint32_t* t;
  uint32_t mask;
  bool zero;
  uint32_t* filled;
  uint32_t nfilled;
  // whether key was in the set; adds it when not
  inline bool insert(uint32_t key) {
    if (key == 0) {
      const bool had = zero;
      zero = true;
      return had;
    }
    uint32_t x = key * 0x9e3779b1u;
    uint32_t i = (x ^ (x >> 15)) & mask;
    for (;;) {
      const uint32_t e = t[i];
      if (e == key) return true;
      if (e == 0) {
        t[i] = key;
        filled[nfilled++] = i;
        return false;
      }
      i = (i + 1) & mask;
    }
  }
  inline void clear() {
    for (uint32_t k = 0; k < nfilled; k++) t[filled[k]] = 0;
    nfilled = 0;
  }
};

thread_local std::vector<uint32_t> set_slots;
thread_local std::vector<Slot> counter_slots;
// the filled-slot lists (at most one key per slot, so `cap` entries)
thread_local std::vector<uint32_t> set_filled, counter_filled;

// An empty set for `expected` keys (the vector's slots are zero between kernels; a larger vector
// is zero-initialised where it grows).
KeySet empty_set(size_t expected) {
  const size_t cap = table_cap(expected);
  if (set_slots.size() < cap) set_slots.resize(cap, 0);
  if (set_filled.size() < cap) set_filled.resize(cap);
  return KeySet{set_slots.data(), static_cast<uint32_t>(cap - 1), false, set_filled.data(), 0};
}

// An empty table for `expected` keys, as empty_set.
Table empty_table(size_t expected) {
  const size_t cap = table_cap(expected);
  if (counter_slots.size() < cap) counter_slots.resize(cap, Slot{0, 0});
  if (counter_filled.size() < cap) counter_filled.resize(cap);
  return Table{counter_slots.data(), static_cast<uint32_t>(cap - 1), counter_filled.data(), 0};
}

thread_local std::vector<uint32_t> scratch_keys;
thread_local std::vector<uint32_t> scratch_codes;
// a copy of the text argument of the kernels that take a string
thread_local std::vector<char16_t> pos_buf;

// The UTF-16 units of the string v copied into buf (grown as needed); *n = their number.
// (one call when the buffer is big enough: a copy that fills it may have been cut short, and
// only then is the length asked for)
napi_status copy_string(napi_env env, napi_value v, std::vector<char16_t>& buf, size_t* n) {
  if (buf.size() < 4096) buf.resize(4096);
  napi_status st = napi_get_value_string_utf16(env, v, buf.data(), buf.size(), n);
  if (st != napi_ok || *n + 1 < buf.size()) return st;
  size_t len = 0;
  st = napi_get_value_string_utf16(env, v, nullptr, 0, &len);
  if (st != napi_ok) return st;
  if (buf.size() < len + 1) buf.resize(len + 1);
  return napi_get_value_string_utf16(env, v, buf.data(), len + 1, n);
}

// Rolling polynomial hashes of the n-grams of ids (DocFeatures.ngramKeys). Four rolling chains,
// one per quarter of the positions, advance together: each step of a chain waits for its previous
// key (two multiplications), and four independent chains keep the core busy meanwhile.
size_t ngram_keys(const uint32_t* ids, size_t len, size_t n, std::vector<uint32_t>& out) {
  if (len < n) return 0;
  const size_t m = len - n + 1;
  if (out.size() < m) out.resize(m * 2);
  uint32_t* o = out.data();
  uint32_t p = 1;
  for (size_t j = 1; j < n; j++) p *= FNV_PRIME;
  auto first = [&](size_t i) {
    uint32_t h = 0;
    for (size_t j = 0; j < n; j++) h = h * FNV_PRIME + ids[i + j];
    return h;
  };
  const size_t q = m / 4;
  size_t done = 0;  // keys [0, done) written
  uint32_t h = 0;
  if (q >= 2) {
    const size_t s1 = q, s2 = 2 * q, s3 = 3 * q;
    uint32_t h0 = first(0), h1 = first(s1), h2 = first(s2), h3 = first(s3);
    o[0] = h0;
    o[s1] = h1;
    o[s2] = h2;
    o[s3] = h3;
    for (size_t k = 1; k < q; k++) {
      h0 = (h0 - ids[k - 1] * p) * FNV_PRIME + ids[k + n - 1];
      h1 = (h1 - ids[s1 + k - 1] * p) * FNV_PRIME + ids[s1 + k + n - 1];
      h2 = (h2 - ids[s2 + k - 1] * p) * FNV_PRIME + ids[s2 + k + n - 1];
      h3 = (h3 - ids[s3 + k - 1] * p) * FNV_PRIME + ids[s3 + k + n - 1];
      o[k] = h0;
      o[s1 + k] = h1;
      o[s2 + k] = h2;
      o[s3 + k] = h3;
    }
    done = 4 * q;
    h = h3;
  } else {
    h = first(0);
    o[0] = h;
    done = 1;
  }
  for (size_t i = done; i < m; i++) {
    h = (h - ids[i - 1] * p) * FNV_PRIME + ids[i + n - 1];
    o[i] = h;
  }
  return m;
}

// The positions, in order, of the keys that may occur more than once among keys[0..m) (every key
// that does is among them; a few that do not may be). Two bit sets over a hash of the key, "seen"
// and "seen again", are filled in one pass without a branch, and a position is kept when its
// bucket was seen again. A key outside them occurs once: no other position can find it in a set
// or add to its count, so the n-gram kernels leave those positions out of their hash tables
// (in clean text most n-grams occur once, and the tables shrink to the rest).
thread_local std::vector<uint64_t> seen_once, seen_again;
thread_local std::vector<uint32_t> scratch_positions;

size_t repeat_candidates(const uint32_t* keys, size_t m, std::vector<uint32_t>& out) {
  int bits = 10;
  while ((size_t{1} << bits) < 8 * m && bits < 22) bits++;
  const size_t words = (size_t{1} << bits) >> 6;
  if (seen_once.size() < words) {
    seen_once.resize(words);
    seen_again.resize(words);
  }
  uint64_t* a = seen_once.data();
  uint64_t* b = seen_again.data();
  memset(a, 0, words * sizeof(uint64_t));
  memset(b, 0, words * sizeof(uint64_t));
  const int shift = 32 - bits;
  for (size_t i = 0; i < m; i++) {
    const uint32_t k = (keys[i] * 0x9e3779b1u) >> shift;
    const uint64_t bit = uint64_t{1} << (k & 63);
    b[k >> 6] |= a[k >> 6] & bit;
    a[k >> 6] |= bit;
  }
  if (out.size() < m) out.resize(m * 2);
  uint32_t* o = out.data();
  size_t r = 0;
  for (size_t i = 0; i < m; i++) {
    const uint32_t k = (keys[i] * 0x9e3779b1u) >> shift;
    o[r] = static_cast<uint32_t>(i);
    r += (b[k >> 6] >> (k & 63)) & 1u;
  }
  return r;
}

// docScan(text: Uint16Array, kinds: Uint8Array(65536), ids: Int32Array, lens: Uint16Array, stats: Float64Array(17)): units
// The one pass of the DocFeatures constructor: word units (Han characters; letter/digit/mark runs
// joined by ' ’ . - before a letter or digit) with their FNV ids and lengths, and the counters;
// stats[12..15] are what some rules' patterns need at least one of to match (patternMarks in
// src/factory/filter/features.ts): '<' and '&' units, URL marks ("://", and '.' after 'w' or
// 'W'), "orem " (ASCII case-insensitive) and units of . ! ? 。！？; all four -1 when the text has a
// high surrogate without its low one (the scan takes the unit after it along, unseen)
napi_value DocScan(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr text, kinds, ids_a, lens_a, stats_a;
  if (argc < 5 || !arr_arg(env, argv[0], napi_uint16_array, &text) || !arr_arg(env, argv[1], napi_uint8_array, &kinds) || kinds.len != 65536 ||
      !arr_arg(env, argv[2], napi_int32_array, &ids_a) || !arr_arg(env, argv[3], napi_uint16_array, &lens_a) || !arr_arg(env, argv[4], napi_float64_array, &stats_a) ||
      ids_a.len < text.len || lens_a.len < text.len || stats_a.len < 17) {
    napi_throw_type_error(env, nullptr, "docScan(text: Uint16Array, kinds: Uint8Array(65536), ids: Int32Array(>= text), lens: Uint16Array(>= text), stats: Float64Array(17))");
    return nullptr;
  }
  const uint16_t* s = static_cast<const uint16_t*>(text.p);
  const uint8_t* t = static_cast<const uint8_t*>(kinds.p);
  uint32_t* ids = static_cast<uint32_t*>(ids_a.p);
  uint16_t* lens = static_cast<uint16_t*>(lens_a.p);
  const size_t n = text.len;
  size_t u = 0;
  size_t unit_chars = 0;
  size_t longest = 0;
  bool tok_in = false, tok_alpha = false, tok_real = false;
  size_t tok_total = 0, tok_alpha_n = 0;
  size_t han = 0, non_space = 0, digits = 0, hashes = 0, ell = 0, sym = 0, spaces = 0, braces = 0;
  // the patterns' marks: every '<', '&', ':', '.', '!', '?' and CJK full stop is visited in one of
  // the three places that count them (the Han run's punctuation, a word's joining '.', the
  // punctuation and symbol branch), and every "orem " ends a word unit, unless a lone high
  // surrogate took the unit after it along (then the marks are unknown)
  // (and the navigation separators | » › > · / ｜ →, for the paragraph filter's navigation rule:
  // none is a letter, digit, space or Han unit, and none is taken into a Han run, so each reaches
  // the punctuation and symbol branch)
  size_t markup = 0, url_marks = 0, lorem = 0, terminal_units = 0, lone_high = 0, nav = 0;
  int dots = 0;
  size_t i = 0;
  while (i < n) {
    const uint16_t c = s[i];
    if (c >= 0x4e00 && c <= 0x9fff) {
      // a run of U+4E00-U+9FFF (Han in the kind table): each unit is what the general path below
      // makes of a Han unit (a unit of length 1, a token with a letter, no '.'), counted for the
      // whole run in registers
      if (tok_in) {
        if (tok_real) {
          tok_total++;
          if (tok_alpha) tok_alpha_n++;
        }
        tok_in = tok_alpha = tok_real = false;
      }
      // CJK punctuation inside the run (a Punct unit from U+3000 up: '，', '。', '、', '「'…) is
      // taken in the same loop: the general path counts it as non-space and opens a token
      // without a letter or digit, which nothing ever counts (tokens are counted only once
      // something real is in them, and the punctuation leaves the token's other flags unset)
      size_t j = i, run = 0, punct = 0;
      for (;;) {
        const uint32_t d = s[j];
        if (d >= 0x4e00 && d <= 0x9fff) {
          ids[u] = d;
          lens[u++] = 1;
          run++;
        } else if (d >= 0x3000 && t[d] == Punct) {
          punct++;
          terminal_units += (d == 0x3002) | (d == 0xff01) | (d == 0xff1f);
        } else {
          break;
        }
        if (++j >= n) break;
      }
      han += run;
      non_space += run + punct;
      tok_total += run;
      tok_alpha_n += run;
      unit_chars += run;
      if (longest < 1) longest = 1;
      dots = 0;
      i = j;
      continue;
    }
    const uint8_t k = t[c];
    if (c == 46) {
      if (++dots == 3) ell++;
    } else {
      dots = 0;
    }
    if (k == Space || c == 10 || c == 9 || c == 13) {
      if (c == 32 || c == 9) spaces++;
      if (tok_in) {
        if (tok_real) {
          tok_total++;
          if (tok_alpha) tok_alpha_n++;
        }
        tok_in = tok_alpha = tok_real = false;
      }
      i++;
      continue;
    }
    non_space++;
    if (k == Han) {
      if (tok_in) {
        if (tok_real) {
          tok_total++;
          if (tok_alpha) tok_alpha_n++;
        }
        tok_in = tok_alpha = tok_real = false;
      }
      tok_total++;
      tok_alpha_n++;
      han++;
      ids[u] = c;
      lens[u++] = 1;
      unit_chars++;
      if (longest < 1) longest = 1;
      i++;
      continue;
    }
    tok_in = true;
    if (k == Letter || k == Digit || k == Mark) {
      const size_t start = i;
      uint32_t h = FNV_OFF;
      size_t j = i;
      // letters and digits counted in registers, without a branch per unit (a flag stored per
      // letter was spilled to the stack in this large loop)
      uint32_t letters = 0, word_digits = 0;
      while (j < n) {
        const uint16_t d = s[j];
        const uint8_t dk = t[d];
        if (dk == Letter || dk == Digit || dk == Mark) {
          letters |= dk == Letter;
          word_digits += dk == Digit;
          h = (h ^ (d >= 65 && d <= 90 ? d + 32u : d)) * FNV_PRIME;
          j++;
          continue;
        }
        if ((d == 39 || d == 0x2019 || d == 46 || d == 45) && j + 1 < n) {
          const uint8_t nk = t[s[j + 1]];
          if (nk == Letter || nk == Digit) {
            if (d == 46) {
              terminal_units++;
              url_marks += (s[j - 1] | 32u) == 'w';
            }
            h = (h ^ d) * FNV_PRIME;
            j++;
            continue;
          }
        }
        break;
      }
      if (letters) tok_alpha = true;
      digits += word_digits;
      const size_t len = j - start;
      if (len >= 4 && j < n && s[j] == ' ' && (s[j - 4] | 32u) == 'o' && (s[j - 3] | 32u) == 'r' && (s[j - 2] | 32u) == 'e' && (s[j - 1] | 32u) == 'm') lorem++;
      non_space += len - 1;
      tok_real = true;
      ids[u] = (h & 0x3fffffffu) | 0x40000000u;
      lens[u++] = static_cast<uint16_t>(len > 65535 ? 65535 : len);
      unit_chars += len;
      if (len > longest) longest = len;
      i = j;
      continue;
    }
    if (c < 128 || c >= 0x3000) {
      nav += (c == 0x7c) | (c == 0x3e) | (c == 0x2f) | (c == 0xff5c);
      if (c == '<' || c == '&') markup++;
      else if (c == ':') url_marks += i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/';
      else if (c == '.') {
        terminal_units++;
        url_marks += i > 0 && (s[i - 1] | 32u) == 'w';
      } else if (c == '!' || c == '?' || c == 0x3002 || c == 0xff01 || c == 0xff1f) terminal_units++;
    } else {
      nav += (c == 0xbb) | (c == 0xb7) | (c == 0x203a) | (c == 0x2192);
    }
    if (k == Punct) {
      if (c == 35) hashes++;
      else if (c == 0x2026) ell++;
      else if (c == 123 || c == 125) braces++;
    } else {
      tok_real = true;
      if (k == Symbol) {
        sym++;
        if (c >= 0xd800 && c <= 0xdbff) {
          lone_high += !(i + 1 < n && s[i + 1] >= 0xdc00 && s[i + 1] <= 0xdfff);
          i++;
        }
      }
    }
    i++;
  }
  if (tok_in && tok_real) {
    tok_total++;
    if (tok_alpha) tok_alpha_n++;
  }
  double* st = static_cast<double*>(stats_a.p);
  const size_t figures[12] = {unit_chars, longest, tok_total, tok_alpha_n, han, non_space, digits, hashes, ell, sym, spaces, braces};
  for (int f = 0; f < 12; f++) st[f] = static_cast<double>(figures[f]);
  const size_t marks[5] = {markup, url_marks, lorem, terminal_units, nav};
  for (int f = 0; f < 5; f++) st[12 + f] = lone_high ? -1.0 : static_cast<double>(marks[f]);
  napi_value r;
  CHECK(napi_create_uint32(env, static_cast<uint32_t>(u), &r));
  return r;
}

// The candidate positions of the last ngramTop computed from all of its keys, for the document
// whose token (a number the caller gives each document, DocFeatures) and ids it was: a position
// whose n-gram repeats for a larger n has a repeating n-gram for this n too (its first n units), so
// these positions hold every position that matters for a larger n of the same ids, and the
// kernels below look only at them (a tenth to a fifth of the positions on Chinese text).
struct Candidates {
  double token = -1;
  const void* ids = nullptr;
  size_t len = 0;
  uint32_t n = 0;
  std::vector<uint32_t> positions;
};
thread_local Candidates last_candidates;
thread_local std::vector<uint32_t> cand_keys;

// the optional token argument: -1 when absent (no reuse, nothing kept)
bool token_arg(napi_env env, napi_value* argv, size_t argc, size_t at, double* token) {
  *token = -1;
  if (argc <= at) return true;
  napi_valuetype vt = napi_undefined;
  if (napi_typeof(env, argv[at], &vt) != napi_ok) return false;
  if (vt == napi_undefined) return true;
  return vt == napi_number && napi_get_value_double(env, argv[at], token) == napi_ok && *token >= 0;
}

// For ids of document token, the keys of the n-grams at the kept candidate positions below
// len - n + 1 (in order) when the candidates are there for these ids and some n0 <= n: then
// *pos[q] is the position of keys[q], and the return is their number; otherwise SIZE_MAX.
size_t candidate_keys(double token, const uint32_t* ids, size_t len, uint32_t n, const uint32_t** keys, const uint32_t** pos) {
  const Candidates& c = last_candidates;
  if (token < 0 || c.token != token || c.ids != ids || c.len != len || c.n > n) return SIZE_MAX;
  if (len < n) return 0;
  const size_t m = len - n + 1;
  size_t k = 0;
  while (k < c.positions.size() && c.positions[k] < m) k++;
  if (cand_keys.size() < k) cand_keys.resize(k * 2);
  uint32_t* o = cand_keys.data();
  const uint32_t* p = c.positions.data();
  for (size_t q = 0; q < k; q++) {
    // the rolling key of ngram_keys, computed where it is needed
    uint32_t h = 0;
    const uint32_t* x = ids + p[q];
    for (uint32_t j = 0; j < n; j++) h = h * FNV_PRIME + x[j];
    o[q] = h;
  }
  *keys = o;
  *pos = p;
  return k;
}

// The n-gram keys an n-gram kernel looks at: those of the kept candidates (candidate_keys, *pos
// their positions), or else every position's (ngram_keys, *pos null); returns their number.
size_t kernel_keys(double token, const uint32_t* ids, size_t len, uint32_t n, const uint32_t** keys, const uint32_t** pos) {
  const size_t m = candidate_keys(token, ids, len, n, keys, pos);
  if (m != SIZE_MAX) return m;
  const size_t all = ngram_keys(ids, len, n, scratch_keys);
  *keys = scratch_keys.data();  // (after ngram_keys, which may grow the vector)
  *pos = nullptr;
  return all;
}

// ngramTop(ids: Int32Array, n, out: Int32Array(2), token?): out = [count of the most frequent n-gram,
// its first position] (the first position at which a count exceeded every earlier one, as the
// reference scans); with a token, the candidates are kept for a larger n of the same document, or
// taken from a smaller n's
napi_value NgramTop(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr ids, out;
  uint32_t n = 0;
  double token = -1;
  if (argc < 3 || !arr_arg(env, argv[0], napi_int32_array, &ids) || napi_get_value_uint32(env, argv[1], &n) != napi_ok || n == 0 ||
      !arr_arg(env, argv[2], napi_int32_array, &out) || out.len < 2 || !token_arg(env, argv, argc, 3, &token)) {
    napi_throw_type_error(env, nullptr, "ngramTop(ids: Int32Array, n >= 1, out: Int32Array(2), token?: number >= 0)");
    return nullptr;
  }
  int32_t* o = static_cast<int32_t*>(out.p);
  const uint32_t* id = static_cast<const uint32_t*>(ids.p);
  int32_t best = 0, best_at = 0;
  const uint32_t* keys = nullptr;
  const uint32_t* pos = nullptr;  // the position of keys[q] (nullptr: q itself)
  const size_t m = kernel_keys(token, id, ids.len, n, &keys, &pos);
  const bool any = ids.len >= n;  // some n-gram: the first counts 1
  if (any) {
    // the first n-gram counts 1, and an n-gram that occurs once never counts more: only the
    // positions of keys that may repeat are counted (in order, so best_at is the full scan's)
    best = 1;
    const size_t r = repeat_candidates(keys, m, scratch_positions);
    if (pos == nullptr && token >= 0) {
      Candidates& c = last_candidates;
      c.token = token;
      c.ids = id;
      c.len = ids.len;
      c.n = n;
      c.positions.assign(scratch_positions.begin(), scratch_positions.begin() + static_cast<std::ptrdiff_t>(r));
    }
    if (r > 0) {
      Table tb = empty_table(r);
      const uint32_t* cand = scratch_positions.data();
      for (size_t q = 0; q < r; q++) {
        const uint32_t k = cand[q];
        const int32_t c = tb.add(keys[k]);
        if (c > best) {
          best = c;
          best_at = static_cast<int32_t>(pos ? pos[k] : k);
        }
      }
      tb.clear();
    }
  }
  o[0] = best;
  o[1] = best_at;
  return nullptr;
}

// ngramDupChars(ids: Int32Array, lens: Uint16Array, n, token?): characters in repeated n-gram
// occurrences (Gopher: a position whose n-gram was seen counts its n units and the scan jumps past
// them); with a token, the positions a smaller n's ngramTop kept for the document
napi_value NgramDupChars(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr ids, lens;
  uint32_t n = 0;
  double token = -1;
  if (argc < 3 || !arr_arg(env, argv[0], napi_int32_array, &ids) || !arr_arg(env, argv[1], napi_uint16_array, &lens) || lens.len < ids.len ||
      napi_get_value_uint32(env, argv[2], &n) != napi_ok || n == 0 || !token_arg(env, argv, argc, 3, &token)) {
    napi_throw_type_error(env, nullptr, "ngramDupChars(ids: Int32Array, lens: Uint16Array, n >= 1, token?: number >= 0)");
    return nullptr;
  }
  const uint16_t* l = static_cast<const uint16_t*>(lens.p);
  const uint32_t* id = static_cast<const uint32_t*>(ids.p);
  const uint32_t* keys = nullptr;
  const uint32_t* pos = nullptr;
  const size_t m = kernel_keys(token, id, ids.len, n, &keys, &pos);
  double repeated = 0;
  if (m > 0) {
    // the scan visits only the positions of keys that may repeat: at any other position the
    // n-gram is new (the scan would add it to the set and move on) and no later one can find it
    const size_t r = repeat_candidates(keys, m, scratch_positions);
    KeySet seen = empty_set(r);
    const uint32_t* cand = scratch_positions.data();
    size_t next = 0;  // positions before it were jumped over
    for (size_t q = 0; q < r; q++) {
      const uint32_t k = cand[q];
      const size_t i = pos ? pos[k] : k;
      if (i < next) continue;
      if (seen.insert(keys[k])) {
        for (size_t j = i; j < i + n; j++) repeated += l[j];
        next = i + n;
      } else {
        next = i + 1;
      }
    }
    seen.clear();
  }
  napi_value r;
  CHECK(napi_create_double(env, repeated, &r));
  return r;
}

// charRepetition(text: Uint16Array, n, maxChars, out: Int32Array(2)): out = [repeated n-grams, n-grams]
// over the code units above 32 among the first maxChars (0 n-grams when fewer than 2n such units)
napi_value CharRepetition(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr text, out;
  uint32_t n = 0, max_chars = 0;
  double max = -1;
  napi_valuetype vt4 = napi_undefined;
  if (argc >= 5) CHECK(napi_typeof(env, argv[4], &vt4));
  const bool early = vt4 == napi_number;
  if (argc < 4 || !arr_arg(env, argv[0], napi_uint16_array, &text) || napi_get_value_uint32(env, argv[1], &n) != napi_ok || n == 0 ||
      napi_get_value_uint32(env, argv[2], &max_chars) != napi_ok || !arr_arg(env, argv[3], napi_int32_array, &out) || out.len < (early ? 3u : 2u) ||
      (early && napi_get_value_double(env, argv[4], &max) != napi_ok) || (argc >= 5 && !early && vt4 != napi_undefined)) {
    napi_throw_type_error(env, nullptr, "charRepetition(text: Uint16Array, n >= 1, maxChars, out: Int32Array(2, or 3 with max), max?: number)");
    return nullptr;
  }
  const uint16_t* s = static_cast<const uint16_t*>(text.p);
  const size_t lim = text.len < max_chars ? text.len : max_chars;
  if (scratch_codes.size() < lim) scratch_codes.resize(lim * 2);
  uint32_t* codes = scratch_codes.data();
  size_t m = 0;
  // (without a branch: the unit is stored and kept only when above a space, m moving on then;
  // English text has a space every few units, and the branch was mispredicted at each)
  for (size_t i = 0; i < lim; i++) {
    const uint16_t c = s[i];
    codes[m] = c;
    m += c > 32;
  }
  int32_t* o = static_cast<int32_t*>(out.p);
  o[0] = 0;
  o[1] = 0;
  if (early) o[2] = 0;
  if (m >= 2 * static_cast<size_t>(n)) {
    // the rolling keys of ngram_keys, computed as the scan goes (an early stop spares the rest)
    const size_t k = m - n + 1;
    KeySet seen = empty_set(k);
    uint32_t p = 1;
    for (size_t j = 1; j < n; j++) p *= FNV_PRIME;
    uint32_t h = 0;
    for (size_t j = 0; j < n; j++) h = h * FNV_PRIME + codes[j];
    int32_t dup = 0;
    // with max: stop once dup / k > max is settled either way (dup only grows, by at most one
    // per remaining key; dividing by the same k keeps the order, so the answer is the full one's)
    const double kd = static_cast<double>(k);
    for (size_t i = 0; i < k; i++) {
      if (i) h = (h - codes[i - 1] * p) * FNV_PRIME + codes[i + n - 1];
      if (seen.insert(h)) dup++;
      if (early && (i & 63) == 63) {
        if (static_cast<double>(dup) / kd > max) {
          o[2] = 1;
          break;
        }
        if (static_cast<double>(dup + static_cast<int32_t>(k - i - 1)) / kd <= max) {
          o[2] = 2;
          break;
        }
      }
    }
    seen.clear();
    o[0] = dup;
    o[1] = static_cast<int32_t>(k);
  }
  return nullptr;
}

// phraseCount(text: string | Uint16Array, kinds: Uint8Array(65536), first: Uint8Array(65536), tables: Int32Array, out: Int32Array(lists))
// The PhraseMatcher's scan (src/factory/filter/matcher.ts) over its tables flattened into one
// Int32Array: tables[0..10] are the offsets of these sections, then the sections:
//   0 pair: 2048 words, a bit set over hashed (first, second) unit pairs of the CJK entries
//   1 cjkStart: 65537; entries whose lower-cased first unit is c are cjkStart[c]..cjkStart[c+1]
//   2 cjkOff: E+1; entry e's units are cjkUnits[cjkOff[e]..cjkOff[e+1]]   3 cjkUnits   4 cjkList: E
//   5 latLast: G sorted last-word hashes   6 latStart: G+1 phrase ranges per last word
//   7 phOff: P+1; phrase p's words are phWords[phOff[p]..phOff[p+1]]   8 phWords   9 phList: P
//   10 latBits: 128 words, a bit set over the low 12 bits of the last-word hashes (most words
//      end no phrase: one bit test spares them the binary search)
//   11 firstBits: 2048 words, bit c set when a CJK entry may start with the unit c (bit 0 of
//      classes as a bit set: 8 KiB stay in the L1 cache where the 64 KiB table does not)
// classes[c]: bit 0 when a CJK entry may start with the unit c, bit 1 when c is a word unit
// (a letter, digit or mark below U+2E80).
const int RING = 8;
const int SECTIONS = 12;

inline uint32_t pair_hash(int32_t a, int32_t b) {
  return ((static_cast<uint32_t>(a) * 0x9e3779b1u) ^ (static_cast<uint32_t>(b + 1) * 0x85ebca6bu)) >> 16;
}

thread_local std::vector<char16_t> phrase_buf;

napi_value PhraseCount(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr text, classes_a, tables, out;
  bool ok_text = false;
  napi_valuetype vt0 = napi_undefined;
  if (argc >= 4) CHECK(napi_typeof(env, argv[0], &vt0));
  if (vt0 == napi_string) {
    // a string is copied once into a per-thread buffer (no Uint16Array needed on the JS side)
    std::vector<char16_t>& buf = phrase_buf;
    size_t n = 0;
    CHECK(copy_string(env, argv[0], buf, &n));
    text.p = buf.data();
    text.len = n;
    ok_text = true;
  } else if (argc >= 4) {
    ok_text = arr_arg(env, argv[0], napi_uint16_array, &text);
  }
  if (!ok_text || !arr_arg(env, argv[1], napi_uint8_array, &classes_a) || classes_a.len != 65536 || !arr_arg(env, argv[2], napi_int32_array, &tables) ||
      tables.len < SECTIONS || !arr_arg(env, argv[3], napi_int32_array, &out) || out.len > 32) {
    napi_throw_type_error(env, nullptr, "phraseCount(text: string | Uint16Array, classes: Uint8Array(65536), tables: Int32Array, out: Int32Array(<= 32))");
    return nullptr;
  }
  const int32_t* tb = static_cast<const int32_t*>(tables.p);
  int32_t sec[SECTIONS + 1];
  for (int k = 0; k < SECTIONS; k++) sec[k] = tb[k];
  sec[SECTIONS] = static_cast<int32_t>(tables.len);
  for (int k = 0; k < SECTIONS; k++)
    if (sec[k] < SECTIONS || sec[k] > sec[k + 1]) {
      napi_throw_type_error(env, nullptr, "phraseCount: malformed tables");
      return nullptr;
    }
  auto size = [&](int k) { return static_cast<size_t>(sec[k + 1] - sec[k]); };
  if (size(0) != 2048 || size(1) != 65537 || size(6) != size(5) + 1 || size(2) != size(4) + 1 || size(7) != size(9) + 1 || size(10) != 128 || size(11) != 2048) {
    napi_throw_type_error(env, nullptr, "phraseCount: table sizes do not match");
    return nullptr;
  }
  const uint8_t* cls = static_cast<const uint8_t*>(classes_a.p);
  const int32_t *pair = tb + sec[0], *cjk_start = tb + sec[1], *cjk_off = tb + sec[2], *cjk_units = tb + sec[3], *cjk_list = tb + sec[4],
                *lat_last = tb + sec[5], *lat_start = tb + sec[6], *ph_off = tb + sec[7], *ph_words = tb + sec[8], *ph_list = tb + sec[9],
                *lat_bits = tb + sec[10], *first_bits = tb + sec[11];
  const size_t groups = size(5);
  const bool has_latin = groups > 0;
  const uint16_t* s = static_cast<const uint16_t*>(text.p);
  int32_t* o = static_cast<int32_t*>(out.p);
  const size_t lists = out.len;
  for (size_t l = 0; l < lists; l++) o[l] = 0;
  const size_t len = text.len;
  int32_t ring[RING];
  size_t nw = 0;
  uint32_t h = FNV_OFF;
  bool in_word = false;
  auto bit = [&](uint32_t x) { return (static_cast<uint32_t>(pair[x >> 5]) >> (x & 31)) & 1u; };
  // the phrases that may end with the word last (its bit is set): binary search of the last word
  // among the groups, then each phrase's earlier words against the ring
  auto check_phrases = [&](int32_t last) {
    size_t lo = 0, hi = groups;
    while (lo < hi) {
      const size_t mid = (lo + hi) >> 1;
      if (lat_last[mid] < last) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= groups || lat_last[lo] != last) return;
    uint32_t seen = 0;  // lists already counted at this position (lists <= 32)
    for (int32_t p = lat_start[lo]; p < lat_start[lo + 1]; p++) {
      const int32_t plen = ph_off[p + 1] - ph_off[p];
      const int32_t list = ph_list[p];
      if (static_cast<size_t>(plen) > nw || (seen >> list & 1u)) continue;
      bool ok = true;
      for (int32_t j = 0; j < plen - 1; j++)
        if (ring[(nw - plen + j) % RING] != ph_words[ph_off[p] + j]) {
          ok = false;
          break;
        }
      if (!ok) continue;
      o[list]++;
      seen |= 1u << list;
    }
  };
  // the word whose hash is hw ends (h and in_word stay in registers in the loop: the caller resets
  // them); most words end no phrase, which one bit test tells without a call
#define END_WORD(hw)                                                                   \
  do {                                                                                 \
    const int32_t last_ = static_cast<int32_t>(((hw) & 0x3fffffffu) | 0x40000000u);    \
    ring[nw++ % RING] = last_;                                                         \
    if ((static_cast<uint32_t>(lat_bits[(last_ >> 5) & 127]) >> (last_ & 31)) & 1u) \
      check_phrases(last_);                                                            \
  } while (0)
  for (size_t i = 0; i <= len; i++) {
    if (!in_word) {
      // outside a word, a unit that starts no CJK entry and is no word unit (class 0; from U+2E80
      // up: its first bit clear) changes nothing: pass over runs of them in a tight loop (most of
      // Chinese text, and the spaces and punctuation between words)
      while (i < len) {
        const uint32_t d = s[i];
        if (d < 0x2e80 ? cls[d] != 0 : ((static_cast<uint32_t>(first_bits[d >> 5]) >> (d & 31)) & 1u)) break;
        i++;
      }
    }
    const uint32_t c = i < len ? s[i] : 32;
    const uint32_t cl = c < 0x2e80 ? cls[c] : (static_cast<uint32_t>(first_bits[c >> 5]) >> (c & 31)) & 1u;
    if (cl == 2 && has_latin) {
      // a word unit that starts no CJK entry, and the plain word units after it: hashed in a
      // tight loop (the general path below does the same to each)
      h = (h ^ (c >= 65 && c <= 90 ? c + 32 : c)) * FNV_PRIME;
      in_word = true;
      size_t j = i + 1;
      while (j < len) {
        const uint32_t d = s[j];
        if (d >= 0x2e80 || cls[d] != 2) break;
        h = (h ^ (d >= 65 && d <= 90 ? d + 32 : d)) * FNV_PRIME;
        j++;
      }
      i = j - 1;
      continue;
    }
    if (cl & 1) {
      const int32_t next = i + 1 < len ? static_cast<int32_t>(s[i + 1]) : -1;
      if (bit(pair_hash(static_cast<int32_t>(c), next)) || bit(pair_hash(static_cast<int32_t>(c), -1))) {
        const uint32_t key = c >= 65 && c <= 90 ? c + 32 : c;
        bool hit = false;
        for (int32_t e = cjk_start[key]; e < cjk_start[key + 1]; e++) {
          const int32_t el = cjk_off[e + 1] - cjk_off[e];
          if (i + static_cast<size_t>(el) > len) continue;
          bool eq = true;
          for (int32_t q = 0; q < el; q++) {
            uint32_t x = s[i + q];
            if (x >= 65 && x <= 90) x += 32;
            if (x != static_cast<uint32_t>(cjk_units[cjk_off[e] + q])) {
              eq = false;
              break;
            }
          }
          if (eq) {
            o[cjk_list[e]]++;
            i += el - 1;
            hit = true;
            break;
          }
        }
        if (hit || c >= 0x2e80) {
          if (in_word) {
            END_WORD(h);
            h = FNV_OFF;
            in_word = false;
          }
          continue;
        }
      }
    }
    if (!has_latin) continue;
    if (cl & 2) {
      h = (h ^ (c >= 65 && c <= 90 ? c + 32 : c)) * FNV_PRIME;
      in_word = true;
    } else if (in_word) {
      END_WORD(h);
      h = FNV_OFF;
      in_word = false;
    }
  }
#undef END_WORD
  return nullptr;
}

// lineStats(text: Uint16Array, width, out: Float64Array(13)): the line and paragraph figures of the
// document rules (lineStatsRef in src/factory/filter/features.ts, indices LS): lines (split at
// '\n'), non-empty lines (something other than JavaScript whitespace) and among them: bullet
// starts, ellipsis ends, terminal punctuation ends, display width of the trimmed line <= width,
// their length, duplicates of an earlier line and their length; paragraphs (split at
// \n[ \t]*\n, trimmed, empty ones left out), duplicates, their length, all their length.
inline bool js_space(uint32_t c) {
  return c == 32 || (c >= 9 && c <= 13) || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000 || c == 0xfeff;
}

inline bool bullet(uint32_t c) {
  switch (c) {
    case 0x2022: case 0x2d: case 0x2023: case 0x25e6: case 0x2043: case 0x2219: case 0x2a: case 0xb7:
    case 0x25cf: case 0x25aa: case 0x25a0: case 0x25a1: case 0x25c6: case 0x25c7: case 0x25cb:
      return true;
    default:
      return false;
  }
}

inline bool terminal(uint32_t c) {
  switch (c) {
    case '.': case '!': case '?': case 0x3002: case 0xff01: case 0xff1f: case 0x2026: case '"': case '\'':
    case 0x201d: case 0x2019: case 0x300d: case 0x300f: case ')': case 0xff09:
      return true;
    default:
      return false;
  }
}

// A hash of a span of code units, four at a time (equality is decided by comparing the units).
inline uint32_t span_hash(const uint16_t* p, uint32_t len) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  uint32_t k = 0;
  for (; k + 4 <= len; k += 4) {
    uint64_t v;
    memcpy(&v, p + k, 8);
    h = (h ^ v) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  for (; k < len; k++) h = (h ^ p[k]) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

// The first i >= from with s[i] == '\n', or n (eight units at a time where SSE2 is there).
inline uint32_t find_newline(const uint16_t* s, uint32_t from, uint32_t n) {
  uint32_t i = from;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi16('\n');
  for (; i + 8 <= n; i += 8) {
    const int m = _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)), nl));
    if (m) return i + (static_cast<uint32_t>(__builtin_ctz(static_cast<unsigned>(m))) >> 1);
  }
#endif
  while (i < n && s[i] != '\n') i++;
  return i;
}

// Exact duplicates among spans of one text: a span equal to an earlier one (same units) counts.
struct SpanSet {
  struct Span {
    uint32_t hash, len;
    const uint16_t* p;
  };
  std::vector<int32_t> slots;  // index into spans + 1, 0 when free
  std::vector<Span> spans;
  uint32_t mask = 0;
  void reset(size_t expected) {
    size_t cap = 64;
    while (cap < expected * 2) cap <<= 1;
    if (slots.size() < cap) slots.resize(cap);
    memset(slots.data(), 0, cap * sizeof(int32_t));
    mask = static_cast<uint32_t>(cap - 1);
    spans.clear();
  }
  // true when p[0, len) equals a span added before; adds it otherwise (the units must stay where
  // they are while the set is in use)
  bool seen(const uint16_t* p, uint32_t len) {
    const uint32_t h = span_hash(p, len);
    uint32_t i = (h * 0x9e3779b1u) >> 7 & mask;
    for (;;) {
      const int32_t at = slots[i];
      if (at == 0) {
        if ((spans.size() + 1) * 2 > mask + 1) {  // grow (rehash every span)
          const uint32_t cap = (mask + 1) * 2;
          slots.assign(cap, 0);
          mask = cap - 1;
          for (size_t e = 0; e < spans.size(); e++) {
            uint32_t j = (spans[e].hash * 0x9e3779b1u) >> 7 & mask;
            while (slots[j]) j = (j + 1) & mask;
            slots[j] = static_cast<int32_t>(e + 1);
          }
          i = (h * 0x9e3779b1u) >> 7 & mask;
          while (slots[i]) i = (i + 1) & mask;
        }
        spans.push_back(Span{h, len, p});
        slots[i] = static_cast<int32_t>(spans.size());
        return false;
      }
      const Span& e = spans[at - 1];
      if (e.hash == h && e.len == len && memcmp(e.p, p, len * sizeof(uint16_t)) == 0) return true;
      i = (i + 1) & mask;
    }
  }
};

thread_local SpanSet line_set, para_set;

// Duplicate lines or paragraphs of one text, the first span held back until a second comes: a
// text with one line or paragraph (most short documents) has no duplicate and needs no hash.
struct LazyDuplicates {
  SpanSet* set;
  const uint16_t* s;
  size_t expected;
  uint32_t first_at = 0, first_len = 0;
  size_t count = 0;
  double dups = 0, dup_units = 0;
  void add(uint32_t a, uint32_t l) {
    if (count++ == 0) {
      first_at = a;
      first_len = l;
      return;
    }
    if (count == 2) {
      set->reset(expected);
      set->seen(s + first_at, first_len);  // the first span: never a duplicate
    }
    if (set->seen(s + a, l)) {
      dups += 1;
      dup_units += l;
    }
  }
};

napi_value LineStats(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr text, out_a;
  double width = 0;
  if (argc < 3 || !arr_arg(env, argv[0], napi_uint16_array, &text) || napi_get_value_double(env, argv[1], &width) != napi_ok ||
      !arr_arg(env, argv[2], napi_float64_array, &out_a) || out_a.len < 13) {
    napi_throw_type_error(env, nullptr, "lineStats(text: Uint16Array, width: number, out: Float64Array(13))");
    return nullptr;
  }
  const uint16_t* s = static_cast<const uint16_t*>(text.p);
  const uint32_t n = static_cast<uint32_t>(text.len);
  double lines = 1, non_empty = 0, bullets = 0, ell = 0, term = 0, shorts = 0, chars = 0, dup_lines = 0, dup_line_chars = 0;
  LazyDuplicates lspans{&line_set, s, 64};
  uint32_t start = 0;
  for (uint32_t i = find_newline(s, 0, n);; i = find_newline(s, i + 1, n)) {
    if (i < n) lines++;
    // the line s[start, i)
    uint32_t a = start, b = i;
    while (a < b && js_space(s[a])) a++;
    if (a < b) {
      while (b > a && js_space(s[b - 1])) b--;
      const uint32_t len = i - start;
      non_empty++;
      chars += len;
      if (bullet(s[a])) bullets++;
      if (s[b - 1] == 0x2026 || (b - a >= 3 && s[b - 1] == '.' && s[b - 2] == '.' && s[b - 3] == '.')) ell++;
      if (terminal(s[b - 1])) term++;
      uint32_t wide = 0;  // units counted twice (CJK and above); a loop the compiler vectorises
      for (uint32_t k = a; k < b; k++) wide += s[k] >= 0x2e80;
      if (static_cast<double>(b - a + wide) <= width) shorts++;
      lspans.add(start, len);
    }
    if (i >= n) break;
    start = i + 1;
  }
  dup_lines = lspans.dups;
  dup_line_chars = lspans.dup_units;
  double paras = 0, dup_paras = 0, dup_para_chars = 0, para_chars = 0;
  LazyDuplicates pspans{&para_set, s, 16};
  auto para = [&](uint32_t a, uint32_t b) {
    while (a < b && js_space(s[a])) a++;
    while (b > a && js_space(s[b - 1])) b--;
    if (a == b) return;
    paras++;
    para_chars += b - a;
    pspans.add(a, b - a);
  };
  start = 0;
  uint32_t i = 0;
  while ((i = find_newline(s, i, n)) < n) {
    uint32_t j = i + 1;
    while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
    if (j < n && s[j] == '\n') {
      para(start, i);
      start = j + 1;
      i = j + 1;
    } else {
      i = j;  // no separator can start among the spaces and tabs
    }
  }
  para(start, n);
  dup_paras = pspans.dups;
  dup_para_chars = pspans.dup_units;
  double* o = static_cast<double*>(out_a.p);
  const double figures[13] = {lines, non_empty, bullets, ell, term, shorts, chars, dup_lines, dup_line_chars, paras, dup_paras, dup_para_chars, para_chars};
  for (int f = 0; f < 13; f++) o[f] = figures[f];
  return nullptr;
}

// The paragraphs of s[0, n) as splitParagraphs (src/factory/filter/cut-rules.ts) splits: at each
// \n[ \t]*\n when there is one, else at every \n; piece(a, b) is called with each, untrimmed, in
// order, until it returns true (then so does this).
template <class F>
bool each_paragraph(const uint16_t* s, uint32_t n, F&& piece) {
  bool blank = false;
  for (uint32_t i = find_newline(s, 0, n); i < n; i = find_newline(s, i + 1, n)) {
    uint32_t j = i + 1;
    while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
    if (j < n && s[j] == '\n') {
      blank = true;
      break;
    }
  }
  uint32_t start = 0;
  if (blank) {
    uint32_t i = 0;
    while ((i = find_newline(s, i, n)) < n) {
      uint32_t j = i + 1;
      while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
      if (j < n && s[j] == '\n') {
        if (piece(start, i)) return true;
        start = j + 1;
        i = j + 1;
      } else {
        i = j;  // no separator can start among the spaces and tabs
      }
    }
  } else {
    for (uint32_t i = find_newline(s, 0, n); i < n; i = find_newline(s, i + 1, n)) {
      if (piece(start, i)) return true;
      start = i + 1;
    }
  }
  return piece(start, n);
}

#if defined(__SSE2__)
// The units of s[0, 8) that might be whitespace other than a single space: below a space,
// U+00A0, U+1680..U+3000, U+FEFF, and a space followed by a space (s[8] is read for the last).
inline __m128i maybe_collapsed(const uint16_t* s) {
  const __m128i zero = _mm_setzero_si128(), space = _mm_set1_epi16(0x20);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 1));
  const __m128i is_space = _mm_cmpeq_epi16(v, space);
  const __m128i below = _mm_andnot_si128(is_space, _mm_cmpeq_epi16(_mm_subs_epu16(v, space), zero));
  const __m128i other = _mm_or_si128(_mm_or_si128(below, _mm_cmpeq_epi16(v, _mm_set1_epi16(static_cast<short>(0xa0)))),
                                     _mm_or_si128(_mm_cmpeq_epi16(_mm_subs_epu16(_mm_sub_epi16(v, _mm_set1_epi16(0x1680)), _mm_set1_epi16(0x3000 - 0x1680)), zero),
                                                  _mm_cmpeq_epi16(v, _mm_set1_epi16(static_cast<short>(0xfeff)))));
  return _mm_or_si128(other, _mm_and_si128(is_space, _mm_cmpeq_epi16(v1, space)));
}

// whether s[0, 8) is its own collapsed form given a unit other than whitespace before it
inline bool plain_block(const uint16_t* s) {
  return _mm_movemask_epi8(maybe_collapsed(s)) == 0;
}
#endif

// Whether the trimmed piece s[a, b) is its own whitespace-collapsed form: no whitespace unit other
// than single spaces (a unit that might be whitespace, or two spaces in a row, says no: the caller
// then collapses a copy, which is right either way). Also counts into *wide the units from U+2E80
// up (display width 2). Eight units at a time where SSE2 is there; reads s[b] (the caller's buffer
// holds a unit past the text).
inline bool plain_piece(const uint16_t* s, uint32_t a, uint32_t b, uint32_t* wide) {
  uint32_t k = a, w = 0;
  bool plain = true;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128(), below_wide = _mm_set1_epi16(0x2e7f);
  __m128i bad = zero, wides = zero;
  for (; k + 8 <= b; k += 8) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + k));
    bad = _mm_or_si128(bad, maybe_collapsed(s + k));
    // from U+2E80 up: not (v <= 0x2e7f), as 0xffff lanes, subtracted from the count lanes
    wides = _mm_sub_epi16(wides, _mm_xor_si128(_mm_cmpeq_epi16(_mm_subs_epu16(v, below_wide), zero), _mm_set1_epi16(-1)));
    if (((k - a) & 0x7fff) == 0x7ff8) {  // (16-bit lanes, one count per 8 units: folded every 4,096 blocks)
      alignas(16) uint16_t lanes[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), wides);
      for (int q = 0; q < 8; q++) w += lanes[q];
      wides = zero;
    }
  }
  alignas(16) uint16_t lanes[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), wides);
  for (int q = 0; q < 8; q++) w += lanes[q];
  plain = _mm_movemask_epi8(bad) == 0;
#endif
  for (; k < b; k++) {
    const uint32_t c = s[k];
    w += c >= 0x2e80;
    if (c <= 0x20 ? (c != 0x20 || s[k + 1] == 0x20) : (c == 0xa0 || (c >= 0x1680 && c <= 0x3000) || c == 0xfeff)) plain = false;
  }
  *wide = w;
  return plain;
}

// paraDupPossible(text: string, minWidth): whether two paragraphs of text (split as the
// paragraph filter splits: at \n[ \t]*\n when there is one, else at every \n; trimmed; empty ones
// left out) of display width >= minWidth are equal once runs of whitespace are one space: when
// not, para.duplicate cannot fire (paraDupPossibleRef in src/factory/filter/cut-rules.ts).
thread_local std::vector<char16_t> collapse_buf;
thread_local SpanSet dup_set;

napi_value ParaDupPossible(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double min_width = 0;
  napi_valuetype vt = napi_undefined;
  if (argc >= 2) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || napi_get_value_double(env, argv[1], &min_width) != napi_ok) {
    napi_throw_type_error(env, nullptr, "paraDupPossible(text: string, minWidth: number)");
    return nullptr;
  }
  std::vector<char16_t>& tb = pos_buf;
  size_t len = 0;
  CHECK(copy_string(env, argv[0], tb, &len));
  const uint16_t* s = reinterpret_cast<const uint16_t*>(tb.data());
  const uint32_t n = static_cast<uint32_t>(len);
  std::vector<char16_t>& cb = collapse_buf;
  if (cb.size() < n + 1) cb.resize(n + 1);
  uint32_t used = 0;
  SpanSet& set = dup_set;
  set.reset(16);
  bool dup = false;
  auto piece = [&](uint32_t a, uint32_t b) {
    while (a < b && js_space(s[a])) a++;
    while (b > a && js_space(s[b - 1])) b--;
    if (a == b || 2.0 * (b - a) < min_width) return;  // (display width <= twice the units)
    uint32_t wide = 0;
    const bool plain = plain_piece(s, a, b, &wide);
    if (static_cast<double>(b - a + wide) < min_width) return;
    if (plain) {
      // no whitespace but single spaces: the piece is its own key, compared where it is
      if (set.seen(s + a, b - a)) dup = true;
      return;
    }
    const uint32_t start = used;
    // runs of whitespace as one space (a[k - 1] is inside the trimmed piece whenever s[k] is a
    // space: the piece neither starts nor ends with one); units above U+3000 other than U+FEFF
    // and printable ASCII are never whitespace, told without js_space's comparisons
    bool prev_space = false;
    uint32_t k = a;
    auto step = [&](uint32_t c) {
      const bool sp = c > 0x3000 ? c == 0xfeff : (c > 0x20 && c < 0x7f) ? false : js_space(c);
      if (!sp) cb[used++] = static_cast<char16_t>(c);
      else if (!prev_space) cb[used++] = u' ';
      prev_space = sp;
    };
#if defined(__SSE2__)
    // eight units at a time where they are plain (no whitespace but single spaces, and not a
    // space continuing a run the block before ended with): copied as they are
    while (k + 8 <= b) {
      if (!plain_block(s + k) || (prev_space && s[k] == 0x20)) {
        for (const uint32_t e = k + 8; k < e; k++) step(s[k]);
        continue;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(cb.data() + used), _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + k)));
      used += 8;
      prev_space = s[k + 7] == 0x20;
      k += 8;
    }
#endif
    for (; k < b; k++) step(s[k]);
    if (set.seen(reinterpret_cast<const uint16_t*>(cb.data()) + start, used - start)) dup = true;
  };
  each_paragraph(s, n, [&](uint32_t a, uint32_t b) {
    piece(a, b);
    return dup;
  });
  napi_value r;
  CHECK(napi_get_boolean(env, dup, &r));
  return r;
}

// navPossible(text: string, maxWidth, minNav): whether some paragraph of text (split as the
// paragraph filter splits, trimmed) of display width <= maxWidth holds at least minNav of the
// navigation separators' characters | » › > · / ｜ →: when none does, para.navigation cannot fire
// (navPossibleRef in src/factory/filter/cut-rules.ts).
inline bool nav_char(uint32_t c) {
  return c == 0x7c || c == 0xbb || c == 0x203a || c == 0x3e || c == 0xb7 || c == 0x2f || c == 0xff5c || c == 0x2192;
}

napi_value NavPossible(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double max_width = 0, min_nav = 0;
  napi_valuetype vt = napi_undefined;
  if (argc >= 3) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || napi_get_value_double(env, argv[1], &max_width) != napi_ok || napi_get_value_double(env, argv[2], &min_nav) != napi_ok) {
    napi_throw_type_error(env, nullptr, "navPossible(text: string, maxWidth: number, minNav: number)");
    return nullptr;
  }
  std::vector<char16_t>& tb = pos_buf;
  size_t len = 0;
  CHECK(copy_string(env, argv[0], tb, &len));
  const uint16_t* s = reinterpret_cast<const uint16_t*>(tb.data());
  const bool found = each_paragraph(s, static_cast<uint32_t>(len), [&](uint32_t a, uint32_t b) {
    while (a < b && js_space(s[a])) a++;
    while (b > a && js_space(s[b - 1])) b--;
    if (a == b || static_cast<double>(b - a) > max_width) return false;  // (display width >= units)
    uint32_t wide = 0, nav = 0;
    for (uint32_t k = a; k < b; k++) {
      const uint32_t c = s[k];
      wide += c >= 0x2e80;
      nav += nav_char(c);
    }
    return static_cast<double>(b - a + wide) <= max_width && static_cast<double>(nav) >= min_nav;
  });
  napi_value r;
  CHECK(napi_get_boolean(env, found, &r));
  return r;
}

// lineFacts(text: string, uiBits: Int32Array(2048), metaBits: Int32Array(2048), metaPairs: Int32Array
// (sorted), params: Float64Array(5) = [metaMaxLen, uiMaxLen, minWords, minHan, run], out: Int32Array(7),
// shortLines: Uint8Array):
// what the sentence filter's per-line rules need to know of a text before it is split
// (lineFactsRef in src/factory/filter/cut-rules.ts): out[0] = lines with something other than
// whitespace; out[1] = 1 when some line's first such unit (ASCII lower-cased) has its bit in uiBits
// and the trimmed line without its trailing whitespace, > » › : ： is at most uiMaxLen units;
// out[2] = 1 when some line of at most metaMaxLen units starts (trimmed) with a unit whose bit is
// in metaBits and, with the next unit, a pair (first * 65536 + second, both lower-cased) in
// metaPairs; out[3] = 1 when some non-empty line does not end in terminal punctuation, has fewer
// than minWords whitespace-separated pieces and not (some and at least minHan) units in
// U+3400..U+9FFF, and shortLines[i] = 1 for each such line i (0 for the others; lines past
// shortLines.length are not marked); out[4] = the longest run of units in U+0021..U+2E7F; out[5] = 1
// when some unit above U+0020 repeats run times in a row (charRun's test); out[6] = 1 when a '[' is
// there. Returns the number of lines (a caller whose shortLines was too short grows it and asks again).
inline uint32_t lower_ascii(uint32_t c) {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

napi_value LineFacts(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_valuetype vt = napi_undefined;
  Arr ui_a, meta_a, pairs_a, params_a, out_a, marks_a;
  if (argc >= 7) CHECK(napi_typeof(env, argv[0], &vt));
  const char* usage = "lineFacts(text: string, uiBits: Int32Array(2048), metaBits: Int32Array(2048), metaPairs: Int32Array, params: Float64Array(5), out: Int32Array(7), shortLines: Uint8Array)";
  if (vt != napi_string || !arr_arg(env, argv[1], napi_int32_array, &ui_a) || ui_a.len != 2048 || !arr_arg(env, argv[2], napi_int32_array, &meta_a) ||
      meta_a.len != 2048 || !arr_arg(env, argv[3], napi_int32_array, &pairs_a) || !arr_arg(env, argv[4], napi_float64_array, &params_a) || params_a.len < 5 ||
      !arr_arg(env, argv[5], napi_int32_array, &out_a) || out_a.len < 7 || !arr_arg(env, argv[6], napi_uint8_array, &marks_a)) {
    napi_throw_type_error(env, nullptr, usage);
    return nullptr;
  }
  std::vector<char16_t>& tb = pos_buf;
  size_t len = 0;
  CHECK(copy_string(env, argv[0], tb, &len));
  uint8_t* marks = static_cast<uint8_t*>(marks_a.p);
  const size_t room = marks_a.len;  // marks past it are not written (the lines are still counted)
  uint32_t line = 0;
  const uint16_t* s = reinterpret_cast<const uint16_t*>(tb.data());
  const uint32_t n = static_cast<uint32_t>(len);
  const uint32_t* ui = static_cast<const uint32_t*>(ui_a.p);
  const uint32_t* meta = static_cast<const uint32_t*>(meta_a.p);
  const int32_t* pairs = static_cast<const int32_t*>(pairs_a.p);
  const size_t npairs = pairs_a.len;
  const double* prm = static_cast<const double*>(params_a.p);
  const double meta_max = prm[0], ui_max = prm[1], min_words = prm[2], min_han = prm[3], char_run = prm[4];
  const double han_limit = min_han > 1 ? min_han : 1;
  int32_t non_empty = 0, any_ui = 0, any_meta = 0, any_short = 0;
  auto ui_tail = [](uint32_t c) { return c == 0x3e || c == 0xbb || c == 0x203a || c == 0x3a || c == 0xff1a || js_space(c); };
  uint32_t start = 0;
  for (uint32_t i = find_newline(s, 0, n);; i = find_newline(s, i + 1, n)) {
    uint32_t a = start, b = i;
    while (a < b && js_space(s[a])) a++;
    if (line < room) marks[line] = 0;
    if (a < b) {
      while (b > a && js_space(s[b - 1])) b--;
      non_empty++;
      const uint32_t c = lower_ascii(s[a]);
      if (!any_ui && ((ui[c >> 5] >> (c & 31)) & 1u)) {
        uint32_t e = b;
        while (e > a && ui_tail(s[e - 1])) e--;
        if (static_cast<double>(e - a) <= ui_max) any_ui = 1;
      }
      if (!any_meta && static_cast<double>(i - start) <= meta_max && ((meta[c >> 5] >> (c & 31)) & 1u) && b - a >= 2) {
        const int32_t key = static_cast<int32_t>(c * 65536u + lower_ascii(s[a + 1]));
        if (std::binary_search(pairs, pairs + npairs, key)) any_meta = 1;
      }
      if (!terminal(s[b - 1])) {
        // pieces: the runs of whitespace inside the trimmed line, plus one; counting stops once
        // the line has minWords pieces or max(1, minHan) Han units (either keeps it)
        double pieces = 1, han = 0;
        bool in_space = false;
        for (uint32_t k = a; k < b && pieces < min_words && han < han_limit; k++) {
          const uint32_t u = s[k];
          const bool sp = js_space(u);
          if (sp && !in_space) pieces++;
          in_space = sp;
          if (u >= 0x3400 && u <= 0x9fff && han < han_limit) han++;
        }
        if (pieces < min_words && !(han > 0 && han >= min_han)) {
          any_short = 1;
          if (line < room) marks[line] = 1;
        }
      }
    }
    line++;
    if (i >= n) break;
    start = i + 1;
  }
  // the longest run of units in U+0021..U+2E7F, whether a unit above U+0020 repeats char_run
  // times in a row (charRun's test, as hasCharRunRef counts: from the second unit on), and whether
  // a '[' is there (the citation rule's), in one pass without a branch on the units
  uint32_t run = 0, longest = 0, same = 1, any_run = 0, any_bracket = 0;
  uint32_t prev = n ? s[0] : 0;
  for (uint32_t k = 0; k < n; k++) {
    const uint32_t u = s[k];
    run = (u > 32 && u < 0x2e80) ? run + 1 : 0;
    longest = run > longest ? run : longest;
    const uint32_t rep = k > 0 && u == prev && u > 32;
    same = rep ? same + 1 : 1;
    any_run |= rep & (static_cast<double>(same) >= char_run);
    prev = u;
    any_bracket |= u == '[';
  }
  int32_t* o = static_cast<int32_t*>(out_a.p);
  o[0] = non_empty;
  o[1] = any_ui;
  o[2] = any_meta;
  o[3] = any_short;
  o[4] = static_cast<int32_t>(longest);
  o[5] = static_cast<int32_t>(any_run);
  o[6] = static_cast<int32_t>(any_bracket);
  napi_value r;
  CHECK(napi_create_uint32(env, line, &r));
  return r;
}

// charRun(text: string, run): whether some unit above U+0020 repeats run times in a row
// (hasCharRunRef in src/factory/filter/cut-rules.ts).
thread_local std::vector<char16_t> run_buf;

napi_value CharRun(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_valuetype vt = napi_undefined;
  uint32_t run = 0;
  if (argc >= 2) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || napi_get_value_uint32(env, argv[1], &run) != napi_ok) {
    napi_throw_type_error(env, nullptr, "charRun(text: string, run: number)");
    return nullptr;
  }
  std::vector<char16_t>& buf = run_buf;
  size_t n = 0;
  CHECK(copy_string(env, argv[0], buf, &n));
  const char16_t* s = buf.data();
  bool found = false;
  uint32_t cur = 1;
  for (size_t i = 1; i < n; i++) {
    const char16_t c = s[i];
    if (c == s[i - 1] && c > 32) {
      if (++cur >= run) {
        found = true;
        break;
      }
    } else {
      cur = 1;
    }
  }
  napi_value r;
  CHECK(napi_get_boolean(env, found, &r));
  return r;
}

// The arguments (text: string, table: Uint8Array(65536), out: Int32Array) of unitPositions and
// classCounts: the text copied into pos_buf (*n units); false after throwing a TypeError naming
// the kernel's signature.
bool text_table_out(napi_env env, napi_callback_info info, const char* signature, size_t* n, Arr* table, Arr* out) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  napi_valuetype vt = napi_undefined;
  if (argc >= 3 && napi_typeof(env, argv[0], &vt) != napi_ok) return false;
  if (vt != napi_string || !arr_arg(env, argv[1], napi_uint8_array, table) || table->len != 65536 || !arr_arg(env, argv[2], napi_int32_array, out) ||
      copy_string(env, argv[0], pos_buf, n) != napi_ok) {
    napi_throw_type_error(env, nullptr, signature);
    return false;
  }
  return true;
}

// unitPositions(text: string, table: Uint8Array(65536), out: Int32Array): the number of units c of
// text with table[c] != 0; the first out.length of their positions are written to out
// (unitPositionsRef in src/factory/filter/features.ts).
napi_value UnitPositions(napi_env env, napi_callback_info info) {
  Arr table, out;
  size_t n = 0;
  if (!text_table_out(env, info, "unitPositions(text: string, table: Uint8Array(65536), out: Int32Array)", &n, &table, &out)) return nullptr;
  const char16_t* s = pos_buf.data();
  const uint8_t* t = static_cast<const uint8_t*>(table.p);
  int32_t* o = static_cast<int32_t*>(out.p);
  const size_t cap = out.len;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    if (t[s[i]]) {
      if (count < cap) o[count] = static_cast<int32_t>(i);
      count++;
    }
  }
  napi_value r;
  CHECK(napi_create_double(env, static_cast<double>(count), &r));
  return r;
}

// classCounts(text: string, table: Uint8Array(65536), out: Int32Array): out[k] = the number of units c
// of text with table[c] == k, for k < out.length (classCountsRef in src/factory/filter/features.ts).
napi_value ClassCounts(napi_env env, napi_callback_info info) {
  Arr table, out;
  size_t n = 0;
  if (!text_table_out(env, info, "classCounts(text: string, table: Uint8Array(65536), out: Int32Array)", &n, &table, &out)) return nullptr;
  const char16_t* s = pos_buf.data();
  const uint8_t* t = static_cast<const uint8_t*>(table.p);
  // four histograms taken in turn: one alone makes every unit wait for the previous increment
  // of the same class (most units share one) to reach memory
  int32_t counts[4][256] = {{0}};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    counts[0][t[s[i]]]++;
    counts[1][t[s[i + 1]]]++;
    counts[2][t[s[i + 2]]]++;
    counts[3][t[s[i + 3]]]++;
  }
  for (; i < n; i++) counts[0][t[s[i]]]++;
  int32_t* o = static_cast<int32_t*>(out.p);
  for (size_t k = 0; k < out.len; k++) o[k] = k < 256 ? counts[0][k] + counts[1][k] + counts[2][k] + counts[3][k] : 0;
  return nullptr;
}

// latinVotes(text: string, maxChars, kinds: Uint8Array(65536), keys: Int32Array, bits: Int32Array,
// maxWords, out: Int32Array): language ID's function-word vote over the first maxChars units
// (identifyLanguage in src/factory/preprocess/langid.ts): words are runs of letters, marks and
// apostrophes (ASCII lower-cased, FNV-hashed as wordHash); each word whose hash is in the
// open-addressed table keys (0 = free slot, size a power of two) adds one to out[b] for every bit
// b of its bits entry. Returns the number of words seen (at most maxWords).
napi_value LatinVotes(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_valuetype vt = napi_undefined;
  Arr kinds, keys_a, bits_a, out;
  uint32_t max_chars = 0, max_words = 0;
  if (argc >= 7) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || napi_get_value_uint32(env, argv[1], &max_chars) != napi_ok || !arr_arg(env, argv[2], napi_uint8_array, &kinds) || kinds.len != 65536 ||
      !arr_arg(env, argv[3], napi_int32_array, &keys_a) || !arr_arg(env, argv[4], napi_int32_array, &bits_a) || keys_a.len != bits_a.len || keys_a.len == 0 ||
      (keys_a.len & (keys_a.len - 1)) != 0 || napi_get_value_uint32(env, argv[5], &max_words) != napi_ok || !arr_arg(env, argv[6], napi_int32_array, &out) || out.len > 32) {
    napi_throw_type_error(env, nullptr, "latinVotes(text: string, maxChars, kinds: Uint8Array(65536), keys: Int32Array(2^k), bits: Int32Array(2^k), maxWords, out: Int32Array(<= 32))");
    return nullptr;
  }
  std::vector<char16_t>& buf = pos_buf;
  size_t n = 0;
  CHECK(copy_string(env, argv[0], buf, &n));
  if (n > max_chars) n = max_chars;
  const char16_t* s = buf.data();
  const uint8_t* kt = static_cast<const uint8_t*>(kinds.p);
  const uint32_t* keys = static_cast<const uint32_t*>(keys_a.p);
  const int32_t* bits = static_cast<const int32_t*>(bits_a.p);
  const uint32_t mask = static_cast<uint32_t>(keys_a.len - 1);
  int32_t* o = static_cast<int32_t*>(out.p);
  const size_t langs = out.len;
  for (size_t b = 0; b < langs; b++) o[b] = 0;
  uint32_t words = 0;
  uint32_t h = FNV_OFF;
  bool in_word = false;
  for (size_t i = 0; i <= n && words < max_words; i++) {
    const uint32_t c = i < n ? s[i] : 32;
    const uint8_t k = kt[c];
    if (k == Letter || k == Mark || c == 39 || c == 0x2019) {
      h = (h ^ (c >= 65 && c <= 90 ? c + 32 : c)) * FNV_PRIME;
      in_word = true;
    } else if (in_word) {
      words++;
      const uint32_t key = (h & 0x3fffffffu) | 0x40000000u;
      uint32_t j = (key * 0x9e3779b1u) >> 11 & mask;
      while (keys[j] != 0 && keys[j] != key) j = (j + 1) & mask;
      if (keys[j] == key)
        // the word's languages: its set bits only (a function word belongs to a few of them)
        for (uint32_t m = static_cast<uint32_t>(bits[j]); m; m &= m - 1) {
          const unsigned b = static_cast<unsigned>(__builtin_ctz(m));
          if (b < langs) o[b]++;
        }
      h = FNV_OFF;
      in_word = false;
    }
  }
  napi_value r;
  CHECK(napi_create_uint32(env, words, &r));
  return r;
}

// openccConvert(text: string, gate: Uint8Array(65536), direct: Uint16Array(65536), tables: Int32Array):
// one dictionary group of the OpenCC converter (convertGroup in src/factory/preprocess/opencc.ts,
// its reference): the converted text, or null when nothing changed. tables[0..10] are the offsets of:
//   0 singleKeys: S sorted code points   1 singleValOff: S+1   2 singleVals (units)
//   3 phraseKeys: P sorted (first unit * 65536 + second unit, unsigned)   4 phraseStart: P+1
//   5 entKeyOff: E+1   6 entKeyUnits   7 entValOff: E+1   8 entValUnits
//   9 phraseBits: 8192 words, a bit set over the phrase keys hashed to 18 bits (most unit pairs
//     start no phrase: one bit test spares them the binary search)
//   10 singleBits: 2048 words, bit c set when the BMP unit c is a single-unit key
// (a phrase key's entries are longest first, as the reference tries them).
thread_local std::vector<char16_t> cc_out;

napi_value OpenccConvert(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_valuetype vt = napi_undefined;
  Arr gate_a, direct_a, tables;
  if (argc >= 4) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || !arr_arg(env, argv[1], napi_uint8_array, &gate_a) || gate_a.len != 65536 || !arr_arg(env, argv[2], napi_uint16_array, &direct_a) ||
      direct_a.len != 65536 || !arr_arg(env, argv[3], napi_int32_array, &tables) || tables.len < 9) {
    napi_throw_type_error(env, nullptr, "openccConvert(text: string, gate: Uint8Array(65536), direct: Uint16Array(65536), tables: Int32Array)");
    return nullptr;
  }
  const int32_t* tb = static_cast<const int32_t*>(tables.p);
  int32_t sec[12];
  for (int k = 0; k < 11; k++) sec[k] = tb[k];
  sec[11] = static_cast<int32_t>(tables.len);
  for (int k = 0; k < 11; k++)
    if (sec[k] < 11 || sec[k] > sec[k + 1]) {
      napi_throw_type_error(env, nullptr, "openccConvert: malformed tables");
      return nullptr;
    }
  auto size = [&](int k) { return static_cast<size_t>(sec[k + 1] - sec[k]); };
  if (size(1) != size(0) + 1 || size(4) != size(3) + 1 || size(5) != size(7) || size(5) < 1 || size(9) != 8192 || size(10) != 2048) {
    napi_throw_type_error(env, nullptr, "openccConvert: table sizes do not match");
    return nullptr;
  }
  const int32_t *single_keys = tb + sec[0], *single_off = tb + sec[1], *single_vals = tb + sec[2], *ent_key_off = tb + sec[5], *ent_key = tb + sec[6],
                *ent_val_off = tb + sec[7], *ent_val = tb + sec[8], *phrase_start = tb + sec[4];
  const uint32_t* phrase_bits = reinterpret_cast<const uint32_t*>(tb + sec[9]);
  const uint32_t* single_bits = reinterpret_cast<const uint32_t*>(tb + sec[10]);
  const uint32_t* phrase_keys = reinterpret_cast<const uint32_t*>(tb + sec[3]);
  const size_t n_single = size(0), n_phrase = size(3);
  const uint8_t* gate = static_cast<const uint8_t*>(gate_a.p);
  const uint16_t* direct = static_cast<const uint16_t*>(direct_a.p);

  std::vector<char16_t>& buf = pos_buf;
  size_t n = 0;
  CHECK(copy_string(env, argv[0], buf, &n));
  const char16_t* s = buf.data();
  napi_value result;
  size_t i = 0;
  while (i < n && gate[s[i]] == 0) i++;
  if (i == n) {
    CHECK(napi_get_null(env, &result));
    return result;
  }
  // the output in a raw buffer: room for the text, grown (rarely) when replacements run longer
  std::vector<char16_t>& out = cc_out;
  if (out.size() < n + 64) out.resize(n + 64);
  char16_t* o = out.data();
  size_t cap = out.size(), w = 0;
  auto room = [&](size_t more) {
    if (w + more > cap) {
      out.resize((w + more) * 2);
      o = out.data();
      cap = out.size();
    }
  };
  for (size_t k = 0; k < i; k++) o[w++] = s[k];
  bool changed = false;
  auto high = [](uint32_t c) { return c >= 0xd800 && c <= 0xdbff; };
  while (i < n) {
    const uint32_t c = s[i];
    const uint8_t g = gate[c];
    if (g == 0 && !high(c)) {
      room(1);
      o[w++] = static_cast<char16_t>(c);
      i++;
      continue;
    }
    uint32_t cp = c;
    size_t width = 1;
    if (high(c) && i + 1 < n) {
      const uint32_t d = s[i + 1];
      if (d >= 0xdc00 && d <= 0xdfff) cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      width = 2;  // as the reference: a high surrogate takes the next unit along, paired or not
    }
    const uint32_t pkey = i + 1 < n ? c * 65536u + s[i + 1] : 0;
    const uint32_t pbit = (pkey * 0x9e3779b1u) >> 14;
    if (g == 2 && i + 1 < n && ((phrase_bits[pbit >> 5] >> (pbit & 31)) & 1u)) {
      const uint32_t key = pkey;
      size_t lo = 0, hi = n_phrase;
      while (lo < hi) {
        const size_t mid = (lo + hi) >> 1;
        if (phrase_keys[mid] < key) lo = mid + 1;
        else hi = mid;
      }
      if (lo < n_phrase && phrase_keys[lo] == key) {
        bool hit = false;
        for (int32_t e = phrase_start[lo]; e < phrase_start[lo + 1]; e++) {
          const size_t kl = static_cast<size_t>(ent_key_off[e + 1] - ent_key_off[e]);
          if (i + kl > n) continue;
          bool eq = true;
          for (size_t q = 0; q < kl; q++)
            if (s[i + q] != static_cast<char16_t>(ent_key[ent_key_off[e] + q])) {
              eq = false;
              break;
            }
          if (!eq) continue;
          room(static_cast<size_t>(ent_val_off[e + 1] - ent_val_off[e]));
          for (int32_t q = ent_val_off[e]; q < ent_val_off[e + 1]; q++) o[w++] = static_cast<char16_t>(ent_val[q]);
          i += kl;
          changed = true;
          hit = true;
          break;
        }
        if (hit) continue;
      }
    }
    const uint16_t d = width == 1 ? direct[c] : 0;
    if (d != 0) {
      room(1);
      o[w++] = static_cast<char16_t>(d);
      if (d != c) changed = true;
      i += width;
      continue;
    }
    // a single-unit key is looked up only where the bit set says there is one
    bool found = false;
    if (cp >= 65536 || ((single_bits[cp >> 5] >> (cp & 31)) & 1u)) {
      size_t lo = 0, hi = n_single;
      while (lo < hi) {
        const size_t mid = (lo + hi) >> 1;
        if (static_cast<uint32_t>(single_keys[mid]) < cp) lo = mid + 1;
        else hi = mid;
      }
      if (lo < n_single && static_cast<uint32_t>(single_keys[lo]) == cp) {
        room(static_cast<size_t>(single_off[lo + 1] - single_off[lo]));
        for (int32_t q = single_off[lo]; q < single_off[lo + 1]; q++) o[w++] = static_cast<char16_t>(single_vals[q]);
        changed = true;
        found = true;
      }
    }
    if (!found) {
      room(width);
      for (size_t q = 0; q < width; q++) o[w++] = s[i + q];
    }
    i += width;
  }
  if (!changed) CHECK(napi_get_null(env, &result));
  else CHECK(napi_create_string_utf16(env, o, w, &result));
  return result;
}

// copyUnits(text: string, out: Uint16Array): the length of text; its UTF-16 code units are written
// to out when they fit (Buffer.from(text, 'utf16le') costs several times more).
napi_value CopyUnits(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_valuetype vt = napi_undefined;
  Arr out;
  if (argc >= 2) CHECK(napi_typeof(env, argv[0], &vt));
  if (vt != napi_string || !arr_arg(env, argv[1], napi_uint16_array, &out)) {
    napi_throw_type_error(env, nullptr, "copyUnits(text: string, out: Uint16Array)");
    return nullptr;
  }
  size_t n = 0;
  CHECK(napi_get_value_string_utf16(env, argv[0], nullptr, 0, &n));
  if (n < out.len) {
    // napi writes a terminating NUL: out has room for n + 1 units here
    size_t w = 0;
    CHECK(napi_get_value_string_utf16(env, argv[0], static_cast<char16_t*>(out.p), out.len, &w));
  }
  napi_value r;
  CHECK(napi_create_double(env, static_cast<double>(n), &r));
  return r;
}

// scriptCensus(text: string, maxChars, scripts: Uint8Array(65536), out: Int32Array(12)): out[k] = units of
// script k among the first maxChars units of text (src/factory/preprocess/langid.ts); a high surrogate
// of the Han extension planes (D840-D87E) counts as Han and takes its low surrogate with it.
thread_local std::vector<char16_t> census_buf;

napi_value ScriptCensus(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Arr table, out;
  uint32_t max_chars = 0;
  napi_valuetype vt;
  if (argc < 4 || napi_typeof(env, argv[0], &vt) != napi_ok || vt != napi_string || napi_get_value_uint32(env, argv[1], &max_chars) != napi_ok ||
      !arr_arg(env, argv[2], napi_uint8_array, &table) || table.len != 65536 || !arr_arg(env, argv[3], napi_int32_array, &out) || out.len < 12) {
    napi_throw_type_error(env, nullptr, "scriptCensus(text: string, maxChars, scripts: Uint8Array(65536), out: Int32Array(12))");
    return nullptr;
  }
  if (census_buf.size() < static_cast<size_t>(max_chars) + 1) census_buf.resize(static_cast<size_t>(max_chars) + 1);
  size_t len = 0;
  CHECK(napi_get_value_string_utf16(env, argv[0], census_buf.data(), static_cast<size_t>(max_chars) + 1, &len));
  const char16_t* s = census_buf.data();
  const uint8_t* st = static_cast<const uint8_t*>(table.p);
  int32_t cnt[12] = {0};
  // scripts 0, 1 and 4 (no script, Han, Latin: the bulk of most text) counted in registers and
  // without a branch (Latin text alternates letters and spaces, Chinese Han and punctuation: a
  // branch between them was mispredicted at each change); the rest, rare, in cnt
  int32_t han = 0, none = 0, latin = 0;
  for (size_t i = 0; i < len; i++) {
    const uint16_t c = static_cast<uint16_t>(s[i]);
    if (c >= 0xd840 && c <= 0xd87e) {
      han++;
      i++;
      continue;
    }
    const uint8_t k = st[c] < 12 ? st[c] : 0;
    none += k == 0;
    han += k == 1;
    latin += k == 4;
    if (k > 1 && k != 4) cnt[k]++;
  }
  cnt[0] += none;
  cnt[1] += han;
  cnt[4] += latin;
  int32_t* o = static_cast<int32_t*>(out.p);
  for (int k = 0; k < 12; k++) o[k] = cnt[k];
  return nullptr;
}

// registerArray(a: TypedArray): number, the number the kernels take for a from now on (arr_arg);
// unregisterArray(id): a no longer named (and no longer kept alive by the registry)
napi_value RegisterArray(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  ziya_native::Registered e;
  bool is_typed = false;
  if (argc >= 1) CHECK(napi_is_typedarray(env, argv[0], &is_typed));
  if (!is_typed || napi_get_typedarray_info(env, argv[0], &e.type, &e.len, &e.p, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, nullptr, "registerArray(a: TypedArray)");
    return nullptr;
  }
  CHECK(napi_create_reference(env, argv[0], 1, &e.ref));
  std::vector<ziya_native::Registered>& r = ziya_native::registry();
  r.push_back(e);
  napi_value id;
  CHECK(napi_create_uint32(env, static_cast<uint32_t>(r.size() - 1), &id));
  return id;
}

napi_value UnregisterArray(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t id = 0;
  std::vector<ziya_native::Registered>& r = ziya_native::registry();
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &id) != napi_ok || id >= r.size() || r[id].ref == nullptr) {
    napi_throw_type_error(env, nullptr, "unregisterArray(id: a number registerArray gave)");
    return nullptr;
  }
  CHECK(napi_delete_reference(env, r[id].ref));
  r[id] = ziya_native::Registered();
  return nullptr;
}

}  // namespace

void register_text_kernels(napi_env env, napi_value exports) {
  const ziya_native::NamedFunction fns[] = {{"docScan", DocScan}, {"ngramTop", NgramTop}, {"ngramDupChars", NgramDupChars}, {"charRepetition", CharRepetition}, {"phraseCount", PhraseCount}, {"lineStats", LineStats}, {"charRun", CharRun}, {"lineFacts", LineFacts}, {"paraDupPossible", ParaDupPossible}, {"navPossible", NavPossible}, {"unitPositions", UnitPositions}, {"classCounts", ClassCounts}, {"latinVotes", LatinVotes}, {"openccConvert", OpenccConvert}, {"copyUnits", CopyUnits}, {"scriptCensus", ScriptCensus}, {"registerArray", RegisterArray}, {"unregisterArray", UnregisterArray}};
  ziya_native::export_functions(env, exports, fns);
}
