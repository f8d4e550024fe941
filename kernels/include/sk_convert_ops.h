// sk_convert_ops.h -- element-level half-precision conversion, IMPLEMENTATION code.
// Used by the CUDA kernels (kernels/src/convert.cu) AND by the host execution
// path sk_convert_host(). Integer-only so results do not depend on FTZ/DAZ or
// the floating-point rounding mode. The independent reference lives in
// kernels/src/reference.cpp and must not include this file.
#pragma once
#include <stdint.h>
#include "sk_hd.h"

namespace sk {

// fp32 bits -> fp16 bits, round to nearest even.
SK_HD uint16_t f32_to_f16_bits(uint32_t x) {
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  // NaN -> quiet NaN, keeps sign
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); // >= 65520 (or Inf) -> Inf
  if (ax >= 0x38800000u) {                                   // normal fp16 range (>= 2^-14)
    // rebias exponent 127 -> 15, keep 10 mantissa bits, RNE on the 13 dropped bits
    uint32_t m = ax - 0x38000000u;                           // (exp-112)<<23 | mant
    uint32_t r = m + 0x0fffu + ((m >> 13) & 1u);
    return (uint16_t)(sign | (r >> 13));                     // carry may bump exponent, ok
  }
  if (ax < 0x33000000u) return (uint16_t)sign;               // < 2^-25 -> +-0 (2^-25 is a tie to 0)
  // subnormal fp16: value = mant * 2^-24
  const uint32_t e = ax >> 23;                               // 102..112
  const uint32_t mant = (ax & 0x007fffffu) | 0x00800000u;    // 24-bit significand
  const uint32_t shift = 126u - e;                           // 14..24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) q += 1u;      // may become 0x400 = min normal, ok
  return (uint16_t)(sign | q);
}

// fp32 bits -> bf16 bits, round to nearest even.
SK_HD uint16_t f32_to_bf16_bits(uint32_t x) {
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)0x7fc0u;  // NaN (as PyTorch)
  const uint32_t lsb = (x >> 16) & 1u;
  return (uint16_t)((x + 0x7fffu + lsb) >> 16);               // overflow carries into Inf
}

SK_HD int clz32(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __clz((int)x);
#else
  return x ? __builtin_clz(x) : 32;
#endif
}

// fp16 bits -> fp32 bits (exact; NaN keeps sign and payload, quiet bit set).
SK_HD uint32_t f16_to_f32_bits(uint16_t h) {
  const uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
  const uint32_t e = ((uint32_t)h >> 10) & 0x1fu;
  const uint32_t m = (uint32_t)h & 0x3ffu;
  if (e == 0x1fu) return sign | 0x7f800000u | (m << 13) | (m ? 0x00400000u : 0u);
  if (e != 0) return sign | ((e + 112u) << 23) | (m << 13);
  if (m == 0) return sign;
  // subnormal: normalise with a count of leading zeros (no loop)
  const int sh = clz32(m) - 21;  // shifts that bring the leading 1 to bit 10
  return sign | ((uint32_t)(113 - sh) << 23) | (((m << sh) & 0x3ffu) << 13);
}

// bf16 bits -> fp32 bits (exact; NaN gets the quiet bit).
SK_HD uint32_t bf16_to_f32_bits(uint16_t b) {
  uint32_t x = (uint32_t)b << 16;
  if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x00400000u;
  return x;
}

}  // namespace sk
