// Shared by the addon's N-API glue: typed-array arguments.
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

}  // namespace ziya_native
