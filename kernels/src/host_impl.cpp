// host_impl.cpp -- host execution of the IMPLEMENTATION code (the same
// __host__ __device__ element functions the CUDA kernels use), mirroring the
// device algorithm: stable counting sort of source rows by target index, then
// one pass per target row combining its source rows in ascending order, in
// groups of SK_INDEX_REDUCE_GROUP (the ABI's combine order).
#include <algorithm>
#include <vector>
#include <cstring>
#include "common.h"
#include "sk_convert_ops.h"
#include "sk_index_reduce_ops.h"
#include "sk_dtype_io.h"

extern "C" {

SK_API int sk_convert_host(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n) {
  if (n < 0) return sk::set_error(SK_ERR_INVALID, "convert_host: n < 0");
  if (n > 0 && (!src || !dst)) return sk::set_error(SK_ERR_INVALID, "convert_host: null pointer");
  if (src_dtype == SK_F32 && dst_dtype == SK_F16) {
    for (int64_t i = 0; i < n; ++i) ((uint16_t*)dst)[i] = sk::f32_to_f16_bits(((const uint32_t*)src)[i]);
  } else if (src_dtype == SK_F32 && dst_dtype == SK_BF16) {
    for (int64_t i = 0; i < n; ++i) ((uint16_t*)dst)[i] = sk::f32_to_bf16_bits(((const uint32_t*)src)[i]);
  } else if (src_dtype == SK_F16 && dst_dtype == SK_F32) {
    for (int64_t i = 0; i < n; ++i) ((uint32_t*)dst)[i] = sk::f16_to_f32_bits(((const uint16_t*)src)[i]);
  } else if (src_dtype == SK_BF16 && dst_dtype == SK_F32) {
    for (int64_t i = 0; i < n; ++i) ((uint32_t*)dst)[i] = sk::bf16_to_f32_bits(((const uint16_t*)src)[i]);
  } else {
    return sk::set_error(SK_ERR_UNSUPPORTED, "convert_host: unsupported pair %d -> %d", src_dtype, dst_dtype);
  }
  return SK_OK;
}

SK_API int sk_index_reduce_host(int dtype, void* self, int64_t self_rows, int64_t row_size,
                                const int64_t* index, int64_t n_index, const void* source,
                                int reduce, int include_self) {
  if (dtype != SK_F32 && dtype != SK_F16 && dtype != SK_BF16)
    return sk::set_error(SK_ERR_UNSUPPORTED, "index_reduce_host: dtype %d", dtype);
  if (reduce < 0 || reduce > 3) return sk::set_error(SK_ERR_INVALID, "index_reduce_host: reduce %d", reduce);
  if (self_rows < 0 || row_size < 0 || n_index < 0) return sk::set_error(SK_ERR_INVALID, "index_reduce_host: negative size");
  if (n_index == 0 || row_size == 0) return SK_OK;
  if (!self || !index || !source) return sk::set_error(SK_ERR_INVALID, "index_reduce_host: null pointer");
  for (int64_t i = 0; i < n_index; ++i)
    if (index[i] < 0 || index[i] >= self_rows)
      return sk::set_error(SK_ERR_INVALID, "index_reduce_host: index[%lld]=%lld out of range [0,%lld)",
                           (long long)i, (long long)index[i], (long long)self_rows);
  // stable counting sort (device uses a stable radix sort: same order)
  std::vector<int64_t> start(self_rows + 1, 0);
  for (int64_t i = 0; i < n_index; ++i) start[index[i] + 1]++;
  for (int64_t r = 0; r < self_rows; ++r) start[r + 1] += start[r];
  std::vector<int64_t> perm(n_index), fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n_index; ++i) perm[fill[index[i]]++] = i;
  for (int64_t r = 0; r < self_rows; ++r) {
    const int64_t b = start[r], e = start[r + 1];
    if (b == e) continue;
    for (int64_t c = 0; c < row_size; ++c) {
      float acc = sk::ir_init(reduce, include_self != 0, sk::load_elem(dtype, self, r * row_size + c));
      const int64_t e0 = std::min<int64_t>(e, b + SK_INDEX_REDUCE_GROUP);
      for (int64_t s = b; s < e0; ++s)
        acc = sk::ir_combine(reduce, acc, sk::load_elem(dtype, source, perm[s] * row_size + c));
      for (int64_t g0 = e0; g0 < e; g0 += SK_INDEX_REDUCE_GROUP) {  // later groups: partial, then combine
        const int64_t g1 = std::min<int64_t>(e, g0 + SK_INDEX_REDUCE_GROUP);
        float part = sk::load_elem(dtype, source, perm[g0] * row_size + c);
        for (int64_t s = g0 + 1; s < g1; ++s)
          part = sk::ir_combine(reduce, part, sk::load_elem(dtype, source, perm[s] * row_size + c));
        acc = sk::ir_combine(reduce, acc, part);
      }
      sk::store_elem(dtype, self, r * row_size + c, sk::ir_finalize(reduce, include_self != 0, acc, e - b));
    }
  }
  return SK_OK;
}

}  // extern "C"
