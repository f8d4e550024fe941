// Host self-check of the timing library's event handling (both builds).
// Drives sk::timing::read_elapsed_us -- the same code the CUDA path runs -- against a
// fake event backend that behaves like the CUDA runtime: an event is not complete until
// its stream reaches it, cudaEventElapsedTime says "not ready" before then, and events
// created with cudaEventDisableTiming have no timing data. A post-land job on a machine
// without a GPU uses this to catch the classic bugs (reading an event before it
// completed, trusting a disabled-timing event, events on the wrong stream).
#include <cstdio>
#include <string>
#include "common.h"
#include "sk_timing_logic.h"

namespace {
using sk::timing::Ev;

struct FakeEvent {
  int stream = 0;
  double t_ms = 0;  // when the GPU reaches it
  bool timing = true;
  bool recorded = true;
  bool complete = false;
};

struct FakeStreams {
  // Synchronizing an event completes it and everything before it on its stream.
  FakeEvent* all[4] = {nullptr, nullptr, nullptr, nullptr};
  Ev synchronize(FakeEvent* e) {
    if (!e->recorded) return Ev::Ok;
    for (FakeEvent* o : all)
      if (o && o->recorded && o->stream == e->stream && o->t_ms <= e->t_ms) o->complete = true;
    return Ev::Ok;
  }
  Ev elapsed_ms(FakeEvent* s, FakeEvent* e, float* ms) {
    if (!s->recorded || !e->recorded || !s->timing || !e->timing) return Ev::NoTiming;
    if (!s->complete || !e->complete) return Ev::NotReady;
    *ms = (float)(e->t_ms - s->t_ms);
    return Ev::Ok;
  }
};

struct Case {
  const char* name;
  FakeEvent start, end;
  int want_status;  // 0: a time; else the library's error code
  double want_us;
};

}  // namespace

extern "C" SK_API int sk_timing_selfcheck_host(char* report, int32_t report_len) {
  const Case cases[] = {
      {"same_stream_not_yet_complete", {0, 1.0}, {0, 3.5}, 0, 2500.0},
      {"start_on_a_stream_that_is_behind", {1, 1.0}, {0, 2.0}, 0, 1000.0},
      {"disabled_timing_event_rejected", {0, 1.0, false}, {0, 2.0}, SK_ERR_TIMING, 0},
      {"never_recorded_event_rejected", {0, 1.0, true, false}, {0, 2.0}, SK_ERR_TIMING, 0},
      {"end_before_start_rejected", {0, 5.0}, {1, 2.0}, SK_ERR_TIMING, 0},
  };
  std::string out;
  int failed = 0;
  for (const Case& c : cases) {
    FakeEvent start = c.start, end = c.end;
    FakeStreams streams;
    streams.all[0] = &start;
    streams.all[1] = &end;
    double us = -1;
    std::string err;
    const int status = sk::timing::read_elapsed_us(streams, &start, &end, &us, &err);
    const bool ok = status == c.want_status && (c.want_status != 0 || (us > c.want_us - 1e-3 && us < c.want_us + 1e-3));
    char line[256];
    if (ok) {
      std::snprintf(line, sizeof line, "%s: ok\n", c.name);
    } else {
      std::snprintf(line, sizeof line, "%s: FAIL (status %d, %.1f us, want status %d, %.1f us%s%s)\n", c.name, status, us,
                    c.want_status, c.want_us, err.empty() ? "" : ": ", err.c_str());
      ++failed;
    }
    out += line;
  }
  if (report && report_len > 0) {
    std::snprintf(report, (size_t)report_len, "%s", out.c_str());
  }
  return failed;
}
