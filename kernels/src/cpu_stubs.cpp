// cpu_stubs.cpp -- GPU entry points of a CPU-only build (SHERIFF_KERNELS_CUDA=OFF):
// they exist so the ABI is complete, and report SK_ERR_NO_CUDA.
#include "common.h"
#include "sk_timing_logic.h"

#define NO_CUDA(name) sk::set_error(SK_ERR_NO_CUDA, "%s: library built without CUDA", name)

extern "C" {
SK_API int sk_built_with_cuda(void) { return 0; }
SK_API int sk_cuda_available(void) { return 0; }
SK_API int sk_stream_synchronize(void*) { return NO_CUDA("sk_stream_synchronize"); }
SK_API int sk_malloc(void** p, size_t) { if (p) *p = nullptr; return NO_CUDA("sk_malloc"); }
SK_API int sk_free(void* p) { return p ? NO_CUDA("sk_free") : SK_OK; }
SK_API int sk_memcpy_h2d(void*, const void*, size_t) { return NO_CUDA("sk_memcpy_h2d"); }
SK_API int sk_memcpy_d2h(void*, const void*, size_t) { return NO_CUDA("sk_memcpy_d2h"); }
SK_API int sk_varlen_attn_fwd(const sk_attn_params* p, void*) {
  if (int st = sk_varlen_attn_check_params(p)) return st;
  return NO_CUDA("sk_varlen_attn_fwd");
}
SK_API int sk_varlen_attn_fwd_alloc(const sk_attn_params* p, int, void** o, float** l, void*) {
  if (o) *o = nullptr;
  if (l) *l = nullptr;
  if (int st = sk_varlen_attn_check_params(p)) return st;
  return NO_CUDA("sk_varlen_attn_fwd_alloc");
}
SK_API int sk_index_reduce(int, void*, int64_t, int64_t, const int64_t*, int64_t, const void*, int, int, void*) {
  return NO_CUDA("sk_index_reduce");
}
SK_API int sk_convert(int, const void*, int, void*, int64_t, void*) { return NO_CUDA("sk_convert"); }
SK_API int sk_time_launches(void*, sk_launch_fn, void*, const sk_timing_options*, float*) {
  return NO_CUDA("sk_time_launches");
}
SK_API int sk_event_elapsed_us(void*, void*, double*) { return NO_CUDA("sk_event_elapsed_us"); }
SK_API int sk_spin_kernel(void*, double) { return NO_CUDA("sk_spin_kernel"); }
}
