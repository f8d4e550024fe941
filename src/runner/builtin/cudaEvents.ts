import type { NativeError, TimingStats } from "./native.js";
import { fmt } from "./numeric.js";
import type { BuiltinSuiteEnv, SuiteRecorder } from "./suite.js";

/**
 * cuda-events: the CUDA-event timing library. With a GPU: kernels of known duration (a spin
 * kernel on %globaltimer) must time as that duration, per repetition, with and without an L2
 * flush and a host hold-back. Everywhere: the library's sample summary against statistics
 * computed here, and a clean "no CUDA" error (never a crash) on a host without a GPU.
 */

function percentile(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! * (1 - (pos - lo)) + sorted[hi]! * (pos - lo);
}

export function jsSummary(samples: ArrayLike<number>): Omit<TimingStats, "n" | "spread"> {
  const v = Array.from(samples).sort((a, b) => a - b);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const stdev = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { median: percentile(v, 0.5), mean, min: v[0]!, max: v[v.length - 1]!, p10: percentile(v, 0.1), p90: percentile(v, 0.9), stdev };
}

function summaryError(got: TimingStats, samples: ArrayLike<number>) {
  const want = jsSummary(samples);
  let maxError = 0;
  let worst = "";
  for (const key of Object.keys(want) as (keyof typeof want)[]) {
    const err = Math.abs(got[key] - want[key]) / Math.max(1e-9, Math.abs(want[key]));
    if (err > maxError) {
      maxError = err;
      worst = `${key}: got ${fmt(got[key])}, want ${fmt(want[key])}`;
    }
  }
  return {
    maxError,
    tolerance: 1e-6,
    ...(maxError > 1e-6 ? { message: worst } : {}),
    ...(got.n !== samples.length ? { failure: `n=${got.n}, want ${samples.length}` } : {}),
  };
}

export function cudaEventsSuite(ctx: BuiltinSuiteEnv, rec: SuiteRecorder): void {
  const { lib } = ctx;
  rec.test("cuda_events/summarize/known_samples", () => {
    const samples = Float32Array.from([12.5, 10, 11, 10.25, 30, 9.75, 10.5, 10, 11.25, 10.75]);
    return summaryError(lib.summarize(samples), samples);
  });
  rec.test("cuda_events/summarize/single_sample", () => {
    const samples = Float32Array.from([42]);
    return summaryError(lib.summarize(samples), samples);
  });
  // The event-handling decisions, on every host: a read before completion, a disabled-timing
  // event or an end recorded before its start must never come back as a time.
  rec.test("cuda_events/event_logic/fake_runtime", () => {
    const check = lib.timingSelfcheck();
    if (!check) return { skip: "this kernels library predates sk_timing_selfcheck_host" };
    return check.failed === 0
      ? {}
      : {
          failure: check.report
            .split("\n")
            .filter((l) => l.includes("FAIL"))
            .join("; "),
        };
  });

  if (ctx.execution !== "cuda") {
    rec.test("cuda_events/no_cuda_is_an_error_not_a_crash", () => {
      try {
        lib.timeSpin(10, { warmup: 0, reps: 1 });
      } catch (err) {
        const e = err as NativeError;
        return e.status === 4 ? { message: e.message } : { failure: `expected SK_ERR_NO_CUDA, got status ${e.status}: ${e.message}` };
      }
      return { failure: "timing a kernel without CUDA returned samples" };
    });
    for (const name of ["spin/us=20", "spin/us=1000", "per_rep_samples", "hold_us", "l2_flush"]) {
      rec.test(`cuda_events/${name}`, () => ({ skip: lib.status().message }));
    }
    return;
  }

  const spinCheck = (us: number, samples: Float32Array) => {
    const s = jsSummary(samples);
    const tolerance = 0.05 + 3 / us; // 5%, plus 3 µs for the launch of a one-thread kernel
    const maxError = Math.abs(s.median - us) / us;
    return { maxError, tolerance, message: `median ${fmt(s.median)} µs (min ${fmt(s.min)}, max ${fmt(s.max)}) for a ${us} µs kernel` };
  };
  for (const us of [20, 100, 1000]) {
    rec.test(`cuda_events/spin/us=${us}`, () => spinCheck(us, lib.timeSpin(us, { warmup: 3, reps: us >= 1000 ? 10 : 30 })));
  }
  rec.test("cuda_events/per_rep_samples", () => {
    const samples = lib.timeSpin(50, { warmup: 1, reps: 37 });
    if (samples.length !== 37) return { failure: `${samples.length} samples for 37 reps` };
    const bad = Array.from(samples).filter((s) => !(s >= 45 && s < 5000));
    return bad.length
      ? { failure: `${bad.length} samples outside [45 µs, 5 ms) for a 50 µs kernel: ${bad.slice(0, 5).map(fmt).join(", ")}` }
      : {};
  });
  rec.test("cuda_events/hold_us", () => spinCheck(30, lib.timeSpin(30, { warmup: 2, reps: 30, holdUs: 2000 })));
  rec.test("cuda_events/l2_flush", () => spinCheck(50, lib.timeSpin(50, { warmup: 2, reps: 20, flushBytes: 64 << 20 })));
  rec.test("cuda_events/summarize/real_samples", () => {
    const samples = lib.timeSpin(40, { warmup: 2, reps: 25 });
    return summaryError(lib.summarize(samples), samples);
  });

  rec.benchmark("cuda_events/empty_launch", () => ({
    unit: "us",
    samples: Array.from(lib.timeSpin(0, { ...ctx.timing, holdUs: 1000 })),
  }));
  rec.benchmark("cuda_events/spin_100us", () => ({
    unit: "us",
    samples: Array.from(lib.timeSpin(100, ctx.timing)),
  }));
}
