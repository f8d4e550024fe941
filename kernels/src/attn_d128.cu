// Configurations for head_dim 128 (separate TU so the build parallelises).
#include "attn_launch.cuh"

namespace sk_attn {

using Main128 = Cfg<128, 2, 64, 4, false>;
using Alt128 = Cfg<128, 2, 64, 4, false, 1, true, true>;
using Dec128 = Cfg<128, 1, 64, 4, true>;
using DecP128 = Cfg<128, 1, 64, 4, true, 1, true, false, true>;      // variant 10: GQA-packed decode
using DecPS128 = Cfg<128, 1, 32, 2, true, 1, true, false, true>;     // variant 12: as 10, 32-key tiles, 2 warps
using DecP3128 = Cfg<128, 1, 64, 4, true, 1, true, false, true, 3>;  // variant 11: as 10, 3 K/V stages
using Wg128 = WCfg<128, 128>;   // variant 3: wgmma, 128-key tiles (sm_90a)
using WgN128 = WCfg<128, 64>;   // variant 4: wgmma, 64-key tiles (sm_90a)
using Wg2128 = WCfg<128, 64, 2>;  // variant 5: as 4, 2 CTAs/SM (128-register cap)

template <>
int launch<128>(const Args& a, bool bf16, int variant, int max_q, int batch, cudaStream_t stream) {
  switch (variant) {
    case 0:
      return launch_dtype<128, Dec128>(a, bf16, max_q, batch, stream);
    case 10:
      return launch_dtype<128, DecP128>(a, bf16, max_q, batch, stream);
    case 12:
      return launch_dtype<128, DecPS128>(a, bf16, max_q, batch, stream);
    case 11:
      return launch_dtype<128, DecP3128>(a, bf16, max_q, batch, stream);
    case 2:
      return launch_dtype<128, Alt128>(a, bf16, max_q, batch, stream);
    case 3:
      return launch_dtype<128, Wg128, true>(a, bf16, max_q, batch, stream);
    case 4:
      return launch_dtype<128, WgN128, true>(a, bf16, max_q, batch, stream);
    case 5:
      return launch_dtype<128, Wg2128, true>(a, bf16, max_q, batch, stream);
    default:
      return launch_dtype<128, Main128>(a, bf16, max_q, batch, stream);
  }
}

int block_m_128(int v) { return v == 12 ? DecPS128::BM : v >= 10 ? DecP128::BM : v == 0 ? Dec128::BM : v == 2 ? Alt128::BM : v == 3 ? Wg128::BM : v == 4 ? WgN128::BM : v == 5 ? Wg2128::BM : Main128::BM; }
int block_n_128(int v) { return v == 12 ? DecPS128::BN : v >= 10 ? DecP128::BN : v == 0 ? Dec128::BN : v == 2 ? Alt128::BN : v == 3 ? Wg128::BN : v == 4 ? WgN128::BN : v == 5 ? Wg2128::BN : Main128::BN; }

}  // namespace sk_attn
