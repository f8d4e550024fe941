// attn_kernel.cuh -- FlashAttention-2-style varlen forward on mma.sync (sm_80+).
//  * one CTA = BM query rows of one (sequence, head) [ + one KV split ]
//  * Q tile and double-buffered K/V tiles in XOR-swizzled shared memory, filled
//    with cp.async (zero-fill past the valid keys: garbage/NaN beyond seqused_k
//    is never read), paged KV resolved per 16-byte chunk via the page table
//  * S = Q K^T and O += P V with m16n8k16 bf16/f16 MMAs, fragments by ldmatrix
//    (.trans for V); online softmax in registers (exp2 domain)
//  * WSPLIT variant (decode): the 4 warps share the same 16 query rows and split
//    each key tile between them; partial (m, l, O) combined through smem at the end
//  * SPLIT (runtime): a CTA handles a range of key tiles and writes fp32 partial
//    O and lse; a combine kernel merges the splits.
//  * PACK (decode, GQA): one CTA per KV head; its 16 query rows are the pairs
//    (query position, head of the group), so K/V are read once per KV head.
//  * STAGES: K/V tiles in flight (cp.async groups), 2 = double buffering.
//  * Paged decode: the CTA's page-table entries are staged in shared memory, so
//    issuing a tile's copies never waits on a global page-table read.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>
#include <type_traits>
#include "cuda_common.cuh"

namespace sk_attn {

struct Args {
  const uint16_t* q;
  const uint16_t* k;        // flat k or k_cache
  const uint16_t* v;
  uint16_t* out;
  float* lse;
  const int* cu_q;
  const int* cu_k;
  const int* seqused_k;
  const int* page_table;    // null = not paged
  int page_size, max_pages;
  int H, Hk, G, total_q;
  float scale_log2;
  int wl, wr;               // window (causal folded into wr = 0), -1 unbounded
  int num_splits;           // 1 = no split
  int split_tiles;          // > 0: split s covers key tiles [s, s + 1) * split_tiles; 0: even shares
  float* o_part;            // [splits, total_q, H, D], then the lse partials [splits, H, total_q]
};

// lse partials of split-KV, right after the O partials in the workspace (one pointer fewer in
// Args: a larger argument struct cost the d128 wgmma kernel a register spill)
template <int D>
__device__ __forceinline__ float* lse_part(const Args& a) {
  return a.o_part + (int64_t)a.num_splits * a.total_q * a.H * D;
}

// Key tiles [x, y) of BN keys that an m-block of BM query rows starting at m_start attends to:
// the sliding window (aligned bottom-right, Lk - Lq) clips the range, then split-KV takes this
// split's share. Both forward kernels use it, so they always cover the same keys.
template <int BN>
__device__ __forceinline__ int2 key_tiles_n(const Args& a, int m_start, int BM, int Lq, int Lk, int split) {
  const int off = Lk - Lq;
  int n_lo = 0, n_hi = Lk;
  if (a.wl >= 0) n_lo = max(0, m_start + off - a.wl);
  if (a.wr >= 0) n_hi = min(Lk, min(Lq, m_start + BM) - 1 + off + a.wr + 1);
  int t_lo = n_lo / BN, t_hi = n_hi > n_lo ? (n_hi + BN - 1) / BN : t_lo;
  if (a.num_splits > 1) {
    const int per = a.split_tiles > 0 ? a.split_tiles : (t_hi - t_lo + a.num_splits - 1) / a.num_splits;
    const int s_lo = t_lo + split * per;
    t_hi = min(t_hi, s_lo + per);
    t_lo = min(s_lo, t_hi);
  }
  return make_int2(t_lo, t_hi);
}
template <int BM, int BN>
__device__ __forceinline__ int2 key_tiles(const Args& a, int m_start, int Lq, int Lk, int split) {
  return key_tiles_n<BN>(a, m_start, BM, Lq, Lk, split);
}

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  const int sz = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(sz));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldsm_x4(uint32_t* r, const void* p) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(p);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t* r, const void* p) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(p);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}
// VOL: asm volatile (keeps program order among volatile asm) or plain asm
// (lets the compiler schedule the MMAs around the ldmatrix loads).
template <bool BF16, bool VOL = true>
__device__ __forceinline__ void mma16816(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
#define SK_MMA_ARGS : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1)
  if constexpr (BF16 && VOL) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" SK_MMA_ARGS);
  } else if constexpr (BF16) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" SK_MMA_ARGS);
  } else if constexpr (VOL) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" SK_MMA_ARGS);
  } else {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" SK_MMA_ARGS);
  }
#undef SK_MMA_ARGS
}

template <bool BF16>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  if constexpr (BF16) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  } else {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
}

// swizzled offset (in elements) of (row, col) in a [rows][D] bf16 tile
template <int D>
__device__ __forceinline__ int swz(int row, int col) {
  return row * D + ((((col >> 3) ^ (row & 7))) << 3) + (col & 7);
}

template <int D_, int MT_, int BN_, int NW_, bool WSPLIT_, int MINB_ = 1, bool VOLMMA_ = true, bool SKIPRESCALE_ = false,
          bool PACK_ = false, int STAGES_ = 2>
struct Cfg {
  static constexpr int D = D_, MT = MT_, BN = BN_, NW = NW_, MINB = MINB_, STAGES = STAGES_;
  static constexpr bool PACK = PACK_;  // GQA packing: rows = (query position, head of the KV group)
  static constexpr bool VOLMMA = VOLMMA_;
  static constexpr bool SKIPRESCALE = SKIPRESCALE_;  // skip O *= corr when no row max moved (warp-uniform)
  static constexpr bool WSPLIT = WSPLIT_;
  static constexpr int NT = NW * 32;
  static constexpr int BM = WSPLIT ? 16 * MT : 16 * MT * NW;
  static constexpr int NKW = WSPLIT ? BN / NW : BN;  // keys per warp per tile
  static constexpr int SMEM = (BM * D + 2 * STAGES * BN * D) * 2;
  static_assert(NKW % 16 == 0, "keys per warp must be a multiple of 16");
  static_assert(!PACK || (WSPLIT && MT == 1), "GQA packing is a decode (WSPLIT) mode");
  static_assert(STAGES >= 2, "at least double buffering");
  // shared-memory offset (elements) of (key row, col) in a K/V tile
  static __device__ __forceinline__ int koff(int r, int c) { return swz<D>(r, c); }
};

// Load K or V tile rows [row0, row0 + BN) of sequence b (keys), head kvh.
// Each thread owns a fixed 16-byte column chunk `ch` and rows r0 + i*RSTEP, so
// addresses are a per-tile base plus compile-time strides. Paged KV with
// page_size % BN == 0 (tile inside one page) resolves the page once per tile;
// other page sizes fall back to a per-row page-table lookup.
template <class C>
__device__ __forceinline__ void load_rows(uint16_t* s, const uint16_t* base_flat, const Args& a, int b, int row0,
                                          int nrows_valid, int kvh, int tid, int cuk_b) {
  constexpr int CPR = C::D / 8;          // chunks per row
  constexpr int RSTEP = C::NT / CPR;     // rows between a thread's chunks
  constexpr int ITERS = C::BN / RSTEP;
  static_assert(C::NT % CPR == 0 && C::BN % RSTEP == 0, "tile/thread mismatch");
  const int r0 = tid / CPR, ch = tid % CPR;
  const int64_t rstride = (int64_t)a.Hk * C::D;  // elements between consecutive key rows
  const bool full = nrows_valid >= C::BN;
  if (!a.page_table || (a.page_size % C::BN) == 0) {
    int64_t row_base;
    if (a.page_table) {
      const int page = __ldg(a.page_table + (int64_t)b * a.max_pages + row0 / a.page_size);
      row_base = (int64_t)page * a.page_size + row0 % a.page_size;
    } else {
      row_base = (int64_t)cuk_b + row0;
    }
    const uint16_t* g0 = base_flat + (row_base + r0) * rstride + (int64_t)kvh * C::D + ch * 8;
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int r = r0 + i * RSTEP;
      const bool valid = full || r < nrows_valid;
      cp_async16(s + C::koff(r, ch * 8), valid ? (const void*)(g0 + (int64_t)i * RSTEP * rstride) : (const void*)base_flat, valid);
    }
  } else {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int r = r0 + i * RSTEP;
      const bool valid = full || r < nrows_valid;
      const uint16_t* g = base_flat;
      if (valid) {
        const int j = row0 + r;
        const int page = __ldg(a.page_table + (int64_t)b * a.max_pages + j / a.page_size);
        g = base_flat + ((int64_t)page * a.page_size + j % a.page_size) * rstride + (int64_t)kvh * C::D + ch * 8;
      }
      cp_async16(s + C::koff(r, ch * 8), g, valid);
    }
  }
}

// K and V tile rows together (same rows, same page lookups): as load_rows, but each row's
// global offset is computed once for both tensors. page_of(j) = page of key row j (paged KV).
template <class C, class PageOf>
__device__ __forceinline__ void load_kv(uint16_t* sk, uint16_t* sv, const Args& a, int row0, int nrows_valid, int kvh,
                                        int tid, int cuk_b, PageOf page_of) {
  constexpr int CPR = C::D / 8;
  constexpr int RSTEP = C::NT / CPR;
  constexpr int ITERS = C::BN / RSTEP;
  static_assert(C::NT % CPR == 0 && C::BN % RSTEP == 0, "tile/thread mismatch");
  const int r0 = tid / CPR, ch = tid % CPR;
  const int64_t rstride = (int64_t)a.Hk * C::D;
  const bool full = nrows_valid >= C::BN;
  const int64_t col = (int64_t)kvh * C::D + ch * 8;
  if (!a.page_table || (a.page_size % C::BN) == 0) {
    const int64_t row_base = a.page_table ? (int64_t)page_of(row0) * a.page_size + row0 % a.page_size : (int64_t)cuk_b + row0;
    const int64_t o0 = (row_base + r0) * rstride + col;
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int r = r0 + i * RSTEP;
      const bool valid = full || r < nrows_valid;
      const int64_t o = o0 + (int64_t)i * RSTEP * rstride;
      cp_async16(sk + C::koff(r, ch * 8), valid ? (const void*)(a.k + o) : (const void*)a.k, valid);
      cp_async16(sv + C::koff(r, ch * 8), valid ? (const void*)(a.v + o) : (const void*)a.v, valid);
    }
  } else {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int r = r0 + i * RSTEP;
      const bool valid = full || r < nrows_valid;
      int64_t o = 0;
      if (valid) {
        const int j = row0 + r;
        o = ((int64_t)page_of(j) * a.page_size + j % a.page_size) * rstride + col;
      }
      cp_async16(sk + C::koff(r, ch * 8), a.k + o, valid);
      cp_async16(sv + C::koff(r, ch * 8), a.v + o, valid);
    }
  }
}

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

template <class C, bool BF16>
__global__ void __launch_bounds__(C::NT, C::MINB) attn_fwd(const Args a) {
  constexpr int D = C::D, MT = C::MT, BN = C::BN, BM = C::BM, NKW = C::NKW, NT = C::NT, S = C::STAGES;
  extern __shared__ __align__(128) uint16_t smem[];
  uint16_t* sQ = smem;
  uint16_t* sK = smem + BM * D;       // [S][BN][D]
  uint16_t* sV = sK + S * BN * D;     // [S][BN][D]

  const int m_block = blockIdx.x;  // (reversed order measured no better, v3)
  // PACK: blockIdx.y is the KV head; row r of the tile is query position m_start + r / G
  // of head kvh * G + r % G, so a CTA covers QP = 16 / G positions.
  const int h = C::PACK ? 0 : blockIdx.y;
  const int b = blockIdx.z / a.num_splits;
  const int split = blockIdx.z % a.num_splits;
  const int q0 = __ldg(a.cu_q + b);
  const int Lq = __ldg(a.cu_q + b + 1) - q0;
  const int QP = C::PACK ? BM / a.G : BM;
  const int m_start = m_block * QP;
  if (m_start >= Lq) return;
  const int Lk = a.seqused_k ? __ldg(a.seqused_k + b) : (__ldg(a.cu_k + b + 1) - __ldg(a.cu_k + b));
  const int kvh = C::PACK ? (int)blockIdx.y : h / a.G;
  const int cuk_b = a.page_table ? 0 : __ldg(a.cu_k + b);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int off = Lk - Lq;

  const int2 tiles = key_tiles_n<BN>(a, m_start, QP, Lq, Lk, split);
  const int t_lo = tiles.x, t_hi = tiles.y;

  // load Q (zero rows past Lq)
  {
    constexpr int CPR = D / 8;
    for (int c = tid; c < BM * CPR; c += NT) {
      const int r = c / CPR, ch = c % CPR;
      const int pos = m_start + (C::PACK ? r / a.G : r);
      const int hh = C::PACK ? kvh * a.G + r % a.G : h;
      const bool valid = pos < Lq;
      const uint16_t* g = valid ? a.q + ((int64_t)(q0 + pos) * a.H + hh) * D + ch * 8 : a.q;
      cp_async16(sQ + swz<D>(r, ch * 8), g, valid);
    }
  }
  // Paged decode stages the CTA's page-table entries in shared memory, PGW at a time: a
  // page-table read from global memory would queue behind the K/V copies in flight and
  // stall the next tile's copies. Prefill reads each tile's entries just before its copies.
  constexpr int PGW = C::WSPLIT ? 256 : 1;
  __shared__ int sPg[PGW];
  const int* pt = a.page_table ? a.page_table + (int64_t)b * a.max_pages : nullptr;
  int pg_lo = 0;  // page index (within the sequence) held in sPg[0]
  // every thread, uniformly: before copying tile t, stage the window holding its pages if needed
  auto stage_pages = [&](int t) {
    if (!C::WSPLIT || !a.page_table) return;
    const int last = (min((t + 1) * BN, Lk) - 1) / a.page_size;
    if (t > t_lo && last < pg_lo + PGW) return;
    pg_lo = t * BN / a.page_size;
    for (int i = tid; i < PGW; i += NT) sPg[i] = pg_lo + i < a.max_pages ? __ldg(pt + pg_lo + i) : 0;
    __syncthreads();  // earlier reads of sPg ended before the barrier that closed their iteration
  };
  auto page_of = [&](int j) { return C::WSPLIT ? sPg[j / a.page_size - pg_lo] : __ldg(pt + j / a.page_size); };
  // prologue: tiles t_lo .. t_lo + S - 2, one cp.async group each (Q joins the first)
#pragma unroll
  for (int st = 0; st < S - 1; ++st) {
    const int t = t_lo + st;
    if (t < t_hi) {
      stage_pages(t);
      load_kv<C>(sK + st * BN * D, sV + st * BN * D, a, t * BN, min(BN, Lk - t * BN), kvh, tid, cuk_b, page_of);
    }
    cp_commit();
  }

  float o[MT][D / 8][4];
  float m_run[MT][2], l_run[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int i = 0; i < D / 8; ++i) o[mt][i][0] = o[mt][i][1] = o[mt][i][2] = o[mt][i][3] = 0.f;
    m_run[mt][0] = m_run[mt][1] = -CUDART_INF_F;
    l_run[mt][0] = l_run[mt][1] = 0.f;
  }
  const int wrow0 = C::WSPLIT ? 0 : warp * 16 * MT;   // warp's first row in the tile
  const int wkey0 = C::WSPLIT ? warp * NKW : 0;       // warp's first key in the tile

  for (int t = t_lo; t < t_hi; ++t) {
    const int it = t - t_lo;
    const int buf = it % S;
    {
      const int tn = t + S - 1;  // refills the buffer of tile t - 1 (freed by the barrier ending that iteration)
      if (tn < t_hi) {
        const int nb = (it + S - 1) % S;
        stage_pages(tn);
        load_kv<C>(sK + nb * BN * D, sV + nb * BN * D, a, tn * BN, min(BN, Lk - tn * BN), kvh, tid, cuk_b, page_of);
      }
    }
    cp_commit();
    cp_wait<S - 1>();
    __syncthreads();
    const uint16_t* cK = sK + buf * BN * D;
    const uint16_t* cV = sV + buf * BN * D;

    // ---- S = Q K^T -------------------------------------------------------
    float s[MT][NKW / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int i = 0; i < NKW / 8; ++i) s[mt][i][0] = s[mt][i][1] = s[mt][i][2] = s[mt][i][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t qa[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        ldsm_x4(qa[mt], sQ + swz<D>(wrow0 + mt * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, kk * 16 + (lane >> 4) * 8));
#pragma unroll
      for (int n2 = 0; n2 < NKW / 16; ++n2) {
        uint32_t kb[4];
        ldsm_x4(kb, cK + swz<D>(wkey0 + n2 * 16 + (lane & 7) + (lane >> 4) * 8, kk * 16 + ((lane >> 3) & 1) * 8));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<BF16, C::VOLMMA>(s[mt][2 * n2], qa[mt], kb[0], kb[1]);
          mma16816<BF16, C::VOLMMA>(s[mt][2 * n2 + 1], qa[mt], kb[2], kb[3]);
        }
      }
    }
    // ---- mask (only tiles that straddle a boundary) ------------------------
    const int n0 = t * BN;
    const bool need_mask = (n0 + BN > Lk) || (a.wr >= 0 && n0 + BN - 1 > m_start + off + a.wr) ||
                           (a.wl >= 0 && n0 < m_start + QP - 1 + off - a.wl);
    if (need_mask) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < NKW / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int rr = wrow0 + mt * 16 + (lane >> 2) + (e >> 1) * 8;
            const int i = m_start + (C::PACK ? rr / a.G : rr);
            const int j = n0 + wkey0 + nt * 8 + (lane & 3) * 2 + (e & 1);
            bool ok = j < Lk;
            if (a.wr >= 0) ok = ok && (j <= i + off + a.wr);
            if (a.wl >= 0) ok = ok && (j >= i + off - a.wl);
            if (!ok) s[mt][nt][e] = -CUDART_INF_F;
          }
    }
    // ---- online softmax ------------------------------------------------------
    uint32_t pa[MT][NKW / 16][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        float mx = -CUDART_INF_F;
#pragma unroll
        for (int nt = 0; nt < NKW / 8; ++nt) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hr], s[mt][nt][2 * hr + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = fmaxf(m_run[mt][hr], mx * a.scale_log2);
        const float m_use = m_new == -CUDART_INF_F ? 0.f : m_new;
        const float corr = fast_exp2(m_run[mt][hr] - m_use);
        m_run[mt][hr] = m_new;
        float ls = 0.f;
#pragma unroll
        for (int nt = 0; nt < NKW / 8; ++nt) {
          const float p0 = fast_exp2(fmaf(s[mt][nt][2 * hr], a.scale_log2, -m_use));
          const float p1 = fast_exp2(fmaf(s[mt][nt][2 * hr + 1], a.scale_log2, -m_use));
          s[mt][nt][2 * hr] = p0;
          s[mt][nt][2 * hr + 1] = p1;
          ls += p0 + p1;
        }
        l_run[mt][hr] = l_run[mt][hr] * corr + ls;
        if (!C::SKIPRESCALE || __any_sync(0xffffffffu, corr != 1.f)) {
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt) {
            o[mt][dt][2 * hr] *= corr;
            o[mt][dt][2 * hr + 1] *= corr;
          }
        }
      }
#pragma unroll
      for (int k2 = 0; k2 < NKW / 16; ++k2) {
        pa[mt][k2][0] = pack2<BF16>(s[mt][2 * k2][0], s[mt][2 * k2][1]);
        pa[mt][k2][1] = pack2<BF16>(s[mt][2 * k2][2], s[mt][2 * k2][3]);
        pa[mt][k2][2] = pack2<BF16>(s[mt][2 * k2 + 1][0], s[mt][2 * k2 + 1][1]);
        pa[mt][k2][3] = pack2<BF16>(s[mt][2 * k2 + 1][2], s[mt][2 * k2 + 1][3]);
      }
    }
    // ---- O += P V ---------------------------------------------------------
#pragma unroll
    for (int k2 = 0; k2 < NKW / 16; ++k2) {
#pragma unroll
      for (int d2 = 0; d2 < D / 16; ++d2) {
        uint32_t vb[4];
        ldsm_x4_t(vb, cV + swz<D>(wkey0 + k2 * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, d2 * 16 + (lane >> 4) * 8));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<BF16, C::VOLMMA>(o[mt][2 * d2], pa[mt][k2], vb[0], vb[1]);
          mma16816<BF16, C::VOLMMA>(o[mt][2 * d2 + 1], pa[mt][k2], vb[2], vb[3]);
        }
      }
    }
    __syncthreads();  // buffer `buf` is refilled in the next iteration
  }
  cp_wait<0>();
  __syncthreads();  // every thread's cp.async into sQ/sK/sV has landed before smem is reused below

  // full row sums over the quad
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      float l = l_run[mt][hr];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      l_run[mt][hr] = l;
    }

  if constexpr (C::WSPLIT) {
    // combine the NW warps' partial results (same rows, disjoint keys) in smem
    static_assert(MT == 1, "WSPLIT uses one m-tile");
    __syncthreads();
    float* sO = reinterpret_cast<float*>(sK);            // [NW][16][D] fp32
    float* sM = sO + C::NW * 16 * D;                      // [NW][16]
    float* sL = sM + C::NW * 16;                          // [NW][16]
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const int r = (lane >> 2) + hr * 8;
      if ((lane & 3) == 0) { sM[warp * 16 + r] = m_run[0][hr]; sL[warp * 16 + r] = l_run[0][hr]; }
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        const int c = dt * 8 + (lane & 3) * 2;
        sO[(warp * 16 + r) * D + c] = o[0][dt][2 * hr];
        sO[(warp * 16 + r) * D + c + 1] = o[0][dt][2 * hr + 1];
      }
    }
    __syncthreads();
    // every thread: rows r, columns strided
    for (int idx = tid; idx < 16 * D; idx += NT) {
      const int r = idx / D, c = idx % D;
      const int i = m_start + (C::PACK ? r / a.G : r);
      const int hh = C::PACK ? kvh * a.G + r % a.G : blockIdx.y;
      if (i >= Lq) continue;
      float mmax = -CUDART_INF_F;
#pragma unroll
      for (int w = 0; w < C::NW; ++w) mmax = fmaxf(mmax, sM[w * 16 + r]);
      const float mu = mmax == -CUDART_INF_F ? 0.f : mmax;
      float l = 0.f, acc = 0.f;
#pragma unroll
      for (int w = 0; w < C::NW; ++w) {
        const float f = exp2f(sM[w * 16 + r] - mu);
        l += sL[w * 16 + r] * f;
        acc += sO[(w * 16 + r) * D + c] * f;
      }
      const float lse = l > 0.f ? (mu + __log2f(l)) * 0.69314718055994530942f : (a.num_splits > 1 ? -CUDART_INF_F : CUDART_INF_F);
      const float val = l > 0.f ? acc / l : 0.f;
      const int64_t row = (int64_t)(q0 + i);
      if (a.num_splits > 1) {
        a.o_part[(((int64_t)split * a.total_q + row) * a.H + hh) * D + c] = val;
        if (c == 0) lse_part<D>(a)[((int64_t)split * a.H + hh) * a.total_q + row] = lse;
      } else {
        if constexpr (BF16) {
          __nv_bfloat16 x = __float2bfloat16_rn(val);
          a.out[(row * a.H + hh) * D + c] = *reinterpret_cast<uint16_t*>(&x);
        } else {
          __half x = __float2half_rn(val);
          a.out[(row * a.H + hh) * D + c] = *reinterpret_cast<uint16_t*>(&x);
        }
        if (c == 0 && a.lse) a.lse[(int64_t)hh * a.total_q + row] = lse;
      }
    }
    return;
  } else {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        const int i = m_start + wrow0 + mt * 16 + (lane >> 2) + hr * 8;
        if (i >= Lq) continue;
        const float l = l_run[mt][hr];
        const float inv = l > 0.f ? 1.f / l : 0.f;
        const int64_t row = (int64_t)(q0 + i);
        const float lse = l > 0.f ? (m_run[mt][hr] + __log2f(l)) * 0.69314718055994530942f
                                  : (a.num_splits > 1 ? -CUDART_INF_F : CUDART_INF_F);
        if (a.num_splits > 1) {
          float* op = a.o_part + (((int64_t)split * a.total_q + row) * a.H + h) * D;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt)
            *reinterpret_cast<float2*>(op + dt * 8 + (lane & 3) * 2) =
                make_float2(o[mt][dt][2 * hr] * inv, o[mt][dt][2 * hr + 1] * inv);
          if ((lane & 3) == 0) lse_part<D>(a)[((int64_t)split * a.H + h) * a.total_q + row] = lse;
        } else {
          // stage the bf16/f16 row into sQ (free after the loop) for coalesced stores
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt)
            *reinterpret_cast<uint32_t*>(sQ + swz<D>(wrow0 + mt * 16 + (lane >> 2) + hr * 8, dt * 8 + (lane & 3) * 2)) =
                pack2<BF16>(o[mt][dt][2 * hr] * inv, o[mt][dt][2 * hr + 1] * inv);
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
        *reinterpret_cast<uint4*>(obase + (int64_t)r * a.H * D + ch * 8) =
            *reinterpret_cast<const uint4*>(sQ + swz<D>(r, ch * 8));
      }
    }
  }
}

// merge split-KV partials: one warp per (row, head)
template <int D, bool BF16>
__global__ void __launch_bounds__(128) attn_combine(const Args a) {
  const int64_t gw = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (gw >= (int64_t)a.total_q * a.H) return;
  const int64_t row = gw / a.H;
  const int h = (int)(gw % a.H);
  float mx = -CUDART_INF_F;
  for (int s = 0; s < a.num_splits; ++s) mx = fmaxf(mx, lse_part<D>(a)[((int64_t)s * a.H + h) * a.total_q + row]);
  const float mu = mx == -CUDART_INF_F ? 0.f : mx;
  float wsum = 0.f;
  float acc[D / 32];
#pragma unroll
  for (int k = 0; k < D / 32; ++k) acc[k] = 0.f;
  for (int s = 0; s < a.num_splits; ++s) {
    const float ls = lse_part<D>(a)[((int64_t)s * a.H + h) * a.total_q + row];
    const float w = __expf(ls - mu);
    if (ls == -CUDART_INF_F) continue;
    wsum += w;
    const float* op = a.o_part + (((int64_t)s * a.total_q + row) * a.H + h) * D;
#pragma unroll
    for (int k = 0; k < D / 32; ++k) acc[k] += w * op[lane + 32 * k];
  }
  const float inv = wsum > 0.f ? 1.f / wsum : 0.f;
  uint16_t* out = a.out + (row * a.H + h) * D;
#pragma unroll
  for (int k = 0; k < D / 32; ++k) {
    const float v = acc[k] * inv;
    if constexpr (BF16) { __nv_bfloat16 x = __float2bfloat16_rn(v); out[lane + 32 * k] = *reinterpret_cast<uint16_t*>(&x); }
    else { __half x = __float2half_rn(v); out[lane + 32 * k] = *reinterpret_cast<uint16_t*>(&x); }
  }
  if (lane == 0 && a.lse) a.lse[(int64_t)h * a.total_q + row] = wsum > 0.f ? mu + __logf(wsum) : CUDART_INF_F;
}

// per-head-dim launcher (defined in attn_d{64,128,256}.cu)
template <int D>
int launch(const Args& a, bool bf16, int variant, int grid_m, int batch, cudaStream_t stream);
// variant: 0 decode (WSPLIT), 1 = 2 m-tiles per warp x 4 warps, 2 = 1 m-tile per warp x 8 warps

}  // namespace sk_attn
