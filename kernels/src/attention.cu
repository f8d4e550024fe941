// attention.cu -- varlen attention forward: parameter checks, variant choice
// (main / decode), split-KV heuristic, workspace, output allocation variant.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include "attn_kernel.cuh"
#include "attn_wgmma.cuh"

namespace sk_attn {
int block_m_64(int); int block_m_128(int); int block_m_256(int);
int block_n_64(int); int block_n_128(int); int block_n_256(int);
}

// Measured on H100 (bench v6): without wgmma, d128 is faster with the
// skip-rescale variant (2), d64 with variant 1; d256 not benchmarked (variant 1).
static int default_prefill_variant(int D) { return D == 128 ? 2 : 1; }
// Hopper (CC 9.0, sm_90a image): the wgmma kernels (bench v9-v11): d64 64-key
// tiles (4, 109 registers, 2 CTAs/SM); d128 64-key tiles capped at 128
// registers for 2 CTAs/SM (5), faster than 3 and 4 on every d128 shape.
// d256 64-key tiles (4: 1 CTA/SM, 193 KB smem).
static int default_variant_sm90(int D, int max_q) {
  (void)max_q;
  if (D == 128) return 5;
  return 4;
}

static int sm_count() {
  static int sms = 0;
  if (!sms) {
    int dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    if (sms <= 0) sms = 108;
  }
  return sms;
}

extern "C" SK_API int sk_varlen_attn_fwd(const sk_attn_params* p, void* stream_) {
  if (int st = sk_varlen_attn_check_params(p)) return st;
  if (p->batch == 0 || p->total_q == 0) return SK_OK;
  {
    const void* ptrs[] = {p->q, p->k, p->v, p->k_cache, p->v_cache, p->out};
    const char* names[] = {"q", "k", "v", "k_cache", "v_cache", "out"};
    for (int i = 0; i < 6; ++i)
      if ((uintptr_t)ptrs[i] % 16 != 0)
        return sk::set_error(SK_ERR_UNSUPPORTED, "varlen_attn: %s must be 16-byte aligned (got %p)", names[i], ptrs[i]);
  }
  if (int st = sk::require_cuda()) return st;
  cudaStream_t stream = (cudaStream_t)stream_;
  const bool paged = p->page_table != nullptr;
  sk_attn::Args a{};
  a.q = (const uint16_t*)p->q;
  a.k = (const uint16_t*)(paged ? p->k_cache : p->k);
  a.v = (const uint16_t*)(paged ? p->v_cache : p->v);
  a.out = (uint16_t*)p->out;
  a.lse = p->lse;
  a.cu_q = p->cu_seqlens_q;
  a.cu_k = p->cu_seqlens_k;
  a.seqused_k = p->seqused_k;
  a.page_table = p->page_table;
  a.page_size = paged ? p->page_size : 1;
  a.max_pages = paged ? p->max_pages_per_seq : 0;
  a.H = p->num_heads;
  a.Hk = p->num_heads_kv;
  a.G = p->num_heads / p->num_heads_kv;
  a.total_q = p->total_q;
  const float scale = p->softmax_scale > 0 ? p->softmax_scale : 1.0f / std::sqrt((float)p->head_dim);
  a.scale_log2 = scale * 1.4426950408889634f;
  a.wl = p->window_left < 0 ? -1 : p->window_left;
  a.wr = p->causal ? 0 : (p->window_right < 0 ? -1 : p->window_right);
  const bool bf16 = p->dtype == SK_BF16;
  const int D = p->head_dim;
  // variant: 0 decode kernel (warps split keys) for short queries; otherwise
  // the prefill kernel (1: 2 m-tiles x 4 warps, 2: 1 m-tile x 8 warps).
  // 3/4/5: wgmma (Hopper sm_90a) with 128/64-key tiles (3: d64/d128; 5: d128, 2 CTAs/SM).
  // SK_ATTN_VARIANT=1|2|3|4|5 overrides the prefill choice (benchmarking); 3/4/5
  // fall back to the default where wgmma is unavailable.
  // Decode with GQA (G = H / H_kv dividing 16, G > 1): the packed decode kernel
  // (10), whose 16 rows are (position, head of the group) pairs, so K/V are read
  // once per KV head; d256 takes 32-key tiles on 2 warps (12: 72 KB of shared memory,
  // 3 CTAs/SM, where 10 needs 136 KB and runs 1). SK_DECODE_VARIANT=0|10|11|12
  // overrides (11 = 3 K/V stages; 12 on d128/d256).
  const int G = p->num_heads / p->num_heads_kv;
  const bool packable = G > 1 && G <= 16 && 16 % G == 0;
  int variant = p->max_seqlen_q <= 16 ? (packable ? (D == 256 ? 12 : 10) : 0)
                : sk_attn::wgmma_supported() ? default_variant_sm90(D, p->max_seqlen_q) : default_prefill_variant(D);
  if (p->max_seqlen_q <= 16) {
    const char* dv = std::getenv("SK_DECODE_VARIANT");
    if (dv && dv[0]) {
      const int v = std::atoi(dv);
      if (v == 0 || ((v == 10 || v == 11 || (v == 12 && D != 64)) && packable)) variant = v;
    }
  }
  const bool decode = variant == 0 || variant >= 10;
  if (!decode) {
    const char* ev = std::getenv("SK_ATTN_VARIANT");
    if (ev && ev[0] >= '1' && ev[0] <= '5') variant = ev[0] - '0';
    if (variant == 5 && D != 128) variant = 4;
    if (variant == 3 && D == 256) variant = 4;
    if (variant >= 3 && !sk_attn::wgmma_supported()) variant = default_prefill_variant(D);
  }
  const int bm = D == 64 ? sk_attn::block_m_64(variant) : D == 128 ? sk_attn::block_m_128(variant) : sk_attn::block_m_256(variant);
  const int bn = D == 64 ? sk_attn::block_n_64(variant) : D == 128 ? sk_attn::block_n_128(variant) : sk_attn::block_n_256(variant);
  // split-KV when the grid is too small to fill the GPU
  int splits = 1;
  if (p->num_splits > 0) {
    splits = p->num_splits;
  } else if (decode) {
    // decode is bound by reading K/V: many CTAs (>= 8 per SM over the launch) keep the
    // last wave short. Splits are chunks of equal key length (the last one of a sequence
    // shorter), so ragged key lengths give CTAs of equal work; a chunk keeps >= 4 tiles.
    const int qp = variant >= 10 ? bm / G : bm;
    const int64_t blocks = (int64_t)((p->max_seqlen_q + qp - 1) / qp) * (variant >= 10 ? p->num_heads_kv : p->num_heads) * p->batch;
    const int ktiles = (p->max_seqlen_k + bn - 1) / bn;
    const int64_t target = 8LL * sm_count();
    int chunk = 0;
    if (blocks < target && ktiles >= 8) {
      int64_t s = (target + blocks - 1) / blocks;
      s = std::min<int64_t>(s, ktiles / 4);
      s = std::min<int64_t>(s, 64);
      chunk = (int)((ktiles + s - 1) / s);
    }
    const char* dc = std::getenv("SK_DECODE_CHUNK");  // benchmarking: key tiles per split, 0 = none
    if (dc && dc[0]) chunk = std::max(0, std::atoi(dc));
    if (chunk > 0) {
      chunk = std::max(chunk, (ktiles + 127) / 128);
      splits = (ktiles + chunk - 1) / chunk;
      if (splits > 1) a.split_tiles = chunk;
    }
  } else {
    const int64_t blocks = (int64_t)((p->max_seqlen_q + bm - 1) / bm) * p->num_heads * p->batch;
    const int ktiles = (p->max_seqlen_k + bn - 1) / bn;
    const int64_t target = 2LL * sm_count();
    if (blocks < target && ktiles >= 4) {
      int64_t s = (target + blocks - 1) / blocks;
      s = std::min<int64_t>(s, ktiles / 2);
      s = std::min<int64_t>(s, 64);
      splits = (int)std::max<int64_t>(s, 1);
    }
  }
  a.num_splits = splits;
  void* ws = nullptr;
  if (splits > 1) {
    const size_t obytes = (size_t)splits * p->total_q * p->num_heads * D * sizeof(float);
    const size_t lbytes = (size_t)splits * p->num_heads * p->total_q * sizeof(float);
    SK_CUDA_TRY(cudaMallocAsync(&ws, obytes + lbytes, stream));
    a.o_part = (float*)ws;  // lse partials follow (lse_part)
  }
  int st;
  if (D == 64) st = sk_attn::launch<64>(a, bf16, variant, p->max_seqlen_q, p->batch, stream);
  else if (D == 128) st = sk_attn::launch<128>(a, bf16, variant, p->max_seqlen_q, p->batch, stream);
  else st = sk_attn::launch<256>(a, bf16, variant, p->max_seqlen_q, p->batch, stream);
  if (ws) cudaFreeAsync(ws, stream);
  return st;
}

extern "C" SK_API int sk_varlen_attn_fwd_alloc(const sk_attn_params* p, int want_lse, void** out_new,
                                               float** lse_new, void* stream) {
  if (!out_new) return sk::set_error(SK_ERR_INVALID, "varlen_attn_fwd_alloc: out_new is NULL");
  *out_new = nullptr;
  if (lse_new) *lse_new = nullptr;
  if (!p) return sk::set_error(SK_ERR_INVALID, "varlen_attn_fwd_alloc: params is NULL");
  {
    sk_attn_params chk = *p;
    static uint16_t placeholder;
    chk.out = &placeholder;  // out is ours to allocate
    if (int st = sk_varlen_attn_check_params(&chk)) return st;
  }
  if (int st = sk::require_cuda()) return st;
  sk_attn_params q = *p;
  const size_t ob = (size_t)p->total_q * p->num_heads * p->head_dim * 2;
  SK_CUDA_TRY(cudaMalloc(out_new, ob ? ob : 2));
  q.out = *out_new;
  q.lse = nullptr;
  if (want_lse) {
    if (!lse_new) return sk::set_error(SK_ERR_INVALID, "varlen_attn_fwd_alloc: want_lse without lse_new");
    SK_CUDA_TRY(cudaMalloc((void**)lse_new, (size_t)p->num_heads * p->total_q * 4 + 4));
    q.lse = *lse_new;
  }
  int st = sk_varlen_attn_fwd(&q, stream);
  if (st) {
    cudaFree(*out_new); *out_new = nullptr;
    if (lse_new && *lse_new) { cudaFree(*lse_new); *lse_new = nullptr; }
  }
  return st;
}
