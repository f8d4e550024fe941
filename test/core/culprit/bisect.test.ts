import { describe, expect, it } from "vitest";
import { nextBisectStep, probeBudget, suspectsInRange, type BisectPosition } from "../../../src/core/culprit/bisect.js";
import type { LandedCommit } from "../../../src/model/engine.js";

/** Runs a search to the end over `n` suspects with the culprit at `c`; returns probes spent and rounds. */
function search(n: number, c: number, parallelism: number): { found: number; probes: number; rounds: number } {
  const state: BisectPosition[] = Array.from({ length: n }, (_, i) => ({ state: i === n - 1 ? "bad" : "unknown", pending: false }));
  let probes = 0;
  for (let rounds = 0; ; rounds++) {
    const step = nextBisectStep(state, parallelism);
    if (step.kind === "boundary") return { found: step.hi, probes, rounds };
    if (step.kind !== "probe") throw new Error(step.kind);
    for (const p of step.positions) {
      state[p] = { state: p >= c ? "bad" : "good", pending: false };
      probes++;
    }
  }
}

describe("bisection", () => {
  it("lists only suite-touching commits as suspects", () => {
    const commits = ["a", "b", "c", "d", "e"].map((s, i) => ({ sha: s, suites: i % 2 ? ["x"] : ["y"] }) as LandedCommit);
    expect(suspectsInRange(commits, 0, 4, "x")).toEqual([1, 3]);
    expect(suspectsInRange(commits, 1, 4, "x")).toEqual([3]);
  });

  it("finds the culprit at every position within ceil(log2(range)) probes", () => {
    for (let n = 1; n <= 40; n++) {
      for (let c = 0; c < n; c++) {
        const r = search(n, c, 1);
        expect(r.found).toBe(c);
        expect(r.probes).toBeLessThanOrEqual(probeBudget(n) - 1);
      }
    }
  });

  it("splits k ways with k free GPUs, needing fewer rounds", () => {
    for (const c of [0, 7, 20, 33, 47]) {
      const serial = search(48, c, 1);
      const parallel = search(48, c, 3);
      expect(parallel.found).toBe(c);
      expect(parallel.rounds).toBeLessThanOrEqual(Math.ceil(Math.log(48) / Math.log(4)));
      expect(parallel.rounds).toBeLessThan(serial.rounds);
    }
    const first = nextBisectStep(
      Array.from({ length: 12 }, (_, i) => ({ state: i === 11 ? "bad" : "unknown", pending: false })),
      3,
    );
    expect(first).toEqual({ kind: "probe", positions: [2, 5, 8] });
  });

  it("waits while a probe inside the interval is in flight", () => {
    const s: BisectPosition[] = [
      { state: "good", pending: false },
      { state: "unknown", pending: true },
      { state: "unknown", pending: false },
      { state: "bad", pending: false },
    ];
    expect(nextBisectStep(s, 1)).toEqual({ kind: "wait" });
  });

  it("steps around unmeasurable commits and says when only they are left", () => {
    const s: BisectPosition[] = [
      { state: "good", pending: false },
      { state: "skip", pending: false },
      { state: "unknown", pending: false },
      { state: "bad", pending: false },
    ];
    expect(nextBisectStep(s, 1)).toEqual({ kind: "probe", positions: [2] });
    s[2] = { state: "bad", pending: false };
    expect(nextBisectStep(s, 1)).toEqual({ kind: "ambiguous", lo: 0, hi: 2 });
  });
});
