// Shared by the addon's N-API glue: typed-array arguments, and the functions each file exports.
#pragma once
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <vector>

namespace ziya_native {

struct Arr {
  void* p = nullptr;
  size_t len = 0;
  napi_typedarray_type type = napi_int8_array;
};

// v as a typed array of type want (its data pointer, offset included, and length in elements)
inline bool typed(napi_env env, napi_value v, napi_typedarray_type want, Arr* a) {
  // (no ArrayBuffer handle or offset asked for: the data pointer already includes the offset)
  if (napi_get_typedarray_info(env, v, &a->type, &a->len, &a->p, nullptr, nullptr) != napi_ok) return false;
  return a->type == want;
}

// Long-lived typed arrays registered once by registerArray (the tables and output arrays the
// JavaScript side keeps for its whole life) and named by their number afterwards: a number is
// read in one N-API call, where napi_get_typedarray_info asks V8 a dozen questions (its type one
// check at a time, its buffer, its offset), ~50 ns per array per call. Per thread (each worker
// thread has its own JavaScript state and registers its own arrays); a registered array is kept
// alive by a reference until it is unregistered.
struct Registered {
  void* p = nullptr;
  size_t len = 0;
  napi_typedarray_type type = napi_int8_array;
  napi_ref ref = nullptr;
};

inline std::vector<Registered>& registry() {
  static thread_local std::vector<Registered> r;
  return r;
}

// v as a typed array of type want: a typed array itself, or the number registerArray gave one
inline bool arr_arg(napi_env env, napi_value v, napi_typedarray_type want, Arr* a) {
  uint32_t id = 0;
  if (napi_get_value_uint32(env, v, &id) == napi_ok) {
    std::vector<Registered>& r = registry();
    if (id >= r.size() || r[id].ref == nullptr || r[id].type != want) return false;
    a->p = r[id].p;
    a->len = r[id].len;
    a->type = want;
    return true;
  }
  return typed(env, v, want, a);
}

// A function the addon exports, under its JavaScript name.
struct NamedFunction {
  const char* name;
  napi_callback cb;
};

// Sets each function on exports under its name; false at the first N-API call that fails.
template <size_t N>
inline bool export_functions(napi_env env, napi_value exports, const NamedFunction (&fns)[N]) {
  for (const NamedFunction& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return false;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return false;
  }
  return true;
}

}  // namespace ziya_native
