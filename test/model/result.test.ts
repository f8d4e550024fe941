import { describe, expect, it } from "vitest";
import { InvalidResultError, parseSuiteResult, RESULT_SCHEMA_VERSION } from "../../src/model/result.js";
import { summarizeCommit, median } from "../../src/core/summary.js";

const sha = "a".repeat(40);
const result = {
  schema: RESULT_SCHEMA_VERSION,
  suite: "half-precision",
  commit: sha,
  status: "completed",
  startedAt: "2026-11-25T10:00:00.000Z",
  finishedAt: "2026-11-25T10:01:00.000Z",
  tests: [{ name: "bf16/rne", outcome: "pass", maxError: 0, tolerance: 0 }],
  benchmarks: [{ name: "fp32->bf16", unit: "us", samples: [10, 12, 11], reference: { name: "torch", samples: [22, 22, 22] } }],
  environment: { commit: sha, gpu: "NVIDIA H100 80GB HBM3" },
};

describe("result schema", () => {
  it("accepts a valid result, as an object or JSON text", () => {
    expect(parseSuiteResult(result, "test").tests[0]!.name).toBe("bf16/rne");
    expect(parseSuiteResult(JSON.stringify(result), "test").benchmarks[0]!.samples).toEqual([10, 12, 11]);
  });
  it("names the source and the field of a bad result", () => {
    expect(() => parseSuiteResult("{oops", "runner gpu-3")).toThrowError(/runner gpu-3.*not JSON/s);
    expect(() => parseSuiteResult({ ...result, benchmarks: [{ name: "x", unit: "us", samples: [] }] }, "r")).toThrowError(
      /benchmarks\.0\.samples/,
    );
    expect(() => parseSuiteResult({ ...result, commit: "abc" }, "r")).toThrowError(InvalidResultError);
    expect(() => parseSuiteResult({ ...result, status: "exploded" }, "r")).toThrowError(/status/);
  });
});

describe("summarizeCommit", () => {
  const run = (outcome: "pass" | "fail") => ({
    job: { sha, suite: "half-precision", purpose: "landed" as const, attempt: 0 },
    result: parseSuiteResult({ ...result, tests: [{ name: "bf16/rne", outcome }] }, "t"),
  });
  it("is green when every suite passed, with the reference ratio", () => {
    const s = summarizeCommit([run("pass")], [], []);
    expect(s.conclusion).toBe("success");
    expect(s.text).toContain("2.00× `torch`");
  });
  it("stays neutral on a failure until a verdict confirms it", () => {
    expect(summarizeCommit([run("fail")], [], []).conclusion).toBe("neutral");
    expect(summarizeCommit([run("fail")], [], ["half-precision"])).toMatchObject({
      conclusion: "failure",
      title: "Regression in half-precision",
    });
  });
  it("says when a commit was not tested on its own", () => {
    const s = summarizeCommit([], [], [], ["half-precision"]);
    expect(s).toMatchObject({ conclusion: "neutral", title: "Not tested on its own: a newer commit was tested instead" });
    expect(s.text).toContain("bisection covers this one");
    expect(summarizeCommit([run("pass")], [], [], ["half-precision"]).conclusion).toBe("success");
  });

  it("names flaky tests without turning the check red", () => {
    const s = summarizeCommit([run("pass")], [], [], [], ["smoke: smoke"]);
    expect(s.conclusion).toBe("success");
    expect(s.text).toContain("Flaky, not reverted for: `smoke: smoke`.");
  });

  it("never shows a commit green without data", () => {
    const lost = summarizeCommit([], [], [], [], [], ["half-precision"]);
    expect(lost).toMatchObject({ conclusion: "neutral", title: "No result for 1 suite(s)" });
    expect(lost.text).toContain("| `half-precision` | no result recorded");
    expect(summarizeCommit([], [], [])).toMatchObject({ conclusion: "neutral", title: "No suite has run at this commit" });
    const oneLost = summarizeCommit([run("pass")], [], [], [], [], ["half-precision", "index-reduce"]);
    expect(oneLost).toMatchObject({ conclusion: "neutral", title: "No result for 1 suite(s)" });
    expect(summarizeCommit([run("pass")], [], [], [], [], ["half-precision"]).conclusion).toBe("success");
  });

  it("lists suites still queued", () => {
    expect(summarizeCommit([], ["index-reduce"], []).text).toContain("| `index-reduce` | queued |");
  });
  it("computes medians of odd and even samples", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
