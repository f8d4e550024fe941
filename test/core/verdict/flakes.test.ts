import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/dev/sim/prng.js";
import { buildContext } from "../../../src/core/verdict/context.js";
import { FlakeHistory, MAX_RUNS_PER_COMMIT } from "../../../src/core/verdict/flakes.js";
import type { RunRecord } from "../../../src/model/engine.js";
import { SUITE, history, result, sha, type Spec } from "./harness.js";

const rng = new Rng(4);
const run = (i: number, spec: Spec, purpose: "landed" | "retry" = "landed", attempt = 0): RunRecord => ({
  job: { sha: sha(i), suite: SUITE.name, purpose, attempt },
  result: result(sha(i), spec, rng),
});

function historyOf(runs: RunRecord[], upTo: number): FlakeHistory {
  const h = new FlakeHistory(
    buildContext({ suite: SUITE, commits: history(10), runs, pending: [], rebaselines: [], declared: [], parallelism: 1 }),
  );
  h.advanceTo(upTo);
  return h;
}

describe("flake history", () => {
  it("knows no flake rate for a test that never failed and passed at one commit", () => {
    // t_a fails deterministically at 3 (twice), never passing there: a break, not a flake.
    const h = historyOf([run(0, {}), run(3, { fail: ["t_a"] }), run(3, { fail: ["t_a"] }, "retry", 1)], 10);
    expect(h.flakeRate("t_a")).toBeUndefined();
    expect(h.failuresNeeded("t_a", 1, 0.001)).toBe(2);
    expect(h.failuresNeeded("t_a", 3, 0.001)).toBe(4);
  });

  it("rates a test by its intermittent failures over the runs that observed it", () => {
    const runs = [run(0, {}), run(1, { fail: ["t_b"] }), run(1, {}, "retry", 1), run(2, {}), run(3, { status: "crashed" })];
    const h = historyOf(runs, 10);
    // 1 intermittent failure in 4 runs that observed t_b (the crash observed none): (1 + 1) / (4 + 2).
    expect(h.flakeRate("t_b")).toBeCloseTo(2 / 6);
    expect(h.flakeRate("t_a")).toBeUndefined();
    const needed = h.failuresNeeded("t_b", 1, 1e-5);
    if (needed === undefined) throw new Error("a flake rate of 1/3 can be outvoted by a streak");
    expect(Math.pow(2 / 6, needed)).toBeLessThanOrEqual(1e-5);
    expect(Math.pow(2 / 6, needed - 1)).toBeGreaterThan(1e-5);
  });

  it("counts only commits before the end it was advanced to", () => {
    const runs = [run(0, {}), run(5, { fail: ["t_b"] }), run(5, {}, "retry", 1)];
    expect(historyOf(runs, 5).flakeRate("t_b")).toBeUndefined();
    expect(historyOf(runs, 6).flakeRate("t_b")).toBeDefined();
  });

  it("declares a test too flaky to judge when no streak within the cap is unlikely enough", () => {
    const runs = [run(0, {})];
    for (let k = 1; k <= 8; k++) runs.push(run(1, { fail: ["t_c"] }, "retry", k), run(1, {}, "retry", 10 + k));
    const h = historyOf(runs, 10);
    expect(h.flakeRate("t_c")).toBeGreaterThan(0.4);
    expect(h.failuresNeeded("t_c", 1, 1e-6)).toBeUndefined();
    // Where the cap suffices the streak is the smallest n with f^n <= flakeRisk.
    expect(h.failuresNeeded("t_c", 1, 0.5 ** MAX_RUNS_PER_COMMIT)).toBeLessThanOrEqual(MAX_RUNS_PER_COMMIT);
  });
});
