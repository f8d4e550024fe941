// sheriff_timing.h -- C++ API of the CUDA event timing library used by every
// benchmark (C ABI: sk_time_launches & co. in sheriff_kernels.h).
//
//   sk::TimingOptions o; o.warmup = 10; o.reps = 100; o.flush_bytes = 256 << 20;
//   std::vector<float> us;
//   int st = sk::time_launches(stream, [&](int rep) { my_kernel<<<g, b, 0, stream>>>(...); return 0; }, o, us);
//   sk::timing::Stats s = sk::timing::summarize(us.data(), (int)us.size());
//
// Guarantees: events are recorded on `stream`, the same stream handed to the
// callback; each rep gets its own start/end events (no per-rep host sync);
// every end event is synchronised before it is read; an L2 flush (memset of a
// flush_bytes buffer) runs on the stream before every start event; with
// verify_stream a captured call must put work on `stream`.
#pragma once
#include <functional>
#include <vector>
#include "sheriff_kernels.h"
#include "sk_timing_logic.h"

#if defined(SHERIFF_KERNELS_WITH_CUDA)
#include <cuda_runtime_api.h>
namespace sk {
struct TimingOptions {
  int warmup = 5;
  int reps = 50;
  size_t flush_bytes = 0;
  bool verify_stream = false;
  int hold_us = 0;
};
// Returns an sk_status; samples_us gets `reps` samples in microseconds.
SK_API int time_launches(cudaStream_t stream, const std::function<int(int rep)>& fn,
                  const TimingOptions& opts, std::vector<float>& samples_us);
// Elapsed time between two events, synchronising and rejecting misuse.
SK_API int event_elapsed_us(cudaEvent_t start, cudaEvent_t end, double* us);
}  // namespace sk
#endif
