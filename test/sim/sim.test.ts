import { describe, expect, it } from "vitest";
import { runSimulation, simulateCli } from "../../src/sim/index.js";
import { planStream, DEFAULT_OPTIONS } from "../../src/sim/model.js";

describe("simulator", () => {
  it("plans the chosen number of commits and culprits, reproducibly from the seed", () => {
    const o = { ...DEFAULT_OPTIONS, commits: 400, culpritRate: 0.02 };
    const pushes = planStream(o);
    const commits = pushes.flatMap((p) => p.commits);
    expect(commits).toHaveLength(400);
    expect(commits.filter((c) => c.effect)).toHaveLength(8);
    expect(commits.filter((c) => c.effect).every((c) => c.touches)).toBe(true);
    expect(planStream(o)).toEqual(pushes);
  });

  it("meets the targets on a modest stream at 5% flakes and 1% noise", () => {
    for (const seed of [1, 2]) {
      const r = runSimulation({ commits: 300, flakeRate: 0.05, noise: 0.01, slowdown: 0.05, seed });
      expect(r.culprits.total).toBe(6);
      expect(r.falseReverts).toEqual([]);
      const unmaskedMisses = r.culpritDetails.filter((c) => !c.found && !c.masked);
      expect(unmaskedMisses).toEqual([]);
      expect(r.perCulprit.searchWithinBoundPlus2).toBe(r.perCulprit.singleCulpritRanges);
      expect(r.minutesToRevert!.median).toBeGreaterThan(0);
    }
  });

  it("does not revert slowdowns below the threshold at 1% noise", () => {
    const r = runSimulation({ commits: 300, flakeRate: 0, noise: 0.01, slowdown: 0.03, seed: 3 });
    expect(r.slowdownBelowThreshold).toBe(true);
    expect(r.found.slowdown).toBe(0);
    expect(r.falseReverts).toEqual([]);
  });

  it("gives the same report for the same seed", () => {
    const a = runSimulation({ commits: 150, seed: 9 });
    const b = runSimulation({ commits: 150, seed: 9 });
    expect(a).toEqual(b);
  });

  it("parses flags, prints a report and returns exit codes", async () => {
    const out: string[] = [];
    expect(await simulateCli(["--commits", "120", "--flake-rate", "0.05", "--seed", "4"], (l) => out.push(l))).toBe(0);
    expect(out.join("\n")).toMatch(/Simulated 120 commits/);
    expect(out.join("\n")).toMatch(/false reverts: 0/);
    expect(await simulateCli(["--bogus"], () => {})).toBe(2);
    expect(await simulateCli(["--noise"], () => {})).toBe(2);
  });
});
