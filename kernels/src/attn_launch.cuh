// Launching one attention configuration: the per-head-dim files (attn_d{64,128,256}.cu) only
// choose configurations; how a configuration is launched lives here once.
#pragma once
#include "attn_kernel.cuh"
#include "attn_wgmma.cuh"

namespace sk_attn {

// The forward kernel of configuration C (the mma.sync kernel, or with WG the sm_90a wgmma one),
// then for split-KV the combine pass.
template <int D, class C, bool BF16, bool WG>
int launch_cfg(const Args& a, int max_q, int batch, cudaStream_t stream) {
  static bool attr_set = false;  // benign race: idempotent
  if (!attr_set) {
    if constexpr (WG) {
      SK_CUDA_TRY(cudaFuncSetAttribute(attn_fwd_wg<C, BF16>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM));
    } else {
      SK_CUDA_TRY(cudaFuncSetAttribute(attn_fwd<C, BF16>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM));
    }
    attr_set = true;
  }
  // PACK (GQA decode): one CTA per KV head and BM / G query positions
  const int qp = C::PACK ? C::BM / a.G : C::BM;
  dim3 grid((max_q + qp - 1) / qp, C::PACK ? a.Hk : a.H, batch * a.num_splits);
  if constexpr (WG) {
    attn_fwd_wg<C, BF16><<<grid, C::NT, C::SMEM, stream>>>(a);
    SK_LAUNCH_CHECK("varlen_attn_fwd_wgmma");
  } else {
    attn_fwd<C, BF16><<<grid, C::NT, C::SMEM, stream>>>(a);
    SK_LAUNCH_CHECK("varlen_attn_fwd");
  }
  if (a.num_splits > 1) {
    const int64_t warps = (int64_t)a.total_q * a.H;
    if (warps > 0) attn_combine<D, BF16><<<(unsigned)((warps + 3) / 4), 128, 0, stream>>>(a);
    SK_LAUNCH_CHECK("varlen_attn_combine");
  }
  return 0;
}

template <int D, class C, bool WG = false>
int launch_dtype(const Args& a, bool bf16, int max_q, int batch, cudaStream_t stream) {
  return bf16 ? launch_cfg<D, C, true, WG>(a, max_q, batch, stream) : launch_cfg<D, C, false, WG>(a, max_q, batch, stream);
}

}  // namespace sk_attn
