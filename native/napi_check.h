// Shared by the addon's N-API glue: a failed N-API call throws a JavaScript error and returns.
#pragma once
#include <node_api.h>

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, nullptr, "ziya_native: N-API call failed");   \
      return nullptr;                                                     \
    }                                                                     \
  } while (0)
