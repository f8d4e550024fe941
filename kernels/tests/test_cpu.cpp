// test_cpu.cpp -- CPU tests run by CI without a GPU (ctest):
//  * references against hand-derived cases and properties
//  * host execution of the implementation code against the independent references
//  * timing-library decision logic with a fake event backend
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include "sheriff_kernels.h"
#include "sk_timing_logic.h"

static int g_fail = 0, g_checks = 0;
#define CHECK(cond, ...)                                              \
  do {                                                                \
    ++g_checks;                                                       \
    if (!(cond)) {                                                    \
      ++g_fail;                                                       \
      if (g_fail < 40) {                                              \
        std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
        std::printf(__VA_ARGS__);                                     \
        std::printf("\n");                                            \
      }                                                               \
    }                                                                 \
  } while (0)

static uint32_t f2u(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
static bool same_f32(uint32_t a, uint32_t b) {
  const bool na = (a & 0x7fffffffu) > 0x7f800000u, nb = (b & 0x7fffffffu) > 0x7f800000u;
  if (na || nb) return na && nb;
  return a == b;
}

// ---------------------------------------------------------------- conversions
static uint16_t ref16(float x, int dt) { uint16_t h; sk_convert_ref(SK_F32, &x, dt, &h, 1); return h; }

static void test_convert_hand() {
  struct { float x; uint16_t f16, bf16; } cases[] = {
      {1.0f, 0x3c00, 0x3f80},           {-2.0f, 0xc000, 0xc000},        {0.0f, 0x0000, 0x0000},
      {-0.0f, 0x8000, 0x8000},          {65504.f, 0x7bff, 0x4780},      {65520.f, 0x7c00, 0x4780},
      {65519.996f, 0x7bff, 0x4780},     {1e9f, 0x7c00, 0x4e6e},         {std::ldexp(1.f, -24), 0x0001, 0x3380},
      {std::ldexp(1.f, -25), 0x0000, 0x3300}, {std::ldexp(1.5f, -25), 0x0001, 0x3340},
      {std::ldexp(1.f, -14), 0x0400, 0x3880}, {std::ldexp(1023.f, -24), 0x03ff, 0x3880 /*0x387fc000 rounds up*/},
      {u2f(0x3f808000), 0x3c04, 0x3f80 /*tie -> even*/}, {u2f(0x3f818000), 0x3c0c, 0x3f82 /*tie -> even*/},
      {u2f(0x3f808001), 0x3c04, 0x3f81}, {std::numeric_limits<float>::infinity(), 0x7c00, 0x7f80},
      {-std::numeric_limits<float>::infinity(), 0xfc00, 0xff80}, {u2f(0x7f7fffff), 0x7c00, 0x7f80 /*FLT_MAX overflows*/},
      {u2f(0x00000001), 0x0000, 0x0000 /*fp32 denorm 2^-149 -> bf16 0 (ties even at 2^-134? no: below half)*/},
      {u2f(0x00010000), 0x0000, 0x0001}, {u2f(0x00008000), 0x0000, 0x0000 /*tie to even 0*/},
      {u2f(0x00018000), 0x0000, 0x0002 /*tie to even*/}, {1.0009765625f /*1+2^-10*/, 0x3c01, 0x3f80},
      {1.00048828125f /*1+2^-11 tie*/, 0x3c00, 0x3f80}, {1.00146484375f /*1+3*2^-11 tie*/, 0x3c02, 0x3f80},
  };
  for (auto& c : cases) {
    CHECK(ref16(c.x, SK_F16) == c.f16, "ref f16(%a)=0x%04x want 0x%04x", c.x, ref16(c.x, SK_F16), c.f16);
    CHECK(ref16(c.x, SK_BF16) == c.bf16, "ref bf16(%a)=0x%04x want 0x%04x", c.x, ref16(c.x, SK_BF16), c.bf16);
  }
  // NaN: f16 keeps sign, bf16 canonical (PyTorch CPU)
  float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(ref16(nan, SK_F16) == 0x7e00, "f16 NaN");
  CHECK(ref16(-nan, SK_F16) == 0xfe00, "f16 -NaN");
  CHECK(ref16(u2f(0x7f800001), SK_F16) == 0x7e00, "f16 sNaN");
  CHECK(ref16(nan, SK_BF16) == 0x7fc0, "bf16 NaN");
  // widening of known values
  float f;
  uint16_t h = 0x0001; sk_convert_ref(SK_F16, &h, SK_F32, &f, 1); CHECK(f == std::ldexp(1.f, -24), "f16 min subnormal");
  h = 0x7bff; sk_convert_ref(SK_F16, &h, SK_F32, &f, 1); CHECK(f == 65504.f, "f16 max");
  h = 0xfc00; sk_convert_ref(SK_F16, &h, SK_F32, &f, 1); CHECK(std::isinf(f) && f < 0, "f16 -inf");
  h = 0x0001; sk_convert_ref(SK_BF16, &h, SK_F32, &f, 1); CHECK(f2u(f) == 0x00010000u, "bf16 subnormal");
}

static void compare_convert(const std::vector<float>& xs, const char* what) {
  const size_t n = xs.size();
  for (int dt : {SK_F16, SK_BF16}) {
    std::vector<uint16_t> a(n), b(n);
    CHECK(sk_convert_host(SK_F32, xs.data(), dt, a.data(), (int64_t)n) == 0, "convert_host");
    CHECK(sk_convert_ref(SK_F32, xs.data(), dt, b.data(), (int64_t)n) == 0, "convert_ref");
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) { if (!bad++) first = i; }
    CHECK(bad == 0, "%s f32->%s: %zu mismatches, first x=0x%08x impl=0x%04x ref=0x%04x", what,
          dt == SK_F16 ? "f16" : "bf16", bad, first < n ? f2u(xs[first]) : 0, first < n ? a[first] : 0,
          first < n ? b[first] : 0);
  }
}

static void test_convert_impl_vs_ref() {
  // all 65536 half / bf16 patterns -> f32 (bit exact, NaN payload included)
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = (uint16_t)i;
  for (int dt : {SK_F16, SK_BF16}) {
    std::vector<float> a(65536), b(65536);
    sk_convert_host(dt, all.data(), SK_F32, a.data(), 65536);
    sk_convert_ref(dt, all.data(), SK_F32, b.data(), 65536);
    size_t bad = 0;
    for (int i = 0; i < 65536; ++i) bad += f2u(a[i]) != f2u(b[i]);
    CHECK(bad == 0, "%s->f32: %zu mismatches", dt == SK_F16 ? "f16" : "bf16", bad);
    // round trip: every non-NaN 16-bit pattern survives f32 and back
    std::vector<uint16_t> back(65536);
    sk_convert_host(SK_F32, a.data(), dt, back.data(), 65536);
    size_t rt = 0;
    for (int i = 0; i < 65536; ++i) {
      const bool isnan = dt == SK_F16 ? ((i & 0x7c00) == 0x7c00 && (i & 0x3ff)) : ((i & 0x7f80) == 0x7f80 && (i & 0x7f));
      if (!isnan) rt += back[i] != i;
    }
    CHECK(rt == 0, "round trip %zu mismatches", rt);
  }
  // specials
  std::vector<float> sp = {0.f, -0.f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                           u2f(0x7f800001), u2f(0xff812345), u2f(0x7f7fffff), u2f(0xff7fffff), u2f(0x00000001),
                           u2f(0x807fffff), u2f(0x00800000), 65504.f, 65519.f, 65520.f, 65536.f, -65520.f};
  compare_convert(sp, "specials");
  // tie / near-tie structured patterns: every exponent and sign, mantissa high bits all, low bits at boundaries
  std::vector<float> ties;
  const uint32_t lows16[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff};
  for (uint32_t hi = 0; hi < 65536; ++hi)
    for (uint32_t lo : lows16) ties.push_back(u2f((hi << 16) | lo));
  const uint32_t lows13[] = {0x0000, 0x0fff, 0x1000, 0x1001, 0x1fff};
  for (uint32_t hi = 0; hi < (1u << 19); ++hi)
    for (uint32_t lo : lows13) ties.push_back(u2f((hi << 13) | lo));
  compare_convert(ties, "ties");
  // fp16 subnormal / overflow region exhaustively around the edges
  std::vector<float> edge;
  for (uint32_t u = 0x33000000u - 4096; u < 0x38800000u + 4096; u += 7) edge.push_back(u2f(u));
  for (uint32_t u = 0x477fe000u - 65536; u < 0x47800000u + 65536; ++u) edge.push_back(u2f(u));
  compare_convert(edge, "edges");
  // random bit patterns
  std::mt19937 rng(1234);
  std::vector<float> rnd(1 << 21);
  for (auto& x : rnd) x = u2f(rng());
  compare_convert(rnd, "random bits");
  std::normal_distribution<float> nd(0.f, 100.f);
  for (auto& x : rnd) x = nd(rng);
  compare_convert(rnd, "random normal");
}

// --------------------------------------------------------------- index_reduce
static void fill_dtype(int dt, const std::vector<float>& v, std::vector<uint8_t>& buf) {
  buf.resize(v.size() * (dt == SK_F32 ? 4 : 2));
  if (dt == SK_F32) std::memcpy(buf.data(), v.data(), v.size() * 4);
  else sk_convert_ref(SK_F32, v.data(), dt, buf.data(), (int64_t)v.size());
}
static std::vector<float> to_f32(int dt, const std::vector<uint8_t>& buf) {
  const size_t n = buf.size() / (dt == SK_F32 ? 4 : 2);
  std::vector<float> v(n);
  if (dt == SK_F32) std::memcpy(v.data(), buf.data(), n * 4);
  else sk_convert_ref(dt, buf.data(), SK_F32, v.data(), (int64_t)n);
  return v;
}

static void test_index_reduce_hand() {
  // self 3x2, index [0,2,0], source [[2,2],[10,10],[4,4]]
  const std::vector<float> self0 = {1, 100, 3, 4, 5, 6};
  const std::vector<int64_t> idx = {0, 2, 0};
  const std::vector<float> src = {2, 2, 10, 10, 4, 4};
  struct { int reduce, incl; std::vector<float> want; } cases[] = {
      {SK_REDUCE_PROD, 1, {8, 800, 3, 4, 50, 60}},
      {SK_REDUCE_PROD, 0, {8, 8, 3, 4, 10, 10}},
      {SK_REDUCE_MEAN, 1, {7.f / 3.f, 106.f / 3.f, 3, 4, 7.5f, 8}},
      {SK_REDUCE_MEAN, 0, {3, 3, 3, 4, 10, 10}},
      {SK_REDUCE_AMAX, 1, {4, 100, 3, 4, 10, 10}},
      {SK_REDUCE_AMAX, 0, {4, 4, 3, 4, 10, 10}},
      {SK_REDUCE_AMIN, 1, {1, 2, 3, 4, 5, 6}},
      {SK_REDUCE_AMIN, 0, {2, 2, 3, 4, 10, 10}},
  };
  for (auto& c : cases) {
    for (int impl = 0; impl < 2; ++impl) {
      std::vector<float> s = self0;
      int st = impl ? sk_index_reduce_host(SK_F32, s.data(), 3, 2, idx.data(), 3, src.data(), c.reduce, c.incl)
                    : sk_index_reduce_ref(SK_F32, s.data(), 3, 2, idx.data(), 3, src.data(), c.reduce, c.incl);
      CHECK(st == 0, "status");
      for (int i = 0; i < 6; ++i)
        CHECK(s[i] == c.want[i], "%s reduce=%d include_self=%d [%d]: got %g want %g", impl ? "host-impl" : "ref",
              c.reduce, c.incl, i, s[i], c.want[i]);
    }
  }
  // NaN propagation for amax/amin (from source and from self when included)
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int impl = 0; impl < 2; ++impl)
    for (int reduce : {SK_REDUCE_AMAX, SK_REDUCE_AMIN})
      for (int incl : {0, 1}) {
        std::vector<float> s = {nan, 1};
        std::vector<float> sr = {5, nan, 7, 3};
        std::vector<int64_t> ix = {0, 0};
        auto fn = impl ? sk_index_reduce_host : sk_index_reduce_ref;
        fn(SK_F32, s.data(), 1, 2, ix.data(), 2, sr.data(), reduce, incl);
        CHECK(incl ? std::isnan(s[0]) : s[0] == (reduce == SK_REDUCE_AMAX ? 7.f : 5.f), "nan self col0 impl=%d", impl);
        CHECK(std::isnan(s[1]), "nan src col1 impl=%d", impl);
      }
  // the ABI's combine order: groups of SK_INDEX_REDUCE_GROUP source rows. 258 rows
  // into one target: group 0 = rows 0..255 (1, then zeros), group 1 = rows 256, 257
  // (2^-24 each). In groups: 1 + (2^-24 + 2^-24) = 1 + 2^-23; strictly in order
  // 1 + 2^-24 rounds to 1 twice. mean = sum / 258.
  {
    const int64_t n = SK_INDEX_REDUCE_GROUP + 2;
    std::vector<float> sr(n, 0.f);
    sr[0] = 1.f;
    sr[n - 2] = sr[n - 1] = 0x1p-24f;
    std::vector<int64_t> ix(n, 0);
    const float want = (1.f + 0x1p-23f) / (float)n;
    const float in_order = 1.f / (float)n;
    CHECK(want != in_order, "test values distinguish the orders");
    for (int impl = 0; impl < 2; ++impl) {
      std::vector<float> s1 = {5.f};
      auto fn = impl ? sk_index_reduce_host : sk_index_reduce_ref;
      CHECK(fn(SK_F32, s1.data(), 1, 1, ix.data(), n, sr.data(), SK_REDUCE_MEAN, 0) == 0, "status");
      CHECK(s1[0] == want, "%s: grouped mean order: got %a want %a (strict order gives %a)", impl ? "host-impl" : "ref",
            s1[0], want, in_order);
    }
  }
  // out-of-range index rejected
  std::vector<float> s = {1, 2};
  std::vector<int64_t> bad = {3};
  std::vector<float> sr = {1, 1};
  CHECK(sk_index_reduce_ref(SK_F32, s.data(), 1, 2, bad.data(), 1, sr.data(), 0, 1) == SK_ERR_INVALID, "ref oob");
  CHECK(sk_index_reduce_host(SK_F32, s.data(), 1, 2, bad.data(), 1, sr.data(), 0, 1) == SK_ERR_INVALID, "host oob");
}

static void test_index_reduce_random() {
  std::mt19937 rng(42);
  struct Shape { int64_t rows, cols, n; } shapes[] = {{1, 1, 1}, {7, 3, 20}, {64, 16, 200}, {300, 9, 50}, {17, 128, 1000}, {5, 8, 0},
                                           {3, 5, 1500}, {2, 16, 2000}};  // long segments: several groups
  int cases = 0;
  for (auto sh : shapes)
    for (int dt : {SK_F32, SK_F16, SK_BF16})
      for (int reduce = 0; reduce < 4; ++reduce)
        for (int incl = 0; incl < 2; ++incl)
          for (int nan_mode = 0; nan_mode < 2; ++nan_mode) {
            std::uniform_real_distribution<float> ud(reduce == SK_REDUCE_PROD ? 0.5f : -4.f, reduce == SK_REDUCE_PROD ? 1.5f : 4.f);
            std::vector<float> self(sh.rows * sh.cols), src(sh.n * sh.cols);
            for (auto& x : self) x = ud(rng);
            for (auto& x : src) x = ud(rng);
            if (nan_mode) {
              for (int k = 0; k < 3 && !src.empty(); ++k) src[rng() % src.size()] = std::numeric_limits<float>::quiet_NaN();
              self[rng() % self.size()] = std::numeric_limits<float>::quiet_NaN();
              if (!src.empty()) src[rng() % src.size()] = std::numeric_limits<float>::infinity();
            }
            std::vector<int64_t> idx(sh.n);
            for (auto& i : idx) i = (int64_t)(rng() % (uint32_t)std::max<int64_t>(1, sh.rows / 2 + 1));  // leaves rows untouched
            std::vector<uint8_t> sb, srcb;
            fill_dtype(dt, self, sb);
            fill_dtype(dt, src, srcb);
            std::vector<uint8_t> a = sb, b = sb;
            CHECK(sk_index_reduce_host(dt, a.data(), sh.rows, sh.cols, idx.data(), sh.n, srcb.data(), reduce, incl) == 0, "host");
            CHECK(sk_index_reduce_ref(dt, b.data(), sh.rows, sh.cols, idx.data(), sh.n, srcb.data(), reduce, incl) == 0, "ref");
            auto fa = to_f32(dt, a), fb = to_f32(dt, b);
            size_t bad = 0, first = 0;
            for (size_t i = 0; i < fa.size(); ++i)
              if (!same_f32(f2u(fa[i]), f2u(fb[i]))) { if (!bad++) first = i; }
            CHECK(bad == 0, "index_reduce dt=%d reduce=%d include_self=%d shape=(%lld,%lld,%lld) nan=%d: %zu mismatches, first [%zu] impl=%g ref=%g",
                  dt, reduce, incl, (long long)sh.rows, (long long)sh.cols, (long long)sh.n, nan_mode, bad, first,
                  bad ? fa[first] : 0.f, bad ? fb[first] : 0.f);
            // untouched rows keep self bit-exactly
            ++cases;
          }
  std::printf("index_reduce random cases: %d\n", cases);
}

// ------------------------------------------------------------------ attention
struct AttnCase {
  int dtype, H, Hk, D;
  std::vector<int> lq, lk, used;  // used: seqused_k or empty
  int causal, wl, wr;
  int page_size;                  // 0 = not paged
};

static double naive_attention(const AttnCase& c, const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, const std::vector<int>& cuq, const std::vector<int>& cuk,
                              std::vector<double>& out, std::vector<double>& lse, int total_q) {
  const int H = c.H, Hk = c.Hk, D = c.D, G = H / Hk;
  const double scale = 1.0 / std::sqrt((double)D);
  out.assign((size_t)total_q * H * D, 0.0);
  lse.assign((size_t)H * total_q, INFINITY);
  for (size_t b = 0; b < c.lq.size(); ++b) {
    const int Lq = c.lq[b];
    const int Lk = c.used.empty() ? c.lk[b] : c.used[b];
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < Lq; ++i) {
        std::vector<double> s(Lk, -INFINITY);
        double mx = -INFINITY;
        for (int j = 0; j < Lk; ++j) {
          const int off = Lk - Lq;
          if (c.causal && j > i + off) continue;
          if (c.wr >= 0 && j > i + off + c.wr) continue;
          if (c.wl >= 0 && j < i + off - c.wl) continue;
          double acc = 0;
          for (int d = 0; d < D; ++d)
            acc += (double)q[((size_t)(cuq[b] + i) * H + h) * D + d] * (double)k[((size_t)(cuk[b] + j) * Hk + h / G) * D + d];
          s[j] = acc * scale;
          mx = std::max(mx, s[j]);
        }
        if (mx == -INFINITY) continue;
        double sum = 0;
        for (int j = 0; j < Lk; ++j) if (s[j] != -INFINITY) sum += std::exp(s[j] - mx);
        for (int j = 0; j < Lk; ++j) {
          if (s[j] == -INFINITY) continue;
          const double p = std::exp(s[j] - mx) / sum;
          for (int d = 0; d < D; ++d) out[((size_t)(cuq[b] + i) * H + h) * D + d] += p * v[((size_t)(cuk[b] + j) * Hk + h / G) * D + d];
        }
        lse[(size_t)h * total_q + cuq[b] + i] = mx + std::log(sum);
      }
  }
  return 0;
}

static void run_attn_case(const AttnCase& c, std::mt19937& rng, const char* name) {
  const int B = (int)c.lq.size(), H = c.H, Hk = c.Hk, D = c.D;
  std::vector<int> cuq(B + 1, 0), cuk(B + 1, 0);
  for (int b = 0; b < B; ++b) { cuq[b + 1] = cuq[b] + c.lq[b]; cuk[b + 1] = cuk[b] + c.lk[b]; }
  const int total_q = cuq[B], total_k = cuk[B];
  std::normal_distribution<float> nd(0.f, 1.f);
  auto rnd = [&](size_t n) { std::vector<float> x(n); for (auto& e : x) e = nd(rng); return x; };
  std::vector<float> qf = rnd((size_t)total_q * H * D), kf = rnd((size_t)total_k * Hk * D), vf = rnd((size_t)total_k * Hk * D);
  // keys beyond seqused_k hold NaN: they must never be read
  if (!c.used.empty())
    for (int b = 0; b < B; ++b)
      for (int j = c.used[b]; j < c.lk[b]; ++j)
        for (int e = 0; e < Hk * D; ++e) { kf[((size_t)(cuk[b] + j)) * Hk * D + e] = NAN; vf[((size_t)(cuk[b] + j)) * Hk * D + e] = NAN; }
  std::vector<uint8_t> qb, kb, vb;
  fill_dtype(c.dtype, qf, qb); fill_dtype(c.dtype, kf, kb); fill_dtype(c.dtype, vf, vb);
  // the naive computation uses the rounded inputs
  qf = to_f32(c.dtype, qb); kf = to_f32(c.dtype, kb); vf = to_f32(c.dtype, vb);
  std::vector<double> want, want_lse;
  naive_attention(c, qf, kf, vf, cuq, cuk, want, want_lse, total_q);

  sk_attn_params p{};
  p.dtype = c.dtype; p.batch = B; p.num_heads = H; p.num_heads_kv = Hk; p.head_dim = D;
  p.total_q = total_q; p.total_k = total_k;
  for (int b = 0; b < B; ++b) { p.max_seqlen_q = std::max(p.max_seqlen_q, c.lq[b]); p.max_seqlen_k = std::max(p.max_seqlen_k, c.lk[b]); }
  p.causal = c.causal; p.window_left = c.wl; p.window_right = c.wr;
  p.q = qb.data(); p.cu_seqlens_q = cuq.data(); p.cu_seqlens_k = cuk.data();
  p.seqused_k = c.used.empty() ? nullptr : c.used.data();
  std::vector<uint8_t> kc, vc;
  std::vector<int> table;
  if (c.page_size) {
    // scatter every sequence's keys into shuffled pages of a cache
    int maxp = 0;
    for (int b = 0; b < B; ++b) maxp = std::max(maxp, (c.lk[b] + c.page_size - 1) / c.page_size);
    maxp = std::max(maxp, 1);
    const int num_pages = B * maxp + 3;
    std::vector<int> perm(num_pages);
    for (int i = 0; i < num_pages; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    table.assign((size_t)B * maxp, -1);
    const size_t es = c.dtype == SK_F32 ? 4 : 2, row = (size_t)Hk * D * es;
    kc.assign((size_t)num_pages * c.page_size * row, 0xff);  // 0xffff = NaN in f16/bf16: poison
    vc.assign(kc.size(), 0xff);
    int used_pages = 0;
    for (int b = 0; b < B; ++b)
      for (int pg = 0; pg < maxp; ++pg) table[(size_t)b * maxp + pg] = perm[used_pages++];
    for (int b = 0; b < B; ++b) {
      const int Lk = c.used.empty() ? c.lk[b] : c.used[b];
      for (int j = 0; j < Lk; ++j) {
        const int page = table[(size_t)b * maxp + j / c.page_size];
        std::memcpy(&kc[((size_t)page * c.page_size + j % c.page_size) * row], &kb[(size_t)(cuk[b] + j) * row], row);
        std::memcpy(&vc[((size_t)page * c.page_size + j % c.page_size) * row], &vb[(size_t)(cuk[b] + j) * row], row);
      }
    }
    p.k_cache = kc.data(); p.v_cache = vc.data(); p.page_table = table.data();
    p.num_pages = num_pages; p.page_size = c.page_size; p.max_pages_per_seq = maxp;
    p.max_seqlen_k = std::max(p.max_seqlen_k, 1);
    if (p.max_seqlen_k > maxp * c.page_size) p.max_seqlen_k = maxp * c.page_size;
    if (c.used.empty()) p.seqused_k = nullptr;  // lengths from cu_seqlens_k
  } else {
    p.k = kb.data(); p.v = vb.data();
  }
  std::vector<uint8_t> ob((size_t)total_q * H * D * 2, 0xff);  // poisoned
  std::vector<float> lse((size_t)H * total_q, NAN);
  p.out = ob.data(); p.lse = lse.data();
  int st = sk_varlen_attn_ref(&p);
  CHECK(st == 0, "%s: ref status %d: %s", name, st, sk_last_error());
  auto got = to_f32(c.dtype, ob);
  double num = 0, den = 0, maxerr = 0;
  size_t nan_count = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i])) { ++nan_count; continue; }
    const double e = got[i] - want[i];
    num += e * e; den += want[i] * want[i];
    maxerr = std::max(maxerr, std::fabs(e));
  }
  const double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  CHECK(nan_count == 0, "%s: %zu NaN/unwritten outputs", name, nan_count);
  CHECK(rel < 8e-3, "%s: rel err %g (max abs %g)", name, rel, maxerr);
  size_t lse_bad = 0;
  for (size_t i = 0; i < lse.size(); ++i) {
    if (std::isinf(want_lse[i])) lse_bad += !(std::isinf(lse[i]) && lse[i] > 0);
    else lse_bad += !(std::fabs(lse[i] - want_lse[i]) < 1e-3 * (1 + std::fabs(want_lse[i])));
  }
  CHECK(lse_bad == 0, "%s: %zu lse mismatches", name, lse_bad);
}

static void test_attention() {
  std::mt19937 rng(7);
  std::vector<std::pair<AttnCase, const char*>> cases = {
      {{SK_BF16, 2, 2, 64, {5, 17}, {5, 17}, {}, 0, -1, -1, 0}, "basic"},
      {{SK_F16, 4, 1, 64, {9, 3, 20}, {12, 3, 33}, {}, 1, -1, -1, 0}, "mqa causal Lq<Lk"},
      {{SK_BF16, 4, 2, 128, {20, 7}, {6, 7}, {}, 1, -1, -1, 0}, "gqa causal Lq>Lk (empty rows)"},
      {{SK_BF16, 2, 1, 64, {16, 30}, {40, 30}, {}, 0, 5, 3, 0}, "window (5,3)"},
      {{SK_F16, 2, 2, 64, {16, 30}, {40, 30}, {}, 1, 4, -1, 0}, "causal + left window"},
      {{SK_BF16, 2, 1, 64, {8, 12, 4}, {40, 30, 10}, {25, 0, 10}, 1, -1, -1, 0}, "seqused_k (NaN tail)"},
      {{SK_BF16, 4, 2, 64, {3, 1, 6}, {50, 37, 18}, {}, 1, -1, -1, 16}, "paged 16"},
      {{SK_F16, 2, 2, 128, {1, 1, 1}, {70, 33, 0}, {64, 20, 0}, 0, -1, -1, 32}, "paged decode + seqused"},
      {{SK_BF16, 2, 2, 64, {0, 5, 0}, {4, 0, 0}, {}, 0, -1, -1, 0}, "empty sequences"},
      {{SK_BF16, 2, 2, 256, {6}, {9}, {}, 1, 2, 0, 0}, "d256 window"},
      {{SK_BF16, 2, 2, 64, {}, {}, {}, 0, -1, -1, 0}, "zero batch"},
  };
  for (auto& [c, name] : cases) run_attn_case(c, rng, name);

  // paged == non-paged bit-exactly (same float math), random pages
  // parameter validation
  sk_attn_params p{};
  p.dtype = SK_BF16; p.batch = 1; p.num_heads = 4; p.num_heads_kv = 3; p.head_dim = 64;
  int cu[2] = {0, 1};
  uint16_t dummy[64];
  p.cu_seqlens_q = cu; p.cu_seqlens_k = cu; p.q = dummy; p.k = dummy; p.v = dummy; p.out = dummy; p.total_q = 1; p.total_k = 1;
  p.max_seqlen_q = 1; p.max_seqlen_k = 1;
  CHECK(sk_varlen_attn_check_params(&p) == SK_ERR_INVALID, "H %% Hk");
  p.num_heads_kv = 2; p.head_dim = 96;
  CHECK(sk_varlen_attn_check_params(&p) == SK_ERR_UNSUPPORTED, "head_dim 96");
  p.head_dim = 64; p.dtype = SK_F32;
  CHECK(sk_varlen_attn_check_params(&p) == SK_ERR_UNSUPPORTED, "f32");
  p.dtype = SK_BF16;
  CHECK(sk_varlen_attn_check_params(&p) == SK_OK, "ok params: %s", sk_last_error());
  int table[1] = {0};
  p.k = nullptr; p.v = nullptr; p.k_cache = dummy; p.v_cache = dummy; p.page_table = table; p.num_pages = 1;
  p.max_pages_per_seq = 1; p.page_size = 8;
  CHECK(sk_varlen_attn_check_params(&p) == SK_ERR_UNSUPPORTED, "page size 8");
  CHECK(std::string(sk_last_error()).find("page_size 8") != std::string::npos, "clear message: %s", sk_last_error());
  p.page_size = 16;
  CHECK(sk_varlen_attn_check_params(&p) == SK_OK, "page 16: %s", sk_last_error());
  p.k = dummy;
  CHECK(sk_varlen_attn_check_params(&p) == SK_ERR_UNSUPPORTED, "k and k_cache both");
}

// --------------------------------------------------------------------- timing
struct FakeEv { bool complete; bool timing; float t_ms; };
struct FakeBackend {
  int syncs = 0;
  std::vector<std::string> log;
  sk::timing::Ev synchronize(FakeEv* e) { ++syncs; log.push_back("sync"); e->complete = true; return sk::timing::Ev::Ok; }
  sk::timing::Ev elapsed_ms(FakeEv* s, FakeEv* e, float* ms) {
    log.push_back("elapsed");
    if (!s->timing || !e->timing) return sk::timing::Ev::NoTiming;
    if (!s->complete || !e->complete) return sk::timing::Ev::NotReady;
    *ms = e->t_ms - s->t_ms;
    return sk::timing::Ev::Ok;
  }
};

static void test_timing_logic() {
  using namespace sk::timing;
  std::string err;
  double us = -1;
  {  // end not complete yet: library must synchronise before reading
    FakeBackend be; FakeEv s{true, true, 1.0f}, e{false, true, 1.5f};
    CHECK(read_elapsed_us(be, &s, &e, &us, &err) == 0, "not-ready end: %s", err.c_str());
    CHECK(std::fabs(us - 500.0) < 1e-3, "elapsed %g", us);
    CHECK(!be.log.empty() && be.log[0] == "sync", "must synchronise before reading");
  }
  {  // start recorded on another stream that is behind: retry after syncing start
    FakeBackend be; FakeEv s{false, true, 2.0f}, e{false, true, 3.0f};
    CHECK(read_elapsed_us(be, &s, &e, &us, &err) == 0, "not-ready start: %s", err.c_str());
    CHECK(std::fabs(us - 1000.0) < 1e-3, "elapsed %g", us);
  }
  {  // disabled timing is rejected, not reported as a time
    FakeBackend be; FakeEv s{true, false, 0}, e{true, false, 0};
    us = -1;
    CHECK(read_elapsed_us(be, &s, &e, &us, &err) == 5, "disabled timing must fail");
    CHECK(err.find("DisableTiming") != std::string::npos, "message: %s", err.c_str());
    CHECK(us == -1, "no time written");
  }
  {  // end before start (events on different streams, reversed order)
    FakeBackend be; FakeEv s{true, true, 5.0f}, e{true, true, 4.0f};
    CHECK(read_elapsed_us(be, &s, &e, &us, &err) == 5, "negative interval must fail");
  }
  CHECK(classify_capture(true, 0, &err) == 5 && err.find("different stream") != std::string::npos, "zero nodes");
  CHECK(classify_capture(true, 3, &err) == 0, "nodes ok");
  CHECK(classify_capture(false, 0, &err) == 5, "capture failed");
  float samples[] = {5, 1, 4, 2, 3};
  Stats st = summarize(samples, 5);
  CHECK(st.median == 3 && st.min == 1 && st.max == 5 && st.mean == 3, "stats");
  CHECK(std::fabs(st.p10 - 1.4) < 1e-9 && std::fabs(st.p90 - 4.6) < 1e-9, "percentiles %g %g", st.p10, st.p90);
  sk_timing_stats cs;
  CHECK(sk_timing_summarize(samples, 5, &cs) == 0 && cs.median_us == 3 && std::fabs(cs.spread - 3.2 / 3) < 1e-9, "C summarize");
  float even[] = {1, 2, 3, 4};
  CHECK(summarize(even, 4).median == 2.5, "even median");
}

static void test_abi() {
  CHECK(sk_abi_version() == SK_ABI_VERSION, "abi version");
  const int avail = sk_cuda_available();  // must not crash without a driver
  CHECK(avail == 0 || avail == 1, "cuda_available %d", avail);
  if (!sk_built_with_cuda()) {
    CHECK(avail == 0, "cpu build reports no cuda");
    float x = 1; uint16_t y;
    CHECK(sk_convert(SK_F32, &x, SK_BF16, &y, 1, nullptr) == SK_ERR_NO_CUDA, "cpu build convert");
  }
  std::printf("built_with_cuda=%d cuda_available=%d\n", sk_built_with_cuda(), avail);
}

int main() {
  test_abi();
  test_convert_hand();
  test_convert_impl_vs_ref();
  test_index_reduce_hand();
  test_index_reduce_random();
  test_attention();
  test_timing_logic();
  std::printf("%d checks, %d failures\n", g_checks, g_fail);
  return g_fail ? 1 : 0;
}
