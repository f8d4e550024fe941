import { quantileSorted } from "simple-statistics";
import type { BenchmarkResult, SuiteResult } from "../model/result.js";

/** The quantiles an old run keeps of its raw samples: minimum, every decile, maximum. */
export const RETAINED_QUANTILES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Raw timings reduced to RETAINED_QUANTILES, with how many there were; already-short lists stay raw. */
function reduce(samples: number[], count: number | undefined): { samples: number[]; sampleCount?: number } {
  if (count !== undefined || samples.length <= RETAINED_QUANTILES.length) return { samples, ...(count ? { sampleCount: count } : {}) };
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples: RETAINED_QUANTILES.map((q) => quantileSorted(sorted, q)), sampleCount: samples.length };
}

function reduceBenchmark(b: BenchmarkResult): BenchmarkResult {
  const own = reduce(b.samples, b.sampleCount);
  const reference = b.reference ? { ...b.reference, ...reduce(b.reference.samples, b.reference.sampleCount) } : undefined;
  return { ...b, ...own, ...(reference ? { reference } : {}) };
}

/**
 * A settled run's result with every benchmark's raw samples reduced to quantiles: the median and
 * spread charts and accepted levels need stay exact (the median is a kept quantile), the bytes
 * stop growing with the repetition count. Tests and everything else are kept whole.
 */
export function reduceSamples(result: SuiteResult): SuiteResult {
  return result.benchmarks.length === 0 ? result : { ...result, benchmarks: result.benchmarks.map(reduceBenchmark) };
}
