import { describe, expect, it } from "vitest";
import { decide } from "../../../src/core/verdict/engine.js";
import { SUITE, drive, history, sha, type Spec } from "./harness.js";

const level =
  (slowFrom: number, size: number, noise = 0.01) =>
  (i: number): Spec => ({ bench: { attn: i >= slowFrom ? 500 * (1 + size) : 500, copy: 80 }, noise });

describe("performance", () => {
  it("finds a 5% slowdown at 1% noise, confirmed by an interleaved A/B against the parent", () => {
    const d = drive({ commits: history(10), landed: [0, 9], behave: level(4, 0.05) });
    expect(d.regressions).toHaveLength(1);
    const r = d.regressions[0]!;
    expect(r).toMatchObject({ kind: "performance", culprit: sha(4), lastGood: sha(3) });
    expect(r.benchmarks.map((b) => b.name)).toEqual(["attn"]);
    expect(r.benchmarks[0]!.ratio).toBeGreaterThan(1.04);
    expect(d.jobs).toContainEqual(expect.objectContaining({ purpose: "ab", sha: sha(4), baselineSha: sha(3) }));
  });

  it("declares no performance regression before the A/B run of culprit and parent exists", () => {
    const d = drive({ commits: history(10), landed: [0, 9], behave: level(6, 0.1) });
    let runsSoFar = 1;
    for (const call of d.calls) {
      const reg = call.find((x) => x.type === "regression");
      if (reg && reg.type === "regression") {
        const seen = d.runs.slice(0, runsSoFar + 1);
        expect(seen.some((r) => r.job.purpose === "ab" && r.job.sha === reg.culprit && r.job.baselineSha === sha(5))).toBe(true);
      }
      runsSoFar += call.filter((x) => x.type === "run").length;
    }
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(6)]);
  });

  it("does not flag a 2% slowdown against a 5% threshold", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const d = drive({ commits: history(8), landed: [0, 7], behave: level(3, 0.02), seed });
      expect(d.regressions).toEqual([]);
    }
  });

  it("raises no regression on pure noise across many seeds", () => {
    for (let seed = 1; seed <= 25; seed++) {
      const d = drive({
        commits: history(12),
        landed: [0, 3, 6, 9, 11],
        behave: () => ({ bench: { attn: 500, copy: 80, tiny: 12 }, noise: 0.03 }),
        seed,
      });
      expect(d.regressions).toEqual([]);
    }
  });

  it("lets the A/B run overrule a cross-job false alarm from a slow machine", () => {
    // The landed job at 9 ran on a machine 8% slower; nothing changed in the code.
    const d = drive({
      commits: history(10),
      landed: [0, 9],
      behave: (i, n, job) => ({ bench: { attn: 500 }, jobFactor: i === 9 && job.purpose === "landed" ? 1.08 : 1 }),
    });
    expect(d.jobs.some((j) => j.purpose === "ab")).toBe(true);
    expect(d.regressions).toEqual([]);
  });

  it("catches a slowdown the first checkpoint after it hid, against the level before it", () => {
    // Commit 5 slows attn by 6%, but the landed job at 6 ran on a machine 6% faster: it screens clean.
    const behave = (i: number, n: number, job: { purpose: string }): Spec => ({
      ...level(5, 0.06)(i),
      jobFactor: i === 6 && job.purpose === "landed" ? 0.94 : 1,
    });
    const d = drive({ commits: history(12), landed: [0, 3, 6, 9], behave });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(5)]);
    // Searched from the level before the hidden step (3), not from the latest accepted one (6).
    expect(d.regressions[0]!.range).toMatchObject({ from: sha(3), to: sha(9) });
  });

  it("finds two slowdowns of different benchmarks in one range", () => {
    const d = drive({
      commits: history(12),
      landed: [0, 11],
      behave: (i) => ({ bench: { attn: i >= 3 ? 540 : 500, copy: i >= 8 ? 88 : 80 } }),
    });
    expect(d.regressions.map((r) => r.culprit).sort()).toEqual([sha(3), sha(8)]);
  });

  it("compares against a rebaselined level instead of older commits", () => {
    const rebaseline = {
      suite: SUITE.name,
      sha: sha(4),
      reason: "new tiling trades 10% for accuracy",
      by: "alice",
      at: "2026-11-25T10:00:00Z",
    };
    const intended = drive({ commits: history(10), landed: [0, 9], behave: level(4, 0.1), rebaselines: [rebaseline] });
    expect(intended.regressions).toEqual([]);
    expect(intended.jobs).toContainEqual(expect.objectContaining({ purpose: "baseline", sha: sha(4) }));
    // A further 10% after the rebaseline is held to the new level and found.
    const later = drive({
      commits: history(10),
      landed: [0, 9],
      behave: (i) => ({ bench: { attn: 500 * (i >= 4 ? 1.1 : 1) * (i >= 7 ? 1.1 : 1) } }),
      rebaselines: [rebaseline],
    });
    expect(later.regressions.map((r) => r.culprit)).toEqual([sha(7)]);
    expect(later.regressions[0]!.summary).toContain("rebaseline");
  });

  it("expects a reverted slowdown to come off, so a new one next to the revert is not cancelled out", () => {
    const commits = history(12, () => true, [8]);
    commits[8]!.title = 'Revert "commit 3"';
    const attn = (i: number) => 500 * (i >= 3 && i < 8 ? 1.1 : 1) * (i >= 7 ? 1.1 : 1);
    const d = drive({ commits, landed: [0, 5, 10], behave: (i) => ({ bench: { attn: attn(i) } }) });
    // Commits 5 and 10 measure the same level, yet commit 7 slowed attn by 10%.
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(3), sha(7)]);
  });

  it("never asks for a job twice when its requests come back as pending", () => {
    const commits = history(10);
    const d = drive({ commits, landed: [0, 9], behave: level(4, 0.05) });
    for (let k = 2; k < d.runs.length; k++) {
      const input = { suite: SUITE, commits, runs: d.runs.slice(0, k), pending: [], rebaselines: [], declared: [], parallelism: 2 };
      const asked = decide(input).flatMap((x) => (x.type === "run" ? [x.job] : []));
      expect(decide({ ...input, pending: asked }).filter((x) => x.type === "run")).toEqual([]);
    }
  });
});

describe("performance: several culprits on one benchmark", () => {
  const two =
    (a: number, b: number, size: number) =>
    (i: number): Spec => ({ bench: { attn: 500 * (i >= a ? 1 + size : 1) * (i >= b ? 1 + size : 1), copy: 80 }, noise: 0.01 });

  it("finds both of two equal slowdowns of one benchmark in one range", () => {
    for (const seed of [1, 2, 3, 4]) {
      const d = drive({ commits: history(16), landed: [0, 15], behave: two(5, 11, 0.1), seed });
      expect(d.regressions.map((r) => [r.kind, r.culprit])).toEqual([
        ["performance", sha(5)],
        ["performance", sha(11)],
      ]);
      // The second is confirmed against its own parent too.
      expect(d.jobs).toContainEqual(expect.objectContaining({ purpose: "ab", sha: sha(11), baselineSha: sha(10) }));
    }
  });

  it("finds a smaller slowdown before a larger one of the same benchmark", () => {
    // 4.5% at commit 3, then 8% at 8: the midpoint cut places 8 first; the remainder lies before it.
    const behave = (i: number): Spec => ({ bench: { attn: 500 * (i >= 3 ? 1.045 : 1) * (i >= 8 ? 1.08 : 1), copy: 80 }, noise: 0.01 });
    for (const seed of [1, 2, 3]) {
      const d = drive({ commits: history(14), landed: [0, 13], behave, seed });
      expect(d.regressions.map((r) => r.culprit)).toEqual([sha(8), sha(3)]);
    }
  });

  it("declares nothing more after one culprit explains the whole slowdown", () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const d = drive({ commits: history(16), landed: [0, 15], behave: level(6, 0.1), seed });
      expect(d.regressions.map((r) => r.culprit)).toEqual([sha(6)]);
    }
  });
});
