// Configurations for head_dim 256 (separate TU so the build parallelises).
#include "attn_launch.cuh"

namespace sk_attn {

using Main256 = Cfg<256, 1, 32, 4, false>;
using Alt256 = Cfg<256, 1, 32, 8, false, 1>;
using Dec256 = Cfg<256, 1, 64, 4, true>;
using DecP256 = Cfg<256, 1, 64, 4, true, 1, true, false, true>;      // variant 10: GQA-packed decode
using DecPS256 = Cfg<256, 1, 32, 2, true, 1, true, false, true>;     // variant 12: as 10, 32-key tiles, 2 warps
using WgN256 = WCfg<256, 64>;  // variant 4: wgmma, 64-key tiles (sm_90a), 1 CTA/SM (193 KB smem)

template <>
int launch<256>(const Args& a, bool bf16, int variant, int max_q, int batch, cudaStream_t stream) {
  switch (variant) {
    case 0:
      return launch_dtype<256, Dec256>(a, bf16, max_q, batch, stream);
    case 11:  // 3 stages do not fit d256 on sm_80: same as 10
    case 10:
      return launch_dtype<256, DecP256>(a, bf16, max_q, batch, stream);
    case 12:
      return launch_dtype<256, DecPS256>(a, bf16, max_q, batch, stream);
    case 2:
      return launch_dtype<256, Alt256>(a, bf16, max_q, batch, stream);
    case 4:
      return launch_dtype<256, WgN256, true>(a, bf16, max_q, batch, stream);
    default:
      return launch_dtype<256, Main256>(a, bf16, max_q, batch, stream);
  }
}

int block_m_256(int v) { return v == 12 ? DecPS256::BM : v >= 10 ? DecP256::BM : v == 0 ? Dec256::BM : v == 2 ? Alt256::BM : v == 4 ? WgN256::BM : Main256::BM; }
int block_n_256(int v) { return v == 12 ? DecPS256::BN : v >= 10 ? DecP256::BN : v == 0 ? Dec256::BN : v == 2 ? Alt256::BN : v == 4 ? WgN256::BN : Main256::BN; }

}  // namespace sk_attn
