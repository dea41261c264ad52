// Native kernels for Ziya-TS (N-API, C ABI). Each has a TypeScript reference
// that the tests compare it with; the program runs without this addon.
#include <node_api.h>
#include "napi_check.h"
#include "napi_args.h"
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <vector>

// MinHash: sig[i] = min over shingles x of (a[i] * x + b[i]) mod 2^32.
// target_clones builds AVX-512, AVX2 and generic versions; the loader picks one from the CPU.
__attribute__((target_clones("avx512f", "avx2", "default")))
static void minhash_one(const uint32_t* sh, size_t n_sh, const uint32_t* a, const uint32_t* b, uint32_t* sig, size_t n_perm) {
  for (size_t i = 0; i < n_perm; i++) sig[i] = 0xffffffffu;
  for (size_t j = 0; j < n_sh; j++) {
    const uint32_t x = sh[j];
    for (size_t i = 0; i < n_perm; i++) {
      const uint32_t v = a[i] * x + b[i];
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}

static bool get_u32(napi_env env, napi_value v, uint32_t** data, size_t* len) {
  napi_typedarray_type type;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, nullptr, nullptr) != napi_ok || type != napi_uint32_array) return false;
  *data = static_cast<uint32_t*>(p);
  return true;
}

// minhash(shingles: Uint32Array, a: Uint32Array, b: Uint32Array, out: Uint32Array): undefined
static napi_value Minhash(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t *sh, *a, *b, *out;
  size_t n_sh, n_a, n_b, n_out;
  if (argc < 4 || !get_u32(env, argv[0], &sh, &n_sh) || !get_u32(env, argv[1], &a, &n_a) || !get_u32(env, argv[2], &b, &n_b) || !get_u32(env, argv[3], &out, &n_out) || n_a != n_b || n_out != n_a) {
    napi_throw_type_error(env, nullptr, "minhash(shingles, a, b, out): Uint32Arrays with a, b and out of equal length");
    return nullptr;
  }
  minhash_one(sh, n_sh, a, b, out, n_a);
  return nullptr;
}

// FNV-1a over n consecutive values of seq (all of them when shorter), distinct, then MinHash; returns the shingle count.
template <typename T>
static uint32_t shingle_minhash(const std::vector<T>& seq, size_t n, const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n_perm) {
  std::vector<uint32_t> sh;
  auto fnv = [&](size_t from, size_t to) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = from; i < to; i++) h = (h ^ static_cast<uint32_t>(seq[i])) * 0x01000193u;
    return h;
  };
  if (!seq.empty()) {
    if (seq.size() < n) sh.push_back(fnv(0, seq.size()));
    else for (size_t i = 0; i + n <= seq.size(); i++) sh.push_back(fnv(i, i + n));
    std::sort(sh.begin(), sh.end());
    sh.erase(std::unique(sh.begin(), sh.end()), sh.end());
  }
  minhash_one(sh.data(), sh.size(), a, b, out, n_perm);
  return static_cast<uint32_t>(sh.size());
}

// Character shingles of CJK text (non-space code units; U+3000 counts as space), as in
// src/factory/dedup/shingles.ts: FNV-1a over n consecutive code units, distinct values,
// a text shorter than n gives one shingle of all of it. Then the MinHash signature.
static napi_value MinhashCjk(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_typedarray_type type;
  size_t len, off, n_a, n_b, n_out;
  void* p;
  napi_value buf;
  uint32_t n_sh_size = 0;
  uint32_t *a, *b, *out;
  if (argc < 5 || napi_get_typedarray_info(env, argv[0], &type, &len, &p, &buf, &off) != napi_ok || type != napi_uint16_array ||
      napi_get_value_uint32(env, argv[1], &n_sh_size) != napi_ok || n_sh_size == 0 ||
      !get_u32(env, argv[2], &a, &n_a) || !get_u32(env, argv[3], &b, &n_b) || !get_u32(env, argv[4], &out, &n_out) || n_a != n_b || n_out != n_a) {
    napi_throw_type_error(env, nullptr, "minhashCjk(text: Uint16Array, n, a, b, out)");
    return nullptr;
  }
  const uint16_t* text = static_cast<const uint16_t*>(p);
  std::vector<uint16_t> codes;
  codes.reserve(len);
  for (size_t i = 0; i < len; i++) {
    const uint16_t c = text[i];
    if (c > 32 && c != 0x3000) codes.push_back(c);
  }
  napi_value count;
  CHECK(napi_create_uint32(env, shingle_minhash(codes, n_sh_size, a, b, out, n_a), &count));
  return count;
}

// Word shingles (src/factory/dedup/shingles.ts): words are runs of code units with isWord set,
// each lower-cased unit by unit and FNV-1a hashed; shingles are FNV-1a over n consecutive word
// hashes; distinct values; fewer than n words give one shingle of all of them. Then MinHash.
static napi_value MinhashWords(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_typedarray_type t0, t2, t3;
  size_t len, l2, l3, off, n_a, n_b, n_out;
  void *p0, *p2, *p3;
  napi_value buf;
  uint32_t n = 0;
  uint32_t *a, *b, *out;
  if (argc < 7 || napi_get_typedarray_info(env, argv[0], &t0, &len, &p0, &buf, &off) != napi_ok || t0 != napi_uint16_array ||
      napi_get_value_uint32(env, argv[1], &n) != napi_ok || n == 0 ||
      napi_get_typedarray_info(env, argv[2], &t2, &l2, &p2, &buf, &off) != napi_ok || t2 != napi_uint8_array || l2 != 65536 ||
      napi_get_typedarray_info(env, argv[3], &t3, &l3, &p3, &buf, &off) != napi_ok || t3 != napi_uint16_array || l3 != 65536 ||
      !get_u32(env, argv[4], &a, &n_a) || !get_u32(env, argv[5], &b, &n_b) || !get_u32(env, argv[6], &out, &n_out) || n_a != n_b || n_out != n_a) {
    napi_throw_type_error(env, nullptr, "minhashWords(text: Uint16Array, n, isWord: Uint8Array(65536), lower: Uint16Array(65536), a, b, out)");
    return nullptr;
  }
  const uint16_t* text = static_cast<const uint16_t*>(p0);
  const uint8_t* is_word = static_cast<const uint8_t*>(p2);
  const uint16_t* lower = static_cast<const uint16_t*>(p3);
  std::vector<uint32_t> words;
  uint32_t h = 0x811c9dc5u;
  bool in_word = false;
  for (size_t i = 0; i <= len; i++) {
    const uint16_t c = i < len ? text[i] : 32;
    if (is_word[c]) {
      h = (h ^ lower[c]) * 0x01000193u;
      in_word = true;
    } else if (in_word) {
      words.push_back(h);
      h = 0x811c9dc5u;
      in_word = false;
    }
  }
  napi_value count;
  CHECK(napi_create_uint32(env, shingle_minhash(words, n, a, b, out, n_a), &count));
  return count;
}

// N-gram scoring on the hashed model of src/lm/hashed.ts (same hashes, same probing, same rule):
// ngramScore(ids: Int32Array (the sentence's word ids, then </s>), bos, order, caps: Uint32Array,
//            keys: Uint32Array[], vals: Float32Array[]) -> total log10 probability.
static inline uint32_t mixA(uint32_t h, uint32_t x) { h = (h ^ x) * 0x85ebca6bu; h ^= h >> 13; return h * 0xc2b2ae35u; }
static inline uint32_t mixB(uint32_t h, uint32_t x) { h = (h + x) * 0x9e3779b1u; h ^= h >> 15; return h * 0x27d4eb2fu; }

struct NgramTables {
  uint32_t order = 0;
  uint32_t* caps = nullptr;
  std::vector<const uint32_t*> keys;
  std::vector<const float*> vals;
};

// caps: Uint32Array, keys: Uint32Array[], vals: Float32Array[] (src/lm/hashed.ts)
static bool ngram_tables(napi_env env, napi_value vorder, napi_value vcaps, napi_value vkeys, napi_value vvals, NgramTables* m) {
  napi_value buf;
  size_t off, n_caps;
  if (napi_get_value_uint32(env, vorder, &m->order) != napi_ok || m->order == 0 || m->order > 16 || !get_u32(env, vcaps, &m->caps, &n_caps) || n_caps != m->order) return false;
  m->keys.resize(m->order);
  m->vals.resize(m->order);
  for (uint32_t i = 0; i < m->order; i++) {
    napi_value k, v;
    size_t kl, vl;
    void *kp, *vp;
    napi_typedarray_type kt, vt;
    if (napi_get_element(env, vkeys, i, &k) != napi_ok || napi_get_element(env, vvals, i, &v) != napi_ok ||
        napi_get_typedarray_info(env, k, &kt, &kl, &kp, &buf, &off) != napi_ok || kt != napi_uint32_array || kl != m->caps[i] * 2 ||
        napi_get_typedarray_info(env, v, &vt, &vl, &vp, &buf, &off) != napi_ok || vt != napi_float32_array || vl != m->caps[i] * 2)
      return false;
    m->keys[i] = static_cast<const uint32_t*>(kp);
    m->vals[i] = static_cast<const float*>(vp);
  }
  return true;
}

// total log10 probability of ids[0..len) (the last one </s>) after <s>
static double ngram_total(const NgramTables& m, const int32_t* ids, size_t len, int32_t bos) {
  const uint32_t order = m.order;
  const uint32_t* caps = m.caps;
  const auto& keys = m.keys;
  const auto& vals = m.vals;
  auto find = [&](uint32_t o, uint32_t a, uint32_t b) -> int64_t {
    const uint32_t mask = caps[o] - 1;
    const uint32_t* k = keys[o];
    uint32_t i = (a ^ b) & mask;
    for (;;) {
      const uint32_t x = k[2 * i];
      if (x == 0) return -1;
      if (x == a && k[2 * i + 1] == b) return i;
      i = (i + 1) & mask;
    }
  };
  // The sequence is <s> then the ids. The n-gram of length L ending at position p is looked up once;
  // the context (length l) of position p is the n-gram of length l ending at p - 1, so its backoff
  // comes from that earlier lookup. An n-gram can only be in the model when its context is (ARPA's
  // prefix rule, which the reader enforces), so an order is looked up only where the previous
  // position found the context. Keys are hashed and their slots prefetched order by order, so the
  // cache misses of a line overlap instead of coming one after another.
  const uint32_t n = order - 1;
  const size_t P = len + 1;  // positions 0 (<s>) .. len
  auto seq = [&](size_t q) -> uint32_t { return q == 0 ? static_cast<uint32_t>(bos) : static_cast<uint32_t>(ids[q - 1]); };
  std::vector<uint32_t> ha(P * order), hb(P * order);
  std::vector<int64_t> slot(P * order, -1);
  auto lengths = [&](size_t q) -> uint32_t { return q == 0 ? (n > 0 ? 1u : 0u) : (q < n ? static_cast<uint32_t>(q) : n) + 1; };
  for (size_t q = 0; q < P; q++) {
    uint32_t a = 0x2545f491u, b = 0x6c8e9cf5u;
    const uint32_t L = lengths(q);
    for (uint32_t l = 0; l < L; l++) {
      const uint32_t x = seq(q - l) + 1;
      a = mixA(a, x);
      b = mixB(b, x);
      ha[q * order + l] = a | 1u;
      hb[q * order + l] = b;
    }
  }
  for (uint32_t l = 0; l < order; l++) {
    auto wanted = [&](size_t q) { return l < lengths(q) && (l == 0 || (q > 0 && slot[(q - 1) * order + (l - 1)] >= 0)); };
    for (size_t q = 0; q < P; q++)
      if (wanted(q)) {
        const uint32_t i = (ha[q * order + l] ^ hb[q * order + l]) & (caps[l] - 1);
        __builtin_prefetch(keys[l] + 2 * i);
        __builtin_prefetch(vals[l] + 2 * i);
      }
    for (size_t q = 0; q < P; q++)
      if (wanted(q)) slot[q * order + l] = find(l, ha[q * order + l], hb[q * order + l]);
  }
  double total = 0;
  for (size_t q = 1; q < P; q++) {
    const uint32_t max_ctx = q < n ? static_cast<uint32_t>(q) : n;
    int best_len = -1;
    double best_p = 0;
    for (uint32_t l = 0; l <= max_ctx; l++) {
      const int64_t sl = slot[q * order + l];
      if (sl >= 0) { best_len = static_cast<int>(l); best_p = vals[l][2 * sl]; }
    }
    double lp = best_len >= 0 ? best_p : -100.0;
    for (uint32_t k = static_cast<uint32_t>(best_len + 1); k <= max_ctx; k++) {
      if (k < 1) continue;
      const int64_t cs = slot[(q - 1) * order + (k - 1)];
      if (cs >= 0) lp += vals[k - 1][2 * cs + 1];
    }
    total += lp;
  }
  return total;
}

static napi_value NgramScore(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_typedarray_type t;
  size_t len, off;
  void* p;
  napi_value buf;
  int32_t bos = 0;
  NgramTables m;
  if (argc < 6 || napi_get_typedarray_info(env, argv[0], &t, &len, &p, &buf, &off) != napi_ok || t != napi_int32_array ||
      napi_get_value_int32(env, argv[1], &bos) != napi_ok || !ngram_tables(env, argv[2], argv[3], argv[4], argv[5], &m)) {
    napi_throw_type_error(env, nullptr, "ngramScore(ids: Int32Array, bos, order, caps: Uint32Array, keys: Uint32Array[], vals: Float32Array[])");
    return nullptr;
  }
  napi_value r;
  CHECK(napi_create_double(env, ngram_total(m, static_cast<const int32_t*>(p), len, bos), &r));
  return r;
}

// ngramScoreText(line: string, isSpace: Uint8Array(65536), table: Int32Array, chars: Uint16Array, offsets: Uint32Array,
//                bos, eos, order, caps, keys, vals, out: Float64Array(3), byLine = false): the line split at isSpace code units
// into words, each word's id found exactly in the vocabulary table (FNV-1a over UTF-16 units, open
// addressing, word index + 1; the stored characters are compared), unknown words as id 0; out = [total, words, oov].
// byLine: the text is a document cut at '\n' and each line with words is scored as a sentence;
// out = [sum of line totals, sum of (words + 1), oov] (the </s> of each scored line counts as a token)
static napi_value NgramScoreText(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  napi_typedarray_type t1, t2, t3, t4, t11;
  bool by_line = false;
  if (argc >= 13) napi_get_value_bool(env, argv[12], &by_line);
  size_t l1, l2, l3, l4, l11, off, slen = 0;
  void *p1, *p2, *p3, *p4, *p11;
  napi_value buf;
  int32_t bos = 0, eos = 0;
  NgramTables m;
  if (argc < 12 || napi_get_value_string_utf16(env, argv[0], nullptr, 0, &slen) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &t1, &l1, &p1, &buf, &off) != napi_ok || t1 != napi_uint8_array || l1 != 65536 ||
      napi_get_typedarray_info(env, argv[2], &t2, &l2, &p2, &buf, &off) != napi_ok || t2 != napi_int32_array || l2 == 0 || (l2 & (l2 - 1)) ||
      napi_get_typedarray_info(env, argv[3], &t3, &l3, &p3, &buf, &off) != napi_ok || t3 != napi_uint16_array ||
      napi_get_typedarray_info(env, argv[4], &t4, &l4, &p4, &buf, &off) != napi_ok || t4 != napi_uint32_array || l4 == 0 ||
      napi_get_value_int32(env, argv[5], &bos) != napi_ok || napi_get_value_int32(env, argv[6], &eos) != napi_ok ||
      !ngram_tables(env, argv[7], argv[8], argv[9], argv[10], &m) ||
      napi_get_typedarray_info(env, argv[11], &t11, &l11, &p11, &buf, &off) != napi_ok || t11 != napi_float64_array || l11 < 3) {
    napi_throw_type_error(env, nullptr, "ngramScoreText(line, isSpace, table, chars, offsets, bos, eos, order, caps, keys, vals, out)");
    return nullptr;
  }
  std::vector<char16_t> text(slen + 1);
  size_t got = 0;
  CHECK(napi_get_value_string_utf16(env, argv[0], text.data(), slen + 1, &got));
  const uint8_t* is_space = static_cast<const uint8_t*>(p1);
  const int32_t* table = static_cast<const int32_t*>(p2);
  const uint32_t mask = static_cast<uint32_t>(l2 - 1);
  const uint16_t* chars = static_cast<const uint16_t*>(p3);
  const uint32_t* offsets = static_cast<const uint32_t*>(p4);
  std::vector<int32_t> ids;
  ids.reserve(got / 2 + 2);
  double oov = 0, sum_total = 0, sum_tokens = 0, words = 0;
  size_t start = SIZE_MAX;
  for (size_t i = 0; i <= got; i++) {
    const uint16_t c = i < got ? static_cast<uint16_t>(text[i]) : 32;
    // the text is one sentence (scored even when empty), or with byLine one per '\n' (empty ones skipped)
    const bool line_end = i == got || (by_line && c == 10);
    if (!is_space[c] && !line_end) {
      if (start == SIZE_MAX) start = i;
      continue;
    }
    if (start != SIZE_MAX) {
      uint32_t h = 0x811c9dc5u;
      for (size_t k = start; k < i; k++) h = (h ^ static_cast<uint16_t>(text[k])) * 0x01000193u;
      int32_t id = 0;
      for (uint32_t slot = h & mask;; slot = (slot + 1) & mask) {
        const int32_t w = table[slot];
        if (w == 0) break;
        const uint32_t a = offsets[w - 1], b = offsets[w];
        if (b - a == i - start && memcmp(chars + a, text.data() + start, (i - start) * 2) == 0) { id = w - 1; break; }
      }
      if (id == 0) oov++;
      ids.push_back(id);
      start = SIZE_MAX;
    }
    if (line_end && (!ids.empty() || !by_line)) {
      const size_t nw = ids.size();
      ids.push_back(eos);
      sum_total += ngram_total(m, ids.data(), ids.size(), bos);
      sum_tokens += static_cast<double>(nw + 1);
      words += static_cast<double>(nw);
      ids.clear();
    }
  }
  double* out = static_cast<double*>(p11);
  out[0] = sum_total;
  out[1] = by_line ? sum_tokens : words;
  out[2] = oov;
  return nullptr;
}

void register_tensor_kernels(napi_env env, napi_value exports);
void register_text_kernels(napi_env env, napi_value exports);
void register_io_kernels(napi_env env, napi_value exports);

static napi_value Init(napi_env env, napi_value exports) {
  register_tensor_kernels(env, exports);
  register_text_kernels(env, exports);
  register_io_kernels(env, exports);
  const ziya_native::NamedFunction fns[] = {
      {"ngramScoreText", NgramScoreText}, {"ngramScore", NgramScore}, {"minhashWords", MinhashWords},
      {"minhashCjk", MinhashCjk}, {"minhash", Minhash},
  };
  if (!ziya_native::export_functions(env, exports, fns)) {
    napi_throw_error(env, nullptr, "ziya_native: N-API call failed");
    return nullptr;
  }
  napi_value simd;
  __builtin_cpu_init();
  const char* level = __builtin_cpu_supports("avx512f") ? "avx512f" : __builtin_cpu_supports("avx2") ? "avx2" : "generic";
  CHECK(napi_create_string_utf8(env, level, NAPI_AUTO_LENGTH, &simd));
  CHECK(napi_set_named_property(env, exports, "simd", simd));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
