// Native kernels for Ziya-TS (N-API, C ABI). Each has a TypeScript reference
// that the tests compare it with; the program runs without this addon.
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <vector>

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, nullptr, "ziya_native: N-API call failed");   \
      return nullptr;                                                     \
    }                                                                     \
  } while (0)

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
  napi_value buf;
  size_t off;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &buf, &off) != napi_ok || type != napi_uint32_array) return false;
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

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn3;
  CHECK(napi_create_function(env, "minhashWords", NAPI_AUTO_LENGTH, MinhashWords, nullptr, &fn3));
  CHECK(napi_set_named_property(env, exports, "minhashWords", fn3));
  napi_value fn2;
  CHECK(napi_create_function(env, "minhashCjk", NAPI_AUTO_LENGTH, MinhashCjk, nullptr, &fn2));
  CHECK(napi_set_named_property(env, exports, "minhashCjk", fn2));
  napi_value fn;
  CHECK(napi_create_function(env, "minhash", NAPI_AUTO_LENGTH, Minhash, nullptr, &fn));
  CHECK(napi_set_named_property(env, exports, "minhash", fn));
  napi_value simd;
  __builtin_cpu_init();
  const char* level = __builtin_cpu_supports("avx512f") ? "avx512f" : __builtin_cpu_supports("avx2") ? "avx2" : "generic";
  CHECK(napi_create_string_utf8(env, level, NAPI_AUTO_LENGTH, &simd));
  CHECK(napi_set_named_property(env, exports, "simd", simd));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
