import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/dev/sim/prng.js";
import { compareLevels, levelOf, slowerPValue, slowdowns } from "../../../src/core/verdict/benchmarks.js";
import { classifyNewFailures, INCOMPLETE_RUN, mixedIn, outcomesOf } from "../../../src/core/verdict/tests.js";
import type { RunRecord } from "../../../src/model/engine.js";
import { result, sha, type Spec } from "./harness.js";

const rng = new Rng(3);
const run = (spec: Spec): RunRecord => ({
  job: { sha: sha(1), suite: "kern", purpose: "retry", attempt: 1 },
  result: result(sha(1), spec, rng),
});
const samples = (n: number, us: number, noise: number, r: Rng) => Array.from({ length: n }, () => us * Math.exp(noise * r.normal()));

describe("test outcomes", () => {
  it("counts a run that did not complete as a failure of one pseudo-test", () => {
    expect([...outcomesOf(run({ status: "crashed" }).result).fails.keys()]).toEqual([INCOMPLETE_RUN]);
    expect(outcomesOf(run({}).result).passes.has(INCOMPLETE_RUN)).toBe(true);
  });

  it("calls a failure deterministic only when it always fails at the suspect and mostly passes at the last good commit", () => {
    const bad = [run({ fail: ["t_a"] }), run({ fail: ["t_a", "t_b"] }), run({ fail: ["t_a"] })];
    const good = [run({}), run({}), run({ fail: ["t_b"] })];
    expect(classifyNewFailures(["t_a", "t_b"], bad, good)).toEqual({ deterministic: ["t_a"], flaky: ["t_b"] });
    expect(classifyNewFailures(["t_a"], bad.slice(0, 1), good).deterministic).toEqual([]);
    expect(mixedIn(bad)).toEqual(["t_b"]);
    // A flake at the last good commit, outvoted by its passes, does not excuse a break at the suspect;
    // failing there as often as passing does.
    expect(classifyNewFailures(["t_a"], bad, [run({}), run({ fail: ["t_a"] }), run({})]).deterministic).toEqual(["t_a"]);
    expect(classifyNewFailures(["t_a"], bad, [run({}), run({ fail: ["t_a"] })]).flaky).toEqual(["t_a"]);
  });
});

describe("slowdown statistics", () => {
  it("gives a clear p-value for a 5% shift at 1% noise and none for equal levels", () => {
    const r = new Rng(11);
    expect(slowerPValue(samples(30, 105, 0.01, r), samples(30, 100, 0.01, r))).toBeLessThan(1e-6);
    expect(slowerPValue(samples(30, 100, 0.01, r), samples(30, 105, 0.01, r))).toBeGreaterThan(0.99);
  });

  it("keeps false positives at the nominal rate on pure noise", () => {
    const r = new Rng(5);
    let hits = 0;
    for (let i = 0; i < 400; i++) if (slowerPValue(samples(30, 100, 0.03, r), samples(30, 100, 0.03, r)) < 0.01) hits++;
    expect(hits).toBeLessThanOrEqual(10);
  });

  it("handles ties from quantised timers", () => {
    expect(slowerPValue([5, 5, 5, 5], [5, 5, 5, 5])).toBe(1);
    expect(slowerPValue([2, 2, 2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1, 1, 1])).toBeLessThan(0.001);
  });

  it("needs both size and clarity: 5% flagged, 2% not, at 1% noise", () => {
    const r = new Rng(8);
    const base = levelOf([result(sha(0), { bench: { k: 100 } }, r)]);
    const t = { slowdown: 0.05, pValue: 0.01 };
    const five = compareLevels(levelOf([result(sha(1), { bench: { k: 105 } }, r)]), base, 1);
    const two = compareLevels(levelOf([result(sha(1), { bench: { k: 102 } }, r)]), base, 1);
    expect(slowdowns(five, t, 0.8).map((c) => c.name)).toEqual(["k"]);
    expect(slowdowns(two, t, 0.8)).toEqual([]);
    expect(two[0]!.pValue).toBeLessThan(0.01);
  });
});
