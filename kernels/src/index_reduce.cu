// index_reduce.cu -- torch.Tensor.index_reduce_(0, index, source, reduce, include_self)
// Algorithm (deterministic, one write per target element):
//   1. keys[i] = index[i] as uint32 (out-of-range -> 0xffffffff, never matched), vals[i] = i
//   2. stable radix sort (cub) of (keys, vals) on ceil(log2(rows)) bits
//   3. one warp per target row: binary-search its segment of sorted keys, then
//      per 16-byte column vector combine the source rows in ascending source
//      order in float32 with the shared element functions (sk_index_reduce_ops.h),
//      finalize (mean divide) and store once.
#include <cub/device/device_radix_sort.cuh>
#include "cuda_common.cuh"
#include "sk_index_reduce_ops.h"
#include "sk_dtype_io.h"

namespace {

__global__ void make_keys(const int64_t* __restrict__ index, int64_t n, int64_t rows, uint32_t* keys, int32_t* vals) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = index[i];
    keys[i] = (t >= 0 && t < rows) ? (uint32_t)t : 0xffffffffu;
    vals[i] = (int32_t)i;
  }
}

__device__ __forceinline__ int64_t lower_bound(const uint32_t* __restrict__ k, int64_t n, uint32_t v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (__ldg(k + mid) < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

template <int DT, int VEC>
__device__ __forceinline__ void load_vec(const void* base, int64_t idx, float* out) {
  if constexpr (VEC == 1) {
    out[0] = sk::load_elem(DT, base, idx);
  } else if constexpr (DT == 0) {
    const float4 v = __ldg(reinterpret_cast<const float4*>((const float*)base + idx));
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
  } else {
    const uint4 v = __ldg(reinterpret_cast<const uint4*>((const uint16_t*)base + idx));
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      out[2 * k] = sk::bits_to_float(DT == 1 ? sk::f16_to_f32_bits((uint16_t)(w[k] & 0xffff)) : sk::bf16_to_f32_bits((uint16_t)(w[k] & 0xffff)));
      out[2 * k + 1] = sk::bits_to_float(DT == 1 ? sk::f16_to_f32_bits((uint16_t)(w[k] >> 16)) : sk::bf16_to_f32_bits((uint16_t)(w[k] >> 16)));
    }
  }
}

template <int DT, int VEC>
__device__ __forceinline__ void store_vec(void* base, int64_t idx, const float* v) {
  if constexpr (VEC == 1) {
    sk::store_elem(DT, base, idx, v[0]);
  } else if constexpr (DT == 0) {
    *reinterpret_cast<float4*>((float*)base + idx) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint32_t a = sk::float_to_bits(v[2 * k]), b = sk::float_to_bits(v[2 * k + 1]);
      const uint16_t ha = DT == 1 ? sk::f32_to_f16_bits(a) : sk::f32_to_bf16_bits(a);
      const uint16_t hb = DT == 1 ? sk::f32_to_f16_bits(b) : sk::f32_to_bf16_bits(b);
      w[k] = (uint32_t)ha | ((uint32_t)hb << 16);
    }
    *reinterpret_cast<uint4*>((uint16_t*)base + idx) = make_uint4(w[0], w[1], w[2], w[3]);
  }
}

template <int DT, int VEC>
__global__ void __launch_bounds__(256) reduce_rows(void* __restrict__ self, const void* __restrict__ src,
                                                   const uint32_t* __restrict__ keys, const int32_t* __restrict__ perm,
                                                   int64_t n, int64_t rows, int64_t row_size, int reduce, bool include_self) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  for (int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; r < rows; r += warps) {
    const int64_t b = lower_bound(keys, n, (uint32_t)r);
    if (b >= n || keys[b] != (uint32_t)r) continue;
    const int64_t e = lower_bound(keys + b, n - b, (uint32_t)r + 1u) + b;
    const int64_t cnt = e - b;
    for (int64_t c = (int64_t)lane * VEC; c < row_size; c += 32 * VEC) {
      float acc[VEC];
      load_vec<DT, VEC>(self, r * row_size + c, acc);
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_init(reduce, include_self, acc[k]);
      int64_t s = b;
      for (; s + 4 <= e; s += 4) {
        float v[4][VEC];
#pragma unroll
        for (int u = 0; u < 4; ++u) load_vec<DT, VEC>(src, (int64_t)__ldg(perm + s + u) * row_size + c, v[u]);
#pragma unroll
        for (int u = 0; u < 4; ++u)
#pragma unroll
          for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_combine(reduce, acc[k], v[u][k]);
      }
      for (; s < e; ++s) {
        float v[VEC];
        load_vec<DT, VEC>(src, (int64_t)__ldg(perm + s) * row_size + c, v);
#pragma unroll
        for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_combine(reduce, acc[k], v[k]);
      }
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_finalize(reduce, include_self, acc[k], cnt);
      store_vec<DT, VEC>(self, r * row_size + c, acc);
    }
  }
}

template <int DT>
void launch_reduce(bool vec, int grid, cudaStream_t s, void* self, const void* src, const uint32_t* keys,
                   const int32_t* perm, int64_t n, int64_t rows, int64_t row_size, int reduce, bool include_self) {
  constexpr int V = DT == 0 ? 4 : 8;
  if (vec) reduce_rows<DT, V><<<grid, 256, 0, s>>>(self, src, keys, perm, n, rows, row_size, reduce, include_self);
  else reduce_rows<DT, 1><<<grid, 256, 0, s>>>(self, src, keys, perm, n, rows, row_size, reduce, include_self);
}

}  // namespace

extern "C" SK_API int sk_index_reduce(int dtype, void* self, int64_t self_rows, int64_t row_size,
                                      const int64_t* index, int64_t n_index, const void* source,
                                      int reduce, int include_self, void* stream) {
  if (dtype != SK_F32 && dtype != SK_F16 && dtype != SK_BF16)
    return sk::set_error(SK_ERR_UNSUPPORTED, "index_reduce: dtype %d unsupported", dtype);
  if (reduce < 0 || reduce > 3) return sk::set_error(SK_ERR_INVALID, "index_reduce: reduce %d", reduce);
  if (self_rows < 0 || row_size < 0 || n_index < 0) return sk::set_error(SK_ERR_INVALID, "index_reduce: negative size");
  if (n_index == 0 || row_size == 0 || self_rows == 0) return SK_OK;
  if (!self || !index || !source) return sk::set_error(SK_ERR_INVALID, "index_reduce: null pointer");
  if (n_index > INT32_MAX || self_rows >= 0xffffffffLL)
    return sk::set_error(SK_ERR_UNSUPPORTED, "index_reduce: n_index must be < 2^31 and self_rows < 2^32-1");
  if (int st = sk::require_cuda()) return st;
  cudaStream_t s = (cudaStream_t)stream;
  int end_bit = 1;
  while (end_bit < 32 && ((uint64_t)1 << end_bit) <= (uint64_t)self_rows) ++end_bit;
  end_bit = end_bit < 32 ? end_bit + 1 : 32;  // one more bit so 0xffffffff (invalid) sorts after all rows
  if (end_bit > 32) end_bit = 32;
  size_t temp_bytes = 0;
  SK_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, (const uint32_t*)nullptr, (uint32_t*)nullptr,
                                              (const int32_t*)nullptr, (int32_t*)nullptr, (int)n_index, 0, end_bit, s));
  const size_t kbytes = ((size_t)n_index * 4 + 255) & ~(size_t)255;
  char* ws = nullptr;
  SK_CUDA_TRY(cudaMallocAsync((void**)&ws, 4 * kbytes + temp_bytes, s));
  uint32_t* keys_in = (uint32_t*)ws;
  uint32_t* keys_out = (uint32_t*)(ws + kbytes);
  int32_t* vals_in = (int32_t*)(ws + 2 * kbytes);
  int32_t* vals_out = (int32_t*)(ws + 3 * kbytes);
  void* temp = ws + 4 * kbytes;
  int dev = 0, sms = 132;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  {
    int64_t g = (n_index + 255) / 256;
    if (g > (int64_t)sms * 8) g = (int64_t)sms * 8;
    make_keys<<<(int)g, 256, 0, s>>>(index, n_index, self_rows, keys_in, vals_in);
  }
  cudaError_t e = cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, vals_in, vals_out, (int)n_index, 0,
                                                  end_bit, s);
  if (e != cudaSuccess) { cudaFreeAsync(ws, s); return sk::set_error(SK_ERR_CUDA, "index_reduce sort: %s", cudaGetErrorString(e)); }
  const int V = dtype == SK_F32 ? 4 : 8;
  const bool vec = row_size % V == 0 && (uintptr_t)self % 16 == 0 && (uintptr_t)source % 16 == 0;
  int64_t g = (self_rows + 7) / 8;
  if (g > (int64_t)sms * 16) g = (int64_t)sms * 16;
  const bool inc = include_self != 0;
  if (dtype == SK_F32) launch_reduce<0>(vec, (int)g, s, self, source, keys_out, vals_out, n_index, self_rows, row_size, reduce, inc);
  else if (dtype == SK_F16) launch_reduce<1>(vec, (int)g, s, self, source, keys_out, vals_out, n_index, self_rows, row_size, reduce, inc);
  else launch_reduce<2>(vec, (int)g, s, self, source, keys_out, vals_out, n_index, self_rows, row_size, reduce, inc);
  e = cudaGetLastError();
  cudaFreeAsync(ws, s);
  if (e != cudaSuccess) return sk::set_error(SK_ERR_CUDA, "index_reduce launch: %s", cudaGetErrorString(e));
  return SK_OK;
}
