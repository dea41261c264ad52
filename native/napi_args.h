// Shared by the addon's N-API glue: typed-array arguments, and the functions each file exports.
#pragma once
#include <node_api.h>
#include <stddef.h>

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
