// sk_timing_logic.h -- the event-handling decisions of the timing library,
// written against an abstract event backend so they can be unit-tested on a
// machine without a GPU (tests/test_cpu.cpp drives them with a fake backend;
// src/timing.cu drives them with the CUDA runtime).
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace sk {
namespace timing {

enum class Ev { Ok, NotReady, NoTiming /* disabled-timing or never recorded */, Error };

// Backend concept:
//   Ev synchronize(E e);                      // block until e completed
//   Ev elapsed_ms(E start, E end, float* ms); // cudaEventElapsedTime
// Decision: never read an event before it is known complete. We synchronise
// on `end` first (a stream-ordered end implies start is complete if both were
// recorded on the same stream); if the runtime still says NotReady (start
// recorded on another stream that is behind), synchronise `start` too and
// retry once. NoTiming is reported as a misuse (event created with
// cudaEventDisableTiming or never recorded), never as a time.
template <class Backend, class E>
int read_elapsed_us(Backend& be, E start, E end, double* us, std::string* err) {
  Ev s = be.synchronize(end);
  if (s == Ev::Error) { *err = "synchronizing the end event failed"; return 3; }
  float ms = 0.f;
  Ev r = be.elapsed_ms(start, end, &ms);
  if (r == Ev::NotReady) {
    Ev s2 = be.synchronize(start);
    if (s2 == Ev::Error) { *err = "synchronizing the start event failed"; return 3; }
    r = be.elapsed_ms(start, end, &ms);
  }
  if (r == Ev::NoTiming) {
    *err = "event has no timing data: created with cudaEventDisableTiming, or never recorded";
    return 5;
  }
  if (r == Ev::NotReady) { *err = "event still not ready after synchronization"; return 5; }
  if (r != Ev::Ok) { *err = "cudaEventElapsedTime failed"; return 3; }
  if (!(ms >= 0.f)) { *err = "negative elapsed time: end recorded before start (different streams?)"; return 5; }
  *us = (double)ms * 1000.0;
  return 0;
}

// Decision for verify_stream: one captured call of the user's callback must
// have enqueued at least one node on the timed stream. Zero nodes means the
// work went to another stream (the events would time an empty interval).
inline int classify_capture(bool capture_ok, size_t nodes, std::string* err) {
  if (!capture_ok) {
    *err = "stream capture of the callback failed (it synchronised or used an illegal call); "
           "set verify_stream=0 for this callback";
    return 5;
  }
  if (nodes == 0) {
    *err = "callback enqueued no work on the timed stream: the kernel runs on a different stream "
           "than the events are recorded on";
    return 5;
  }
  return 0;
}

struct Stats {
  int n = 0;
  double median = 0, mean = 0, min = 0, max = 0, p10 = 0, p90 = 0, stdev = 0, spread = 0;
};

// Percentile with linear interpolation (numpy's default).
inline double percentile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  const double pos = q * (double)(v.size() - 1);
  const size_t lo = (size_t)std::floor(pos), hi = std::min(lo + 1, v.size() - 1);
  const double f = pos - (double)lo;
  return v[lo] * (1.0 - f) + v[hi] * f;
}

inline Stats summarize(const float* samples, int n) {
  Stats s;
  s.n = n;
  if (n <= 0) return s;
  std::vector<double> v(samples, samples + n);
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / n;
  double var = 0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.stdev = n > 1 ? std::sqrt(var / (n - 1)) : 0.0;
  s.min = v.front();
  s.max = v.back();
  s.median = percentile_sorted(v, 0.5);
  s.p10 = percentile_sorted(v, 0.1);
  s.p90 = percentile_sorted(v, 0.9);
  s.spread = s.median > 0 ? (s.p90 - s.p10) / s.median : 0.0;
  return s;
}

}  // namespace timing
}  // namespace sk
