// Host-side parts of the timing C ABI (both builds).
#include "common.h"
#include "sk_timing_logic.h"

extern "C" {
SK_API void sk_timing_default_options(sk_timing_options* o) {
  if (!o) return;
  o->warmup = 5; o->reps = 50; o->flush_bytes = 0; o->verify_stream = 0; o->hold_us = 0;
}
SK_API int sk_timing_summarize(const float* s, int32_t n, sk_timing_stats* out) {
  if (!out || (n > 0 && !s)) return sk::set_error(SK_ERR_INVALID, "sk_timing_summarize: null pointer");
  sk::timing::Stats st = sk::timing::summarize(s, n);
  out->n = st.n; out->median_us = st.median; out->mean_us = st.mean; out->min_us = st.min;
  out->max_us = st.max; out->p10_us = st.p10; out->p90_us = st.p90; out->stdev_us = st.stdev;
  out->spread = st.spread;
  return SK_OK;
}
}
