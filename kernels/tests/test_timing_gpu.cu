// test_timing_gpu.cu -- GPU tests of the timing library against the classic bugs.
// Exit 77 (ctest SKIP) when no device is present.
#include <cstdio>
#include <string>
#include <vector>
#include <cuda_runtime.h>
#include "sheriff_timing.h"

static int fails = 0;
#define EXPECT(c, ...) do { if (!(c)) { ++fails; std::printf("FAIL %s:%d %s: ", __FILE__, __LINE__, #c); std::printf(__VA_ARGS__); std::printf("\n"); } } while (0)

int main() {
  if (!sk_cuda_available()) { std::printf("no CUDA device: skipped\n"); return 77; }
  cudaStream_t s, other;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking);
  const double spin_us = 2000;

  // 1. correct use: the measured time of a 2 ms kernel is ~2 ms
  {
    sk::TimingOptions o; o.warmup = 2; o.reps = 10; o.flush_bytes = 64 << 20; o.verify_stream = true;
    std::vector<float> us;
    int st = sk::time_launches(s, [&](int) { return sk_spin_kernel(s, spin_us); }, o, us);
    EXPECT(st == 0, "status %d %s", st, sk_last_error());
    auto stats = sk::timing::summarize(us.data(), (int)us.size());
    std::printf("correct stream: median %.1f us (spread %.3f)\n", stats.median, stats.spread);
    EXPECT(stats.median > 0.95 * spin_us && stats.median < 1.10 * spin_us, "median %.1f", stats.median);
  }
  // 2. kernel launched on a different stream than the events
  {
    sk::TimingOptions o; o.warmup = 1; o.reps = 5; o.verify_stream = false;
    std::vector<float> us;
    int st = sk::time_launches(s, [&](int) { return sk_spin_kernel(other, spin_us); }, o, us);
    cudaDeviceSynchronize();
    auto stats = sk::timing::summarize(us.data(), (int)us.size());
    std::printf("wrong stream, unverified: median %.1f us (the silent bug)\n", stats.median);
    EXPECT(st == 0 && stats.median < 0.5 * spin_us, "wrong-stream demo measured %.1f", stats.median);
    o.verify_stream = true;
    st = sk::time_launches(s, [&](int) { return sk_spin_kernel(other, spin_us); }, o, us);
    cudaDeviceSynchronize();
    std::printf("wrong stream, verified: status %d: %s\n", st, sk_last_error());
    EXPECT(st == SK_ERR_TIMING && std::string(sk_last_error()).find("different stream") != std::string::npos,
           "verify_stream must reject: %d %s", st, sk_last_error());
  }
  // 3. reading an event before it completed
  {
    cudaEvent_t a, b;
    cudaEventCreate(&a); cudaEventCreate(&b);
    cudaEventRecord(a, s);
    sk_spin_kernel(s, 50000);
    cudaEventRecord(b, s);
    float ms = 0;
    cudaError_t raw = cudaEventElapsedTime(&ms, a, b);
    cudaGetLastError();
    std::printf("raw cudaEventElapsedTime before completion: %s\n", cudaGetErrorString(raw));
    EXPECT(raw == cudaErrorNotReady, "scenario did not reproduce: %s", cudaGetErrorString(raw));
    double us = 0;
    int st = sk::event_elapsed_us(a, b, &us);
    std::printf("library: status %d, %.1f us\n", st, us);
    EXPECT(st == 0 && us > 45000 && us < 60000, "library read %d %.1f", st, us);
    cudaEventDestroy(a); cudaEventDestroy(b);
  }
  // 4. events created with cudaEventDisableTiming
  {
    cudaEvent_t a, b;
    cudaEventCreateWithFlags(&a, cudaEventDisableTiming);
    cudaEventCreateWithFlags(&b, cudaEventDisableTiming);
    cudaEventRecord(a, s);
    sk_spin_kernel(s, 100);
    cudaEventRecord(b, s);
    double us = -1;
    int st = sk::event_elapsed_us(a, b, &us);
    std::printf("disabled-timing events: status %d: %s\n", st, sk_last_error());
    EXPECT(st == SK_ERR_TIMING && us == -1, "must reject disabled-timing events");
    cudaStreamSynchronize(s);
    cudaEventDestroy(a); cudaEventDestroy(b);
  }
  // 5. C ABI path with user data and hold
  {
    sk_timing_options o; sk_timing_default_options(&o); o.reps = 5; o.hold_us = 1000; o.verify_stream = 1;
    std::vector<float> us(5);
    struct U { cudaStream_t s; } u{s};
    auto fn = [](void* user, int, void* stream) -> int { return stream == ((U*)user)->s ? sk_spin_kernel(stream, 300) : 99; };
    int st = sk_time_launches((void*)s, fn, &u, &o, us.data());
    sk_timing_stats stt; sk_timing_summarize(us.data(), 5, &stt);
    std::printf("C ABI: status %d median %.1f us\n", st, stt.median_us);
    EXPECT(st == 0 && stt.median_us > 280 && stt.median_us < 340, "C ABI %d %.1f %s", st, stt.median_us, sk_last_error());
  }
  std::printf("%s (%d failures)\n", fails ? "FAILED" : "OK", fails);
  return fails ? 1 : 0;
}
