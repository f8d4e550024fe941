// sk_dtype_io.h -- load/store one element of a runtime dtype as float, through
// the implementation conversion functions (IMPLEMENTATION code).
#pragma once
#include <stdint.h>
#include <string.h>
#include "sk_convert_ops.h"

namespace sk {
SK_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f; memcpy(&f, &u, 4); return f;
#endif
}
SK_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u; memcpy(&u, &f, 4); return u;
#endif
}
// dtype: 0 f32, 1 f16, 2 bf16
SK_HD float load_elem(int dtype, const void* p, int64_t i) {
  if (dtype == 0) return ((const float*)p)[i];
  const uint16_t h = ((const uint16_t*)p)[i];
  return bits_to_float(dtype == 1 ? f16_to_f32_bits(h) : bf16_to_f32_bits(h));
}
SK_HD void store_elem(int dtype, void* p, int64_t i, float v) {
  if (dtype == 0) { ((float*)p)[i] = v; return; }
  const uint32_t u = float_to_bits(v);
  ((uint16_t*)p)[i] = dtype == 1 ? f32_to_f16_bits(u) : f32_to_bf16_bits(u);
}
}  // namespace sk
