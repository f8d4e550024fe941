// Instantiations for head_dim 64 (separate TU so the build parallelises).
#include "attn_kernel.cuh"
#include "attn_wgmma.cuh"

namespace sk_attn {

using Main64 = Cfg<64, 2, 64, 4, false>;
using Alt64 = Cfg<64, 2, 128, 4, false, 1>;
using Dec64 = Cfg<64, 1, 64, 4, true>;
using Wg64 = WCfg<64, 128>;   // variant 3: wgmma, 128-key tiles (sm_90a)
using WgN64 = WCfg<64, 64>;   // variant 4: wgmma, 64-key tiles (sm_90a)

template <class C, bool BF16, bool WG = false>
static int run_cfg(const Args& a, int batch, cudaStream_t stream) {
  static bool attr_set = false;  // benign race: idempotent
  if (!attr_set) {
    if constexpr (WG) {
      SK_CUDA_TRY(cudaFuncSetAttribute(attn_fwd_wg<C, BF16>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM));
    } else {
      SK_CUDA_TRY(cudaFuncSetAttribute(attn_fwd<C, BF16>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM));
    }
    attr_set = true;
  }
  return 0;
}

template <>
int launch<64>(const Args& a, bool bf16, int variant, int max_q, int batch, cudaStream_t stream) {
  auto go = [&](auto cfg, auto bf) -> int {
    using C = decltype(cfg);
    constexpr bool BF = decltype(bf)::value;
    if (int st = run_cfg<C, BF>(a, batch, stream)) return st;
    dim3 grid((max_q + C::BM - 1) / C::BM, a.H, batch * a.num_splits);
    attn_fwd<C, BF><<<grid, C::NT, C::SMEM, stream>>>(a);
    SK_LAUNCH_CHECK("varlen_attn_fwd");
    if (a.num_splits > 1) {
      const int64_t warps = (int64_t)a.total_q * a.H;
      if (warps > 0) attn_combine<64, BF><<<(unsigned)((warps + 3) / 4), 128, 0, stream>>>(a);
      SK_LAUNCH_CHECK("varlen_attn_combine");
    }
    return 0;
  };
  auto go_wg = [&](auto cfg, auto bf) -> int {
    using C = decltype(cfg);
    constexpr bool BF = decltype(bf)::value;
    if (int st = run_cfg<C, BF, true>(a, batch, stream)) return st;
    dim3 grid((max_q + C::BM - 1) / C::BM, a.H, batch * a.num_splits);
    attn_fwd_wg<C, BF><<<grid, C::NT, C::SMEM, stream>>>(a);
    SK_LAUNCH_CHECK("varlen_attn_fwd_wgmma");
    if (a.num_splits > 1) {
      const int64_t warps = (int64_t)a.total_q * a.H;
      if (warps > 0) attn_combine<64, BF><<<(unsigned)((warps + 3) / 4), 128, 0, stream>>>(a);
      SK_LAUNCH_CHECK("varlen_attn_combine");
    }
    return 0;
  };
  using T = std::true_type;
  using F = std::false_type;
  if (variant == 0) return bf16 ? go(Dec64{}, T{}) : go(Dec64{}, F{});
  if (variant == 2) return bf16 ? go(Alt64{}, T{}) : go(Alt64{}, F{});
  if (variant == 3) return bf16 ? go_wg(Wg64{}, T{}) : go_wg(Wg64{}, F{});
  if (variant == 4) return bf16 ? go_wg(WgN64{}, T{}) : go_wg(WgN64{}, F{});
  return bf16 ? go(Main64{}, T{}) : go(Main64{}, F{});
}

int block_m_64(int v) { return v == 0 ? Dec64::BM : v == 2 ? Alt64::BM : v == 3 ? Wg64::BM : v == 4 ? WgN64::BM : Main64::BM; }
int block_n_64(int v) { return v == 0 ? Dec64::BN : v == 2 ? Alt64::BN : v == 3 ? Wg64::BN : v == 4 ? WgN64::BN : Main64::BN; }

}  // namespace sk_attn
