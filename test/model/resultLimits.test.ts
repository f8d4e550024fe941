import { describe, expect, it } from "vitest";
import { jobResultMismatch, parseSuiteResult, RESULT_LIMITS, RESULT_SCHEMA_VERSION, resultMismatch } from "../../src/model/result.js";

const sha = "a".repeat(40);
const other = "b".repeat(40);
const result = {
  schema: RESULT_SCHEMA_VERSION,
  suite: "half-precision",
  commit: sha,
  status: "completed",
  startedAt: "2026-11-25T10:00:00.000Z",
  finishedAt: "2026-11-25T10:01:00.000Z",
  tests: [{ name: "bf16/rne", outcome: "pass" }],
  benchmarks: [{ name: "fp32->bf16", unit: "us", samples: [10, 12, 11] }],
  environment: { commit: sha },
};

/** Median of a few runs, in ms. */
function timeOf(fn: () => void): number {
  const times = Array.from({ length: 5 }, () => {
    const start = performance.now();
    fn();
    return performance.now() - start;
  });
  return times.sort((a, b) => a - b)[2]!;
}

describe("result limits", () => {
  it.each([
    [
      "10^6 tests",
      { tests: Array.from({ length: 1_000_000 }, (_, i) => ({ name: `t${i}`, outcome: "pass" })) },
      /tests: more than 10,000 tests/,
    ],
    [
      "10^6 samples",
      { benchmarks: [{ name: "k", unit: "us", samples: Array.from({ length: 1_000_000 }, () => 1) }] },
      /benchmarks\.0\.samples: more than 20,000 samples in one benchmark/,
    ],
    [
      "a 20 MB message",
      { tests: [{ name: "t", outcome: "fail", message: "m".repeat(20_000_000) }] },
      /tests\.0\.message: a test message is at most 4096 characters/,
    ],
    ["a 1 MB log", { log: "l".repeat(1 << 20) }, /log: the log is at most 65536 characters/],
    ["a long name", { suite: "s".repeat(10_000) }, /suite: a name is at most 512 characters/],
    ["a long GPU name", { environment: { commit: sha, gpu: "g".repeat(10_000) } }, /environment\.gpu: at most 256 characters/],
    [
      "too many samples in all",
      {
        benchmarks: Array.from({ length: 20 }, (_, i) => ({ name: `k${i}`, unit: "us", samples: Array.from({ length: 15_000 }, () => 1) })),
      },
      /benchmarks: 300000 samples in all, more than 200,000/,
    ],
    [
      "too much message text in all",
      { tests: Array.from({ length: 300 }, (_, i) => ({ name: `t${i}`, outcome: "fail", message: "m".repeat(4000) })) },
      /tests: 1200000 characters of test messages in all, more than 1,000,000/,
    ],
  ])("rejects %s with a clear reason", (_what, change, reason) => {
    expect(() => parseSuiteResult({ ...result, ...change }, "suite x")).toThrowError(reason);
  });

  it("rejects an oversized array without parsing each item (10^6 tests fail as fast as 10^4 valid ones parse)", () => {
    const huge = { ...result, tests: Array.from({ length: 1_000_000 }, (_, i) => ({ name: `t${i}`, outcome: "pass" })) };
    const atLimit = { ...result, tests: Array.from({ length: RESULT_LIMITS.tests }, (_, i) => ({ name: `t${i}`, outcome: "pass" })) };
    const hugeMs = timeOf(() => expect(() => parseSuiteResult(huge, "x")).toThrow());
    const atLimitMs = timeOf(() => parseSuiteResult(atLimit, "x"));
    expect(hugeMs).toBeLessThan(20 * Math.max(atLimitMs, 1));
  });

  it("rejects JSON text over the limit before parsing it", () => {
    expect(() => parseSuiteResult(" ".repeat(RESULT_LIMITS.jsonLength + 1), "x")).toThrowError(/characters of JSON, more than/);
  });

  it("lists at most ten issues, however many there are", () => {
    const bad = { ...result, tests: Array.from({ length: 5000 }, () => ({ name: "", outcome: "pass" })) };
    const message = (() => {
      try {
        parseSuiteResult(bad, "x");
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    })();
    expect(message.split("\n")).toHaveLength(12);
    expect(message).toContain("and 4990 more");
  });

  it("keeps a result within the limits as it is (retention's sampleCount included)", () => {
    const reduced = {
      ...result,
      benchmarks: [{ ...result.benchmarks[0], sampleCount: 3000, reference: { name: "r", samples: [1], sampleCount: 9 } }],
    };
    expect(parseSuiteResult(reduced, "x").benchmarks[0]).toMatchObject({ sampleCount: 3000, reference: { sampleCount: 9 } });
  });
});

describe("a result must answer its job", () => {
  const parsed = parseSuiteResult(result, "x");
  it("matches on suite, commit and the commit it says it ran at", () => {
    expect(resultMismatch({ suite: "half-precision", sha }, parsed)).toBeNull();
    expect(resultMismatch({ suite: "index-reduce", sha }, parsed)).toBe("the result is for suite half-precision, the job for index-reduce");
    expect(resultMismatch({ suite: "half-precision", sha: other }, parsed)).toBe(`the result is for commit ${sha}, the job for ${other}`);
    const elsewhere = parseSuiteResult({ ...result, environment: { commit: other } }, "x");
    expect(resultMismatch({ suite: "half-precision", sha }, elsewhere)).toBe(
      `the result says it ran at commit ${other}, the job is for ${sha}`,
    );
  });

  it("checks an A/B job's baseline result too", () => {
    const baseline = parseSuiteResult({ ...result, commit: other, environment: { commit: other } }, "x");
    const job = { suite: "half-precision", sha, baselineSha: other };
    expect(jobResultMismatch(job, parsed, baseline)).toBeNull();
    expect(jobResultMismatch(job, parsed)).toMatch(/no baseline result/);
    expect(jobResultMismatch(job, parsed, parsed)).toBe(`baseline: the result is for commit ${sha}, the job for ${other}`);
  });
});
