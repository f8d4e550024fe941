import { describe, expect, it } from "vitest";
import { median } from "simple-statistics";
import { RETAINED_QUANTILES, reduceSamples } from "../../src/core/retention.js";
import { suiteResultSchema, type SuiteResult } from "../../src/model/result.js";

function resultWith(samples: number[], reference?: number[]): SuiteResult {
  return {
    schema: "sheriff.result/v1",
    suite: "varlen-attention",
    commit: "a".repeat(40),
    status: "completed",
    startedAt: "2025-03-01T10:00:00.000Z",
    finishedAt: "2025-03-01T10:05:00.000Z",
    tests: [{ name: "fwd_d128", outcome: "fail", maxError: 0.3, tolerance: 0.01 }],
    benchmarks: [{ name: "fwd", unit: "us", samples, ...(reference ? { reference: { name: "fa2", samples: reference } } : {}) }],
    environment: { commit: "a".repeat(40), executor: "cuda", gpu: "NVIDIA H200" },
  };
}

describe("reduceSamples", () => {
  const raw = Array.from({ length: 200 }, (_, i) => 100 + ((i * 37) % 200) / 10);
  const reference = Array.from({ length: 120 }, (_, i) => 80 + ((i * 11) % 120) / 7);

  it("keeps the minimum, deciles and maximum of each benchmark and its reference, with the raw count", () => {
    const reduced = reduceSamples(resultWith(raw, reference));
    const bench = reduced.benchmarks[0]!;
    expect(bench.samples).toHaveLength(RETAINED_QUANTILES.length);
    expect(bench.sampleCount).toBe(200);
    expect(bench.samples[0]).toBe(Math.min(...raw));
    expect(bench.samples.at(-1)).toBe(Math.max(...raw));
    expect(bench.samples[5]).toBe(median(raw));
    expect(bench.reference!.sampleCount).toBe(120);
    expect(bench.reference!.samples[5]).toBe(median(reference));
    expect([...bench.samples].sort((a, b) => a - b)).toEqual(bench.samples);
    // Still a valid result, and the tests are untouched.
    expect(suiteResultSchema.parse(reduced)).toEqual(reduced);
    expect(reduced.tests).toEqual(resultWith(raw).tests);
  });

  it("is idempotent and leaves short sample lists and benchmark-free results as they are", () => {
    const once = reduceSamples(resultWith(raw, reference));
    expect(reduceSamples(once)).toEqual(once);
    const short = resultWith([3, 1, 2]);
    expect(reduceSamples(short)).toEqual(short);
    const none = { ...resultWith(raw), benchmarks: [] };
    expect(reduceSamples(none)).toBe(none);
  });

  it("makes a result with many samples much smaller", () => {
    const big = resultWith(
      Array.from({ length: 2000 }, (_, i) => 1000 + Math.sin(i) * 50),
      reference,
    );
    expect(JSON.stringify(reduceSamples(big)).length).toBeLessThan(JSON.stringify(big).length / 10);
  });
});
