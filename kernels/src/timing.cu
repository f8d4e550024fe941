// timing.cu -- CUDA event timing library (see include/sheriff_timing.h).
#include <memory>
#include <mutex>
#include "cuda_common.cuh"
#include "sheriff_timing.h"

namespace {

struct CudaEvBackend {
  static sk::timing::Ev map(cudaError_t e) {
    if (e == cudaSuccess) return sk::timing::Ev::Ok;
    cudaGetLastError();
    if (e == cudaErrorNotReady) return sk::timing::Ev::NotReady;
    if (e == cudaErrorInvalidResourceHandle) return sk::timing::Ev::NoTiming;
    return sk::timing::Ev::Error;
  }
  sk::timing::Ev synchronize(cudaEvent_t e) { return map(cudaEventSynchronize(e)); }
  sk::timing::Ev elapsed_ms(cudaEvent_t s, cudaEvent_t e, float* ms) { return map(cudaEventElapsedTime(ms, s, e)); }
};

__global__ void spin_kernel(unsigned long long ns) {
  unsigned long long t0, t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); } while (t - t0 < ns);
}

// one cached flush buffer (grown on demand)
std::mutex g_flush_mu;
void* g_flush = nullptr;
size_t g_flush_bytes = 0;

}  // namespace

namespace sk {

int event_elapsed_us(cudaEvent_t start, cudaEvent_t end, double* us) {
  if (!start || !end || !us) return set_error(SK_ERR_INVALID, "event_elapsed_us: null argument");
  CudaEvBackend be;
  std::string err;
  int st = timing::read_elapsed_us(be, start, end, us, &err);
  if (st) return set_error(st, "event_elapsed_us: %s", err.c_str());
  return SK_OK;
}

int time_launches(cudaStream_t stream, const std::function<int(int)>& fn, const TimingOptions& o,
                  std::vector<float>& samples) {
  if (int st = require_cuda()) return st;
  if (o.reps <= 0 || o.warmup < 0) return set_error(SK_ERR_INVALID, "time_launches: reps must be > 0, warmup >= 0");
  void* flush = nullptr;
  if (o.flush_bytes > 0) {
    std::lock_guard<std::mutex> lk(g_flush_mu);
    if (g_flush_bytes < o.flush_bytes) {
      if (g_flush) cudaFree(g_flush);
      g_flush = nullptr;
      g_flush_bytes = 0;
      SK_CUDA_TRY(cudaMalloc(&g_flush, o.flush_bytes));
      g_flush_bytes = o.flush_bytes;
    }
    flush = g_flush;
  }
  for (int w = 0; w < o.warmup; ++w) {
    if (int st = fn(-1 - w)) return set_error(SK_ERR_TIMING, "time_launches: callback failed in warm-up (%d)", st);
  }
  SK_CUDA_TRY(cudaGetLastError());
  if (o.verify_stream) {
    if (stream == nullptr)
      return set_error(SK_ERR_TIMING, "time_launches: verify_stream needs a non-default stream");
    SK_CUDA_TRY(cudaStreamSynchronize(stream));
    cudaGraph_t graph = nullptr;
    bool ok = cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed) == cudaSuccess;
    int cb = ok ? fn(-1000000) : 0;
    ok = (cudaStreamEndCapture(stream, &graph) == cudaSuccess) && ok && cb == 0;
    size_t nodes = 0;
    if (ok && graph) ok = cudaGraphGetNodes(graph, nullptr, &nodes) == cudaSuccess;
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    std::string err;
    if (int st = timing::classify_capture(ok, nodes, &err)) return set_error(st, "time_launches: %s", err.c_str());
    SK_CUDA_TRY(cudaDeviceSynchronize());  // work sent to other streams during capture ran for real
  }
  std::vector<cudaEvent_t> ev(2 * (size_t)o.reps, nullptr);
  auto cleanup = [&]() { for (auto e : ev) if (e) cudaEventDestroy(e); };
  for (auto& e : ev) {
    cudaError_t ce = cudaEventCreate(&e);  // default flags: timing enabled
    if (ce != cudaSuccess) { cleanup(); return set_error(SK_ERR_CUDA, "cudaEventCreate: %s", cudaGetErrorString(ce)); }
  }
  if (o.hold_us > 0) spin_kernel<<<1, 1, 0, stream>>>((unsigned long long)o.hold_us * 1000ull);
  for (int r = 0; r < o.reps; ++r) {
    if (flush) cudaMemsetAsync(flush, r & 0xff, o.flush_bytes, stream);
    cudaEventRecord(ev[2 * r], stream);
    int st = fn(r);
    cudaEventRecord(ev[2 * r + 1], stream);
    if (st) { cudaStreamSynchronize(stream); cleanup(); return set_error(SK_ERR_TIMING, "time_launches: callback failed at rep %d (%d)", r, st); }
  }
  cudaError_t le = cudaGetLastError();
  if (le != cudaSuccess) { cleanup(); return set_error(SK_ERR_CUDA, "time_launches: %s", cudaGetErrorString(le)); }
  samples.assign(o.reps, 0.f);
  CudaEvBackend be;
  for (int r = 0; r < o.reps; ++r) {
    double us = 0;
    std::string err;
    int st = timing::read_elapsed_us(be, ev[2 * r], ev[2 * r + 1], &us, &err);
    if (st) { cleanup(); return set_error(st, "time_launches: rep %d: %s", r, err.c_str()); }
    samples[r] = (float)us;
  }
  cleanup();
  return SK_OK;
}

}  // namespace sk

extern "C" {
SK_API int sk_time_launches(void* stream, sk_launch_fn fn, void* user, const sk_timing_options* opts,
                            float* samples_us) {
  if (!fn || !opts || !samples_us) return sk::set_error(SK_ERR_INVALID, "sk_time_launches: null argument");
  sk::TimingOptions o;
  o.warmup = opts->warmup;
  o.reps = opts->reps;
  o.flush_bytes = opts->flush_bytes > 0 ? (size_t)opts->flush_bytes : 0;
  o.verify_stream = opts->verify_stream != 0;
  o.hold_us = opts->hold_us;
  std::vector<float> s;
  int st = sk::time_launches((cudaStream_t)stream, [&](int rep) { return fn(user, rep, stream); }, o, s);
  if (st) return st;
  for (size_t i = 0; i < s.size(); ++i) samples_us[i] = s[i];
  return SK_OK;
}
SK_API int sk_event_elapsed_us(void* start, void* end, double* us) {
  return sk::event_elapsed_us((cudaEvent_t)start, (cudaEvent_t)end, us);
}
SK_API int sk_spin_kernel(void* stream, double us) {
  if (int st = sk::require_cuda()) return st;
  spin_kernel<<<1, 1, 0, (cudaStream_t)stream>>>((unsigned long long)(us * 1000.0));
  SK_LAUNCH_CHECK("spin_kernel");
  return SK_OK;
}
}
