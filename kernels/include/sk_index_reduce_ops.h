// sk_index_reduce_ops.h -- element-level index_reduce logic, IMPLEMENTATION code.
// Shared by the CUDA kernel (kernels/src/index_reduce.cu) and the host execution
// path sk_index_reduce_host(). Semantics of torch.Tensor.index_reduce_(0, ...):
//  - include_self=True : start from self, combine every source value indexed to the row.
//  - include_self=False: indexed rows start from the identity (prod 1, mean 0,
//                        amax -inf, amin +inf); rows never indexed keep self.
//  - mean divides by (number of source rows indexed to the row) + (include_self ? 1 : 0).
//  - amax/amin propagate NaN (any NaN operand gives NaN).
// The independent reference lives in kernels/src/reference.cpp.
#pragma once
#include <stdint.h>
#include "sk_hd.h"

namespace sk {

SK_HD float ir_nan() { return __builtin_nanf(""); }
SK_HD float ir_inf() { return __builtin_huge_valf(); }
SK_HD bool ir_isnan(float x) { return x != x; }

// Accumulator start value for a row that is indexed at least once.
SK_HD float ir_init(int reduce, bool include_self, float self_val) {
  if (include_self) return self_val;
  switch (reduce) {
    case 0: return 1.0f;        // prod
    case 1: return 0.0f;        // mean (sum)
    case 2: return -ir_inf();   // amax
    default: return ir_inf();   // amin
  }
}

SK_HD float ir_combine(int reduce, float acc, float v) {
  switch (reduce) {
    case 0: return acc * v;
    case 1: return acc + v;
    case 2: return (ir_isnan(acc) || ir_isnan(v)) ? ir_nan() : (v > acc ? v : acc);
    default: return (ir_isnan(acc) || ir_isnan(v)) ? ir_nan() : (v < acc ? v : acc);
  }
}

// Divisor used by mean for a row that received `count` (>= 1) source rows.
SK_HD float ir_mean_count(int64_t count, bool include_self) {
  return (float)(count + (include_self ? 1 : 0));
}

SK_HD float ir_finalize(int reduce, bool include_self, float acc, int64_t count) {
  if (reduce == 1) return acc / ir_mean_count(count, include_self);
  return acc;
}

}  // namespace sk
