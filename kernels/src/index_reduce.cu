// index_reduce.cu -- torch.Tensor.index_reduce_(0, index, source, reduce, include_self)
// Algorithm (deterministic, one write per target element; the combine order is
// the ABI's, sheriff_kernels.h: groups of SK_INDEX_REDUCE_GROUP source rows):
//   1. keys[i] = index[i] as uint32 (out-of-range -> 0xffffffff, never matched), vals[i] = i
//   2. stable radix sort (cub) of (keys, vals) on ceil(log2(rows))+1 bits
//   3. group partials: one warp per window of G = SK_INDEX_REDUCE_GROUP sorted
//      positions; the window holds the start of at most one later group (k >= 1)
//      of a target (the target at the window's first position), which the warp
//      combines (from its first row, ascending source order, float32) into an
//      fp32 partial slot of that window. Hot targets thus spread over many warps.
//   4. one warp per target row: find its segment (warp-cooperative search),
//      combine group 0 into the start value, then the later groups' partials in
//      ascending order, finalize (mean divide) and store once.
// Steps 3-4 use the shared element functions (sk_index_reduce_ops.h).
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

// First position p in [lo, hi) with k[p] >= v (hi if none), computed by a whole
// warp: 32 probes per step (4 dependent loads for 2^20 keys). Warp-uniform result.
__device__ __forceinline__ int64_t warp_lower_bound(const uint32_t* __restrict__ k, int64_t lo, int64_t hi, uint32_t v,
                                                    int lane) {
  while (hi > lo) {
    const int64_t L = hi - lo;
    const int64_t stride = L <= 32 ? 1 : (L + 31) / 32;
    const int64_t p = lo + (int64_t)lane * stride;
    const bool pred = p < hi && __ldg(k + p) < v;
    const int c = __popc(__ballot_sync(0xffffffffu, pred));
    if (stride == 1) return lo + c;
    if (c == 0) return lo;
    const int64_t nlo = lo + (int64_t)(c - 1) * stride + 1;
    const int64_t nhi = min(lo + (int64_t)c * stride, hi);
    lo = nlo;
    hi = nhi;
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

constexpr int64_t G = SK_INDEX_REDUCE_GROUP;
constexpr int UNR = 8;  // source rows in flight per lane

template <int VEC>
__device__ __forceinline__ void load_part(const float* base, int64_t idx, float* out) {
  if constexpr (VEC == 1) {
    out[0] = base[idx];
  } else {
#pragma unroll
    for (int k = 0; k < VEC; k += 4) {
      const float4 v = *reinterpret_cast<const float4*>(base + idx + k);
      out[k] = v.x; out[k + 1] = v.y; out[k + 2] = v.z; out[k + 3] = v.w;
    }
  }
}

// acc = combine(...combine(acc, src[perm[s0]]) ..., src[perm[s1-1]]) for column vector c,
// UNR loads in flight, combined strictly in order.
template <int DT, int VEC>
__device__ __forceinline__ void combine_range(float* acc, const void* __restrict__ src, const int32_t* __restrict__ perm,
                                              int64_t s0, int64_t s1, int64_t c, int64_t row_size, int reduce) {
  int64_t s = s0;
  for (; s + UNR <= s1; s += UNR) {
    float v[UNR][VEC];
#pragma unroll
    for (int u = 0; u < UNR; ++u) load_vec<DT, VEC>(src, (int64_t)__ldg(perm + s + u) * row_size + c, v[u]);
#pragma unroll
    for (int u = 0; u < UNR; ++u)
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_combine(reduce, acc[k], v[u][k]);
  }
  for (; s < s1; ++s) {
    float v[VEC];
    load_vec<DT, VEC>(src, (int64_t)__ldg(perm + s) * row_size + c, v);
#pragma unroll
    for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_combine(reduce, acc[k], v[k]);
  }
}

// Step 3: partial of the later group (k >= 1) that starts in window w, if any.
template <int DT, int VEC>
__global__ void __launch_bounds__(256) group_partials(float* __restrict__ part, const void* __restrict__ src,
                                                      const uint32_t* __restrict__ keys, const int32_t* __restrict__ perm,
                                                      int64_t n, int64_t row_size, int reduce) {
  const int lane = threadIdx.x & 31;
  const int64_t nwin = (n + G - 1) / G;
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  for (int64_t w = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; w < nwin; w += warps) {
    const int64_t x0 = w * G;
    const uint32_t r = __ldg(keys + x0);
    if (r == 0xffffffffu) continue;
    const int64_t b = warp_lower_bound(keys, 0, x0, r, lane);  // segment start (keys[x0] == r)
    if (b == x0) continue;                                     // group 0 starts here: step 4 does it
    const int64_t x = b + ((x0 - b + G - 1) / G) * G;          // first group start >= x0 (< x0 + G)
    if (x >= n || __ldg(keys + x) != r) continue;              // segment ends before
    const int64_t lim = min(G, n - x);
    const int64_t e = x + warp_lower_bound(keys + x, 0, lim, r + 1u, lane);
    for (int64_t c = (int64_t)lane * VEC; c < row_size; c += 32 * VEC) {
      float acc[VEC];
      load_vec<DT, VEC>(src, (int64_t)__ldg(perm + x) * row_size + c, acc);
      combine_range<DT, VEC>(acc, src, perm, x + 1, e, c, row_size, reduce);
      float* o = part + w * row_size + c;
      if constexpr (VEC == 1) {
        o[0] = acc[0];
      } else {
#pragma unroll
        for (int k = 0; k < VEC; k += 4) *reinterpret_cast<float4*>(o + k) = make_float4(acc[k], acc[k + 1], acc[k + 2], acc[k + 3]);
      }
    }
  }
}

// Step 4.
template <int DT, int VEC>
__global__ void __launch_bounds__(128) reduce_rows(void* __restrict__ self, const void* __restrict__ src,
                                                   const uint32_t* __restrict__ keys, const int32_t* __restrict__ perm,
                                                   const float* __restrict__ part, int64_t n, int64_t rows,
                                                   int64_t row_size, int reduce, bool include_self) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  for (int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; r < rows; r += warps) {
    const int64_t b = warp_lower_bound(keys, 0, n, (uint32_t)r, lane);
    if (b >= n || __ldg(keys + b) != (uint32_t)r) continue;
    const int64_t e = warp_lower_bound(keys, b, n, (uint32_t)r + 1u, lane);
    const int64_t cnt = e - b;
    const int64_t e0 = min(e, b + G);
    for (int64_t c = (int64_t)lane * VEC; c < row_size; c += 32 * VEC) {
      float acc[VEC];
      load_vec<DT, VEC>(self, r * row_size + c, acc);
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_init(reduce, include_self, acc[k]);
      combine_range<DT, VEC>(acc, src, perm, b, e0, c, row_size, reduce);
      int64_t x = b + G;
      for (; x + 3 * G < e; x += 4 * G) {  // later groups' partials, 4 in flight
        float v[4][VEC];
#pragma unroll
        for (int u = 0; u < 4; ++u) load_part<VEC>(part, ((x + u * G) / G) * row_size + c, v[u]);
#pragma unroll
        for (int u = 0; u < 4; ++u)
#pragma unroll
          for (int k = 0; k < VEC; ++k) acc[k] = sk::ir_combine(reduce, acc[k], v[u][k]);
      }
      for (; x < e; x += G) {
        float v[VEC];
        load_part<VEC>(part, (x / G) * row_size + c, v);
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
void launch_reduce(bool vec, int sms, cudaStream_t s, void* self, const void* src, const uint32_t* keys,
                   const int32_t* perm, float* part, int64_t n, int64_t rows, int64_t row_size, int reduce,
                   bool include_self) {
  constexpr int V = DT == 0 ? 4 : 8;
  if (part) {
    int64_t g = ((n + G - 1) / G + 7) / 8;
    if (g > (int64_t)sms * 16) g = (int64_t)sms * 16;
    if (vec) group_partials<DT, V><<<(int)g, 256, 0, s>>>(part, src, keys, perm, n, row_size, reduce);
    else group_partials<DT, 1><<<(int)g, 256, 0, s>>>(part, src, keys, perm, n, row_size, reduce);
  }
  int64_t g = (rows + 3) / 4;
  if (g > (int64_t)sms * 32) g = (int64_t)sms * 32;
  if (vec) reduce_rows<DT, V><<<(int)g, 128, 0, s>>>(self, src, keys, perm, part, n, rows, row_size, reduce, include_self);
  else reduce_rows<DT, 1><<<(int)g, 128, 0, s>>>(self, src, keys, perm, part, n, rows, row_size, reduce, include_self);
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
  // group partials (fp32), one slot of row_size per window of G sorted positions
  const int64_t nwin = n_index > G ? (n_index + G - 1) / G : 0;
  const size_t pbytes = ((size_t)nwin * (size_t)row_size * 4 + 255) & ~(size_t)255;
  char* ws = nullptr;
  SK_CUDA_TRY(cudaMallocAsync((void**)&ws, 4 * kbytes + pbytes + temp_bytes, s));
  uint32_t* keys_in = (uint32_t*)ws;
  uint32_t* keys_out = (uint32_t*)(ws + kbytes);
  int32_t* vals_in = (int32_t*)(ws + 2 * kbytes);
  int32_t* vals_out = (int32_t*)(ws + 3 * kbytes);
  float* part = nwin ? (float*)(ws + 4 * kbytes) : nullptr;
  void* temp = ws + 4 * kbytes + pbytes;
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
  const bool inc = include_self != 0;
  if (dtype == SK_F32) launch_reduce<0>(vec, sms, s, self, source, keys_out, vals_out, part, n_index, self_rows, row_size, reduce, inc);
  else if (dtype == SK_F16) launch_reduce<1>(vec, sms, s, self, source, keys_out, vals_out, part, n_index, self_rows, row_size, reduce, inc);
  else launch_reduce<2>(vec, sms, s, self, source, keys_out, vals_out, part, n_index, self_rows, row_size, reduce, inc);
  e = cudaGetLastError();
  cudaFreeAsync(ws, s);
  if (e != cudaSuccess) return sk::set_error(SK_ERR_CUDA, "index_reduce launch: %s", cudaGetErrorString(e));
  return SK_OK;
}
