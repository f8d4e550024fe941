// reference.cpp -- independent CPU references. Deliberately shares NO element
// code with the implementation headers (sk_convert_ops.h, sk_index_reduce_ops.h):
// conversions are computed with double arithmetic and std::nearbyint (ties to
// even) instead of integer bit tricks; index_reduce follows PyTorch's CPU
// algorithm (fill identity, combine in source order, count, divide), with the
// ABI's groups of SK_INDEX_REDUCE_GROUP source rows per target row.
#include <cfenv>
#include <cmath>
#include <cstring>
#include <vector>
#include <algorithm>
#include <limits>
#include "common.h"

namespace {

uint32_t f2u(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float u2f(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Round |x| (finite, double exact copy of a float) to a binary format with
// `mant_bits` explicit mantissa bits, minimum normal exponent emin, max finite
// value maxv. Returns the rounded value as double (may be +inf).
double round_to_format(double ax, int mant_bits, int emin, double maxv) {
  if (ax == 0.0) return 0.0;
  int e;
  std::frexp(ax, &e);            // ax = f * 2^e, f in [0.5,1) -> exponent e-1
  int exp = e - 1;
  if (exp < emin) exp = emin;    // subnormal: fixed quantum
  const double quantum = std::ldexp(1.0, exp - mant_bits);
  const double m = ax / quantum; // exact (power of two scaling)
  const int saved = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(m) * quantum;  // ties to even
  std::fesetround(saved);
  // overflow: IEEE rounds to inf when the value is >= maxv + half an ulp of maxv
  if (r > maxv) return std::numeric_limits<double>::infinity();
  return r;
}

uint16_t encode(double r, bool neg, int mant_bits, int ebias) {
  uint16_t s = neg ? 0x8000 : 0;
  const int ebits = 15 - mant_bits;
  if (std::isinf(r)) return s | (uint16_t)(((1 << ebits) - 1) << mant_bits);
  if (r == 0.0) return s;
  int e;
  double f = std::frexp(r, &e);  // r = f*2^e
  int exp = e - 1;
  int biased = exp + ebias;
  if (biased <= 0) {  // subnormal: r / 2^(1-ebias-mant_bits)
    double q = std::ldexp(r, mant_bits + ebias - 1);
    return s | (uint16_t)q;
  }
  double mant = (f * 2.0 - 1.0) * std::ldexp(1.0, mant_bits);
  return s | (uint16_t)(biased << mant_bits) | (uint16_t)mant;
}

uint16_t ref_f32_to_f16(float x) {
  if (std::isnan(x)) return (uint16_t)((std::signbit(x) ? 0x8000 : 0) | 0x7e00);
  const bool neg = std::signbit(x);
  if (std::isinf(x)) return (uint16_t)((neg ? 0x8000 : 0) | 0x7c00);
  double r = round_to_format(std::fabs((double)x), 10, -14, 65504.0);
  return encode(r, neg, 10, 15);
}
uint16_t ref_f32_to_bf16(float x) {
  if (std::isnan(x)) return 0x7fc0;
  const bool neg = std::signbit(x);
  if (std::isinf(x)) return (uint16_t)((neg ? 0x8000 : 0) | 0x7f80);
  const double maxv = std::ldexp(255.0, 120);   // (2 - 2^-7) * 2^127
  double r = round_to_format(std::fabs((double)x), 7, -126, maxv);
  return encode(r, neg, 7, 127);
}
double decode(uint16_t h, int mant_bits, int ebias) {
  const int ebits = 15 - mant_bits;
  const int emax = (1 << ebits) - 1;
  const bool neg = h & 0x8000;
  const int e = (h >> mant_bits) & emax;
  const int m = h & ((1 << mant_bits) - 1);
  double v;
  if (e == emax) v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (e == 0) v = std::ldexp((double)m, 1 - ebias - mant_bits);
  else v = std::ldexp(1.0 + std::ldexp((double)m, -mant_bits), e - ebias);
  return neg ? -v : v;
}
float ref_f16_to_f32(uint16_t h) {
  double v = decode(h, 10, 15);
  if (std::isnan(v)) {  // keep sign and payload, quiet bit set
    uint32_t u = ((uint32_t)(h & 0x8000) << 16) | 0x7fc00000u | ((uint32_t)(h & 0x3ff) << 13);
    return u2f(u);
  }
  return (float)v;
}
float ref_bf16_to_f32(uint16_t b) {
  double v = decode(b, 7, 127);
  if (std::isnan(v)) return u2f(((uint32_t)b << 16) | 0x00400000u);
  return (float)v;
}

float load_ref(int dtype, const void* p, int64_t i) {
  if (dtype == SK_F32) return ((const float*)p)[i];
  uint16_t h = ((const uint16_t*)p)[i];
  return dtype == SK_F16 ? ref_f16_to_f32(h) : ref_bf16_to_f32(h);
}
void store_ref(int dtype, void* p, int64_t i, float v) {
  if (dtype == SK_F32) ((float*)p)[i] = v;
  else ((uint16_t*)p)[i] = dtype == SK_F16 ? ref_f32_to_f16(v) : ref_f32_to_bf16(v);
}

}  // namespace

extern "C" {

SK_API int sk_convert_ref(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n) {
  if (n < 0) return sk::set_error(SK_ERR_INVALID, "convert_ref: n < 0");
  if (n > 0 && (!src || !dst)) return sk::set_error(SK_ERR_INVALID, "convert_ref: null pointer");
  const bool ok_pair = (src_dtype == SK_F32 && (dst_dtype == SK_F16 || dst_dtype == SK_BF16)) ||
                       (dst_dtype == SK_F32 && (src_dtype == SK_F16 || src_dtype == SK_BF16));
  if (!ok_pair) return sk::set_error(SK_ERR_UNSUPPORTED, "convert_ref: unsupported pair %d -> %d", src_dtype, dst_dtype);
  for (int64_t i = 0; i < n; ++i) store_ref(dst_dtype, dst, i, load_ref(src_dtype, src, i));
  return SK_OK;
}

SK_API int sk_index_reduce_ref(int dtype, void* self, int64_t self_rows, int64_t row_size,
                               const int64_t* index, int64_t n_index, const void* source,
                               int reduce, int include_self) {
  if (dtype != SK_F32 && dtype != SK_F16 && dtype != SK_BF16)
    return sk::set_error(SK_ERR_UNSUPPORTED, "index_reduce_ref: dtype %d", dtype);
  if (reduce < 0 || reduce > 3) return sk::set_error(SK_ERR_INVALID, "index_reduce_ref: reduce %d", reduce);
  if (self_rows < 0 || row_size < 0 || n_index < 0) return sk::set_error(SK_ERR_INVALID, "index_reduce_ref: negative size");
  if (n_index == 0 || row_size == 0) return SK_OK;
  if (!self || !index || !source) return sk::set_error(SK_ERR_INVALID, "index_reduce_ref: null pointer");
  for (int64_t i = 0; i < n_index; ++i)
    if (index[i] < 0 || index[i] >= self_rows)
      return sk::set_error(SK_ERR_INVALID, "index_reduce_ref: index[%lld]=%lld out of range [0,%lld)",
                           (long long)i, (long long)index[i], (long long)self_rows);
  const float inf = std::numeric_limits<float>::infinity();
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  // work copy in float
  std::vector<float> acc((size_t)(self_rows * row_size));
  for (int64_t i = 0; i < self_rows * row_size; ++i) acc[i] = load_ref(dtype, self, i);
  std::vector<int64_t> counts(self_rows, 0);
  for (int64_t i = 0; i < n_index; ++i) counts[index[i]]++;
  if (!include_self) {  // index_fill_ with the identity
    float ident = reduce == SK_REDUCE_PROD ? 1.f : reduce == SK_REDUCE_MEAN ? 0.f
                : reduce == SK_REDUCE_AMAX ? -inf : inf;
    for (int64_t r = 0; r < self_rows; ++r)
      if (counts[r]) std::fill(acc.begin() + r * row_size, acc.begin() + (r + 1) * row_size, ident);
  }
  // Streaming over the source in index order, as PyTorch's loop, with the ABI's
  // grouping: the k-th source row (0-based) seen by a target row goes into the
  // accumulator directly while k < GROUP, else into the row's open group
  // partial (k % GROUP == 0 opens it with the value itself), and a group's
  // partial is folded into the accumulator when its last row has been seen.
  const int64_t GROUP = SK_INDEX_REDUCE_GROUP;
  auto op = [&](float a, float s) -> float {
    switch (reduce) {
      case SK_REDUCE_PROD: return a * s;
      case SK_REDUCE_MEAN: return a + s;
      case SK_REDUCE_AMAX: return (std::isnan(a) || std::isnan(s)) ? qnan : std::max(a, s);
      default: return (std::isnan(a) || std::isnan(s)) ? qnan : std::min(a, s);
    }
  };
  std::vector<int64_t> seen(self_rows, 0);
  std::vector<float> part;
  bool any_long = false;
  for (int64_t r = 0; r < self_rows; ++r) any_long = any_long || counts[r] > GROUP;
  if (any_long) part.assign((size_t)(self_rows * row_size), 0.f);
  for (int64_t i = 0; i < n_index; ++i) {
    const int64_t t = index[i];
    const int64_t k = seen[t]++;
    float* a = &acc[t * row_size];
    if (k < GROUP) {
      for (int64_t c = 0; c < row_size; ++c) a[c] = op(a[c], load_ref(dtype, source, i * row_size + c));
      continue;
    }
    float* pp = &part[t * row_size];
    const bool opens = k % GROUP == 0;
    const bool closes = k % GROUP == GROUP - 1 || k == counts[t] - 1;
    for (int64_t c = 0; c < row_size; ++c) {
      const float s = load_ref(dtype, source, i * row_size + c);
      pp[c] = opens ? s : op(pp[c], s);
      if (closes) a[c] = op(a[c], pp[c]);
    }
  }
  for (int64_t r = 0; r < self_rows; ++r) {
    if (!counts[r]) continue;  // untouched rows keep self bit-exactly
    const float div = reduce == SK_REDUCE_MEAN ? (float)(include_self ? counts[r] + 1 : counts[r]) : 1.f;
    for (int64_t c = 0; c < row_size; ++c) {
      float v = acc[r * row_size + c];
      if (reduce == SK_REDUCE_MEAN) v = v / div;
      store_ref(dtype, self, r * row_size + c, v);
    }
  }
  return SK_OK;
}

// Attention reference: float math per (b, h, i): scores, masked softmax, PV.
SK_API int sk_varlen_attn_ref(const sk_attn_params* p) {
  int st = sk_varlen_attn_check_params(p);
  if (st) return st;
  const int H = p->num_heads, Hk = p->num_heads_kv, D = p->head_dim, G = H / Hk;
  const bool paged = p->page_table != nullptr;
  const float scale = p->softmax_scale > 0 ? p->softmax_scale : 1.0f / std::sqrt((float)D);
  int wl = p->window_left, wr = p->window_right;
  if (p->causal) wr = 0;
  std::vector<float> s, qf(D);
  for (int b = 0; b < p->batch; ++b) {
    const int q0 = p->cu_seqlens_q[b], Lq = p->cu_seqlens_q[b + 1] - q0;
    const int k0 = (paged || !p->cu_seqlens_k) ? 0 : p->cu_seqlens_k[b];
    const int Lk = p->seqused_k ? p->seqused_k[b] : p->cu_seqlens_k[b + 1] - p->cu_seqlens_k[b];
    auto kv_row = [&](const void* base_flat, const void* base_paged, int j, int hk) -> int64_t {
      (void)base_flat; (void)base_paged;
      if (paged) {
        int page = p->page_table[(int64_t)b * p->max_pages_per_seq + j / p->page_size];
        return (((int64_t)page * p->page_size + j % p->page_size) * Hk + hk) * D;
      }
      return (((int64_t)k0 + j) * Hk + hk) * D;
    };
    const void* K = paged ? p->k_cache : p->k;
    const void* V = paged ? p->v_cache : p->v;
    s.resize(std::max(Lk, 1));
    for (int h = 0; h < H; ++h) {
      const int hk = h / G;
      for (int i = 0; i < Lq; ++i) {
        const int64_t qi = ((int64_t)(q0 + i) * H + h) * D;
        for (int d = 0; d < D; ++d) qf[d] = load_ref(p->dtype, p->q, qi + d);
        const int off = Lk - Lq;
        float mx = -std::numeric_limits<float>::infinity();
        for (int j = 0; j < Lk; ++j) {
          bool valid = true;
          if (wr >= 0 && j > i + off + wr) valid = false;
          if (wl >= 0 && j < i + off - wl) valid = false;
          if (!valid) { s[j] = -std::numeric_limits<float>::infinity(); continue; }
          const int64_t kr = kv_row(p->k, p->k_cache, j, hk);
          float acc = 0.f;
          for (int d = 0; d < D; ++d) acc += qf[d] * load_ref(p->dtype, K, kr + d);
          s[j] = acc * scale;
          mx = std::max(mx, s[j]);
        }
        float sum = 0.f;
        std::vector<float> o(D, 0.f);
        if (mx != -std::numeric_limits<float>::infinity()) {
          for (int j = 0; j < Lk; ++j) {
            if (s[j] == -std::numeric_limits<float>::infinity()) continue;
            const float e = std::exp(s[j] - mx);
            sum += e;
            const int64_t vr = kv_row(p->v, p->v_cache, j, hk);
            for (int d = 0; d < D; ++d) o[d] += e * load_ref(p->dtype, V, vr + d);
          }
        }
        for (int d = 0; d < D; ++d) store_ref(p->dtype, p->out, qi + d, sum > 0 ? o[d] / sum : 0.f);
        if (p->lse) p->lse[(int64_t)h * p->total_q + q0 + i] = sum > 0 ? mx + std::log(sum) : std::numeric_limits<float>::infinity();
      }
    }
  }
  return SK_OK;
}

}  // extern "C"
