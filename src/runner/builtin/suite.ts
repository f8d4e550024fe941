import type { BenchmarkResult, TestResult } from "../../model/result.js";
import type { KernelLibrary, NativeError, TimingOptions } from "./native.js";
import { fmt } from "./numeric.js";

/** "cuda": CUDA kernels vs the CPU reference, timed with CUDA events. "cpu-host": host execution of the implementation vs the reference. */
export type Execution = "cuda" | "cpu-host";

export interface BuiltinSuiteEnv {
  lib: KernelLibrary;
  execution: Execution;
  seed: number;
  /** Fewer/smaller cases (tests of Sheriff itself). */
  quick: boolean;
  timing: Required<Pick<TimingOptions, "warmup" | "reps">>;
}

export interface TestOutcomeDetail {
  /** Worst error over the compared elements, in the test's own metric. */
  maxError?: number;
  tolerance?: number;
  /** Set to fail (or describe) the test; when absent the outcome is maxError <= tolerance. */
  failure?: string;
  message?: string;
  skip?: string;
}

/** Collects a suite's tests and benchmarks; a throwing test becomes an `error` outcome, never a crash. */
export class SuiteRecorder {
  readonly tests: TestResult[] = [];
  readonly benchmarks: BenchmarkResult[] = [];

  test(name: string, body: () => TestOutcomeDetail): void {
    const start = performance.now();
    let result: TestResult;
    try {
      const d = body();
      const durationMs = performance.now() - start;
      const base = {
        name,
        durationMs,
        ...(d.maxError !== undefined ? { maxError: Number.isFinite(d.maxError) ? d.maxError : Number.MAX_VALUE } : {}),
        ...(d.tolerance !== undefined ? { tolerance: d.tolerance } : {}),
      };
      if (d.skip) result = { ...base, outcome: "skip", message: d.skip };
      else {
        const exceeded = d.maxError !== undefined && d.tolerance !== undefined && !(d.maxError <= d.tolerance);
        const failed = d.failure !== undefined || exceeded;
        const why = d.failure ?? (exceeded ? `max error ${fmt(d.maxError!)} > tolerance ${fmt(d.tolerance!)}` : undefined);
        const message = [why, d.message].filter(Boolean).join("; ");
        result = { ...base, outcome: failed ? "fail" : "pass", ...(message ? { message } : {}) };
      }
    } catch (err) {
      const e = err as NativeError;
      result = { name, outcome: "error", message: e.message ?? String(err), durationMs: performance.now() - start };
    }
    this.tests.push(result);
  }

  benchmark(name: string, measure: () => Omit<BenchmarkResult, "name">): void {
    try {
      const bench = measure();
      const samples = bench.samples.filter((s) => Number.isFinite(s) && s >= 0);
      if (samples.length === 0) throw new Error(`benchmark ${name}: no valid samples`);
      this.benchmarks.push({ ...bench, name, samples });
    } catch (err) {
      // A benchmark that cannot run is a failing test, so it is seen (and does not vanish from the result).
      this.tests.push({ name: `${name}/benchmark`, outcome: "error", message: (err as Error).message });
    }
  }
}

/** Wall-clock samples (µs) of `fn` on the host: cpu-host execution's stand-in for CUDA events. */
export function wallClockSamples(fn: () => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return samples;
}

export type SuiteFn = (ctx: BuiltinSuiteEnv, rec: SuiteRecorder) => void;
