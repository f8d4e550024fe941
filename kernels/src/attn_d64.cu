// Configurations for head_dim 64 (separate TU so the build parallelises).
#include "attn_launch.cuh"

namespace sk_attn {

using Main64 = Cfg<64, 2, 64, 4, false>;
using Alt64 = Cfg<64, 2, 128, 4, false, 1>;
using Dec64 = Cfg<64, 1, 64, 4, true>;
using DecP64 = Cfg<64, 1, 64, 4, true, 1, true, false, true>;      // variant 10: GQA-packed decode
using DecP364 = Cfg<64, 1, 64, 4, true, 1, true, false, true, 3>;  // variant 11: as 10, 3 K/V stages
using Wg64 = WCfg<64, 128>;   // variant 3: wgmma, 128-key tiles (sm_90a)
using WgN64 = WCfg<64, 64>;   // variant 4: wgmma, 64-key tiles (sm_90a)

template <>
int launch<64>(const Args& a, bool bf16, int variant, int max_q, int batch, cudaStream_t stream) {
  switch (variant) {
    case 0:
      return launch_dtype<64, Dec64>(a, bf16, max_q, batch, stream);
    case 10:
      return launch_dtype<64, DecP64>(a, bf16, max_q, batch, stream);
    case 11:
      return launch_dtype<64, DecP364>(a, bf16, max_q, batch, stream);
    case 2:
      return launch_dtype<64, Alt64>(a, bf16, max_q, batch, stream);
    case 3:
      return launch_dtype<64, Wg64, true>(a, bf16, max_q, batch, stream);
    case 4:
      return launch_dtype<64, WgN64, true>(a, bf16, max_q, batch, stream);
    default:
      return launch_dtype<64, Main64>(a, bf16, max_q, batch, stream);
  }
}

int block_m_64(int v) { return v >= 10 ? DecP64::BM : v == 0 ? Dec64::BM : v == 2 ? Alt64::BM : v == 3 ? Wg64::BM : v == 4 ? WgN64::BM : Main64::BM; }
int block_n_64(int v) { return v >= 10 ? DecP64::BN : v == 0 ? Dec64::BN : v == 2 ? Alt64::BN : v == 3 ? Wg64::BN : v == 4 ? WgN64::BN : Main64::BN; }

}  // namespace sk_attn
