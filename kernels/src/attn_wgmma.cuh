// attn_wgmma.cuh -- Hopper (sm_90a) prefill kernel: S = Q K^T and O += P V on
// wgmma (warpgroup MMA, operands read by the tensor cores straight from shared
// memory; P from registers). One CTA = 2 warpgroups x 64 query rows = 128 rows,
// key tiles of BN keys double-buffered by cp.async (same loader as the mma.sync
// kernel, 128-byte-swizzled layout instead). Softmax, masks, epilogue as in
// attn_kernel.cuh with one 16-row m-tile per warp. Compiled to a trap on
// targets without sm_90a features; the host launches it only on CC 9.0.
#pragma once
#include "attn_kernel.cuh"
#include "attn_wgmma_ops.cuh"

namespace sk_attn {

// [D/64 panels][R rows][64 elements], 16-byte chunk index ^ (row % 8): the
// canonical 128-byte-swizzle layout of wgmma (tile base 1024-byte aligned).
template <int D, int R>
__device__ __forceinline__ int sw128(int r, int c) {
  return (c >> 6) * (R * 64) + r * 64 + ((((c >> 3) & 7) ^ (r & 7)) << 3) + (c & 7);
}

template <int D_, int BN_, int MINB_ = 1>
struct WCfg {
  static constexpr int D = D_, BN = BN_, MINB = MINB_;
  static constexpr int NW = 8, NT = 256, BM = 128, MT = 1;
  static constexpr bool PACK = false;
  static constexpr int SMEM = (BM * D + 4 * BN * D) * 2 + 1024;  // + alignment slack
  static __device__ __forceinline__ int koff(int r, int c) { return sw128<D, BN>(r, c); }
};

// K-major operand, 128B swizzle: SBO = 1024 B (8 rows x 128 B), LBO unused (1).
__device__ __forceinline__ uint64_t desc_k(uint32_t saddr) {
  return (uint64_t)((saddr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}
// MN-major operand, 128B swizzle: LBO = bytes between 64-element panels along N,
// SBO = 1024 B between groups of 8 rows along K.
__device__ __forceinline__ uint64_t desc_mn(uint32_t saddr, uint32_t lbo) {
  return (uint64_t)((saddr & 0x3FFFF) >> 4) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
         ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_wait0() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
__device__ __forceinline__ void fence_reg(float& x) { asm volatile("" : "+f"(x)::"memory"); }
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

template <int N, bool BF16>
__device__ __forceinline__ void wg_ss(float* d, uint64_t da, uint64_t db, int scale_d) {
  if constexpr (N == 64) { if constexpr (BF16) wgmma_ss_n64_bf16(d, da, db, scale_d); else wgmma_ss_n64_f16(d, da, db, scale_d); }
  else { static_assert(N == 128, "N"); if constexpr (BF16) wgmma_ss_n128_bf16(d, da, db, scale_d); else wgmma_ss_n128_f16(d, da, db, scale_d); }
}
template <int N, bool BF16>
__device__ __forceinline__ void wg_rs(float* d, const uint32_t* a, uint64_t db) {
  if constexpr (N == 64) { if constexpr (BF16) wgmma_rs_n64_bf16(d, a, db, 1); else wgmma_rs_n64_f16(d, a, db, 1); }
  else { static_assert(N == 128, "N"); if constexpr (BF16) wgmma_rs_n128_bf16(d, a, db, 1); else wgmma_rs_n128_f16(d, a, db, 1); }
}
// O[:, 0:D) += P V for one 16-key step; D = 256 as two n128 halves (columns 0-127 are
// accumulator chunks 0-15, columns 128-255 chunks 16-31; V panels 2-3 start 2 panels in).
template <int D, int BN, bool BF16>
__device__ __forceinline__ void wg_pv(float* o, const uint32_t* pa, uint32_t v_addr) {
  constexpr uint32_t lbo = BN * 64 * 2;
  if constexpr (D <= 128) {
    wg_rs<D, BF16>(o, pa, desc_mn(v_addr, lbo));
  } else {
    static_assert(D == 256, "D");
    wg_rs<128, BF16>(o, pa, desc_mn(v_addr, lbo));
    wg_rs<128, BF16>(o + 64, pa, desc_mn(v_addr + 2 * lbo, lbo));
  }
}

template <class C, bool BF16>
__global__ void __launch_bounds__(C::NT, C::MINB) attn_fwd_wg(const Args a) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int D = C::D, BN = C::BN, BM = C::BM, NT = C::NT;
  extern __shared__ __align__(128) uint16_t smem_raw[];
  const uint32_t raw_s = (uint32_t)__cvta_generic_to_shared(smem_raw);
  uint16_t* sQ = smem_raw + (((1024u - (raw_s & 1023u)) & 1023u) >> 1);
  uint16_t* sK = sQ + BM * D;       // [2][D/64][BN][64]
  uint16_t* sV = sK + 2 * BN * D;   // [2][D/64][BN][64]
  const uint32_t aQ = (uint32_t)__cvta_generic_to_shared(sQ);
  const uint32_t aK = (uint32_t)__cvta_generic_to_shared(sK);
  const uint32_t aV = (uint32_t)__cvta_generic_to_shared(sV);

  const int m_block = blockIdx.x;
  const int h = blockIdx.y;
  const int b = blockIdx.z / a.num_splits;
  const int split = blockIdx.z % a.num_splits;
  const int q0 = __ldg(a.cu_q + b);
  const int Lq = __ldg(a.cu_q + b + 1) - q0;
  const int m_start = m_block * BM;
  if (m_start >= Lq) return;
  const int Lk = a.seqused_k ? __ldg(a.seqused_k + b) : (__ldg(a.cu_k + b + 1) - __ldg(a.cu_k + b));
  const int kvh = h / a.G;
  const int cuk_b = a.page_table ? 0 : __ldg(a.cu_k + b);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4;
  const int off = Lk - Lq;

  const int2 tiles = key_tiles<BM, BN>(a, m_start, Lq, Lk, split);
  const int t_lo = tiles.x, t_hi = tiles.y;

  const uint16_t* qbase = a.q + ((int64_t)q0 * a.H + h) * D;
  {
    constexpr int CPR = D / 8;
#pragma unroll
    for (int c = tid; c < BM * CPR; c += NT) {
      const int r = c / CPR, ch = c % CPR;
      const bool valid = m_start + r < Lq;
      const uint16_t* g = valid ? qbase + (int64_t)(m_start + r) * a.H * D + ch * 8 : a.q;
      cp_async16(sQ + sw128<D, BM>(r, ch * 8), g, valid);
    }
  }
  if (t_lo < t_hi) {
    load_rows<C>(sK, a.k, a, b, t_lo * BN, min(BN, Lk - t_lo * BN), kvh, tid, cuk_b);
    load_rows<C>(sV, a.v, a, b, t_lo * BN, min(BN, Lk - t_lo * BN), kvh, tid, cuk_b);
  }
  cp_commit();

  float o[D / 8][4];
  float m_run[2], l_run[2];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  m_run[0] = m_run[1] = -CUDART_INF_F;
  l_run[0] = l_run[1] = 0.f;
  const int wrow0 = warp * 16;  // = wg * 64 + (warp % 4) * 16

  for (int t = t_lo; t < t_hi; ++t) {
    const int buf = (t - t_lo) & 1;
    if (t + 1 < t_hi) {
      const int nb = buf ^ 1;
      load_rows<C>(sK + nb * BN * D, a.k, a, b, (t + 1) * BN, min(BN, Lk - (t + 1) * BN), kvh, tid, cuk_b);
      load_rows<C>(sV + nb * BN * D, a.v, a, b, (t + 1) * BN, min(BN, Lk - (t + 1) * BN), kvh, tid, cuk_b);
    }
    cp_commit();
    cp_wait<1>();
    fence_proxy_async();  // cp.async (generic proxy) writes -> wgmma (async proxy) reads
    __syncthreads();

    // ---- S = Q K^T (wgmma, both operands from smem) ----------------------------
    float s[BN / 8][4];
    wg_fence();
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint64_t dq = desc_k(aQ + ((kk >> 2) * BM * 64 + wg * 64 * 64) * 2 + (kk & 3) * 32);
      const uint64_t dk = desc_k(aK + (buf * BN * D + (kk >> 2) * BN * 64) * 2 + (kk & 3) * 32);
      wg_ss<BN, BF16>(&s[0][0], dq, dk, kk > 0 ? 1 : 0);
    }
    wg_commit();
    wg_wait0();
#pragma unroll
    for (int i = 0; i < BN / 8; ++i) { fence_reg(s[i][0]); fence_reg(s[i][1]); fence_reg(s[i][2]); fence_reg(s[i][3]); }

    // ---- mask (only tiles that straddle a boundary) ------------------------------
    const int n0 = t * BN;
    const bool need_mask = (n0 + BN > Lk) || (a.wr >= 0 && n0 + BN - 1 > m_start + off + a.wr) ||
                           (a.wl >= 0 && n0 < m_start + BM - 1 + off - a.wl);
    if (need_mask) {
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = m_start + wrow0 + (lane >> 2) + (e >> 1) * 8;
          const int j = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
          bool ok = j < Lk;
          if (a.wr >= 0) ok = ok && (j <= i + off + a.wr);
          if (a.wl >= 0) ok = ok && (j >= i + off - a.wl);
          if (!ok) s[nt][e] = -CUDART_INF_F;
        }
    }
    // ---- online softmax ------------------------------------------------------------
    uint32_t pa[BN / 16][4];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      float mx = -CUDART_INF_F;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * hr], s[nt][2 * hr + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m_run[hr], mx * a.scale_log2);
      const float m_use = m_new == -CUDART_INF_F ? 0.f : m_new;
      const float corr = fast_exp2(m_run[hr] - m_use);
      m_run[hr] = m_new;
      float ls = 0.f;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt) {
        const float p0 = fast_exp2(fmaf(s[nt][2 * hr], a.scale_log2, -m_use));
        const float p1 = fast_exp2(fmaf(s[nt][2 * hr + 1], a.scale_log2, -m_use));
        s[nt][2 * hr] = p0;
        s[nt][2 * hr + 1] = p1;
        ls += p0 + p1;
      }
      l_run[hr] = l_run[hr] * corr + ls;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        o[dt][2 * hr] *= corr;
        o[dt][2 * hr + 1] *= corr;
      }
    }
#pragma unroll
    for (int k2 = 0; k2 < BN / 16; ++k2) {
      pa[k2][0] = pack2<BF16>(s[2 * k2][0], s[2 * k2][1]);
      pa[k2][1] = pack2<BF16>(s[2 * k2][2], s[2 * k2][3]);
      pa[k2][2] = pack2<BF16>(s[2 * k2 + 1][0], s[2 * k2 + 1][1]);
      pa[k2][3] = pack2<BF16>(s[2 * k2 + 1][2], s[2 * k2 + 1][3]);
    }
    // ---- O += P V (wgmma, P from registers, V N-major from smem) -------------------
#pragma unroll
    for (int i = 0; i < D / 8; ++i) { fence_reg(o[i][0]); fence_reg(o[i][1]); fence_reg(o[i][2]); fence_reg(o[i][3]); }
    wg_fence();
#pragma unroll
    for (int k2 = 0; k2 < BN / 16; ++k2) {
      wg_pv<D, BN, BF16>(&o[0][0], pa[k2], aV + (buf * BN * D + k2 * 16 * 64) * 2);
    }
    wg_commit();
    wg_wait0();
#pragma unroll
    for (int i = 0; i < D / 8; ++i) { fence_reg(o[i][0]); fence_reg(o[i][1]); fence_reg(o[i][2]); fence_reg(o[i][3]); }
    __syncthreads();  // buffer `buf` is refilled in the next iteration
  }
  cp_wait<0>();
  __syncthreads();

#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float l = l_run[hr];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    l_run[hr] = l;
  }
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    const int i = m_start + wrow0 + (lane >> 2) + hr * 8;
    if (i >= Lq) continue;
    const float l = l_run[hr];
    const float inv = l > 0.f ? 1.f / l : 0.f;
    const int64_t row = (int64_t)(q0 + i);
    const float lse = l > 0.f ? (m_run[hr] + __log2f(l)) * 0.69314718055994530942f
                              : (a.num_splits > 1 ? -CUDART_INF_F : CUDART_INF_F);
    if (a.num_splits > 1) {
      float* op = a.o_part + (((int64_t)split * a.total_q + row) * a.H + h) * D;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
        *reinterpret_cast<float2*>(op + dt * 8 + (lane & 3) * 2) = make_float2(o[dt][2 * hr] * inv, o[dt][2 * hr + 1] * inv);
      if ((lane & 3) == 0) lse_part<D>(a)[((int64_t)split * a.H + h) * a.total_q + row] = lse;
    } else {
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
        *reinterpret_cast<uint32_t*>(sQ + swz<D>(wrow0 + (lane >> 2) + hr * 8, dt * 8 + (lane & 3) * 2)) =
            pack2<BF16>(o[dt][2 * hr] * inv, o[dt][2 * hr + 1] * inv);
      if ((lane & 3) == 0 && a.lse) a.lse[(int64_t)h * a.total_q + row] = lse;
    }
  }
  if (a.num_splits == 1) {
    __syncthreads();
    constexpr int CPR = D / 8;
    const int rows = min(BM, Lq - m_start);
    uint16_t* obase = a.out + ((int64_t)(q0 + m_start) * a.H + h) * D;
    for (int c = tid; c < rows * CPR; c += NT) {
      const int r = c / CPR, ch = c % CPR;
      *reinterpret_cast<uint4*>(obase + (int64_t)r * a.H * D + ch * 8) = *reinterpret_cast<const uint4*>(sQ + swz<D>(r, ch * 8));
    }
  }
#else
  __trap();
#endif
}

// CC 9.0 device with the sm_90a image (checked once per process)
inline bool wgmma_supported() {
  static int ok = -1;
  if (ok < 0) {
    int dev = 0, major = 0, minor = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
    ok = (major == 9 && minor == 0) ? 1 : 0;
  }
  return ok == 1;
}

}  // namespace sk_attn
