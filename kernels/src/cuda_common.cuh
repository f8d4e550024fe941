#pragma once
#include <cuda_runtime.h>
#include "common.h"

#define SK_CUDA_TRY(expr)                                                              \
  do {                                                                                 \
    cudaError_t _e = (expr);                                                           \
    if (_e != cudaSuccess)                                                             \
      return sk::set_error(SK_ERR_CUDA, "%s failed: %s (%s:%d)", #expr,                 \
                           cudaGetErrorString(_e), __FILE__, __LINE__);                \
  } while (0)

#define SK_LAUNCH_CHECK(what)                                                          \
  do {                                                                                 \
    cudaError_t _e = cudaGetLastError();                                               \
    if (_e != cudaSuccess)                                                             \
      return sk::set_error(SK_ERR_CUDA, "%s launch failed: %s", what, cudaGetErrorString(_e)); \
  } while (0)

namespace sk {
int require_cuda();  // SK_OK when a device is usable, else SK_ERR_NO_CUDA with message
}
