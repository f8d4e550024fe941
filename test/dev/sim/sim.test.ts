import { describe, expect, it } from "vitest";
import { runSimulation, simulateCli } from "../../../src/dev/sim/index.js";
import { simulate } from "../../../src/dev/sim/driver.js";
import { planStream, DEFAULT_OPTIONS, type SimOptions } from "../../../src/dev/sim/model.js";

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
      expect(r.perCulprit.jobsWithinBoundPlus2).toBe(r.perCulprit.singleCulpritRanges);
      expect(r.minutesToRevert!.median).toBeGreaterThan(0);
    }
  });

  it("does not revert slowdowns below the threshold at 1% noise", () => {
    const r = runSimulation({ commits: 300, flakeRate: 0, noise: 0.01, slowdown: 0.03, seed: 3 });
    expect(r.slowdownBelowThreshold).toBe(true);
    expect(r.found.slowdown).toBe(0);
    expect(r.falseReverts).toEqual([]);
  });

  it("finds culprits masked by a live crash once the crash is reverted", () => {
    // Seed 5 at 15% flakes: a break and two slowdowns land while a crash culprit is live.
    const options = { flakeRate: 0.15, noise: 0.01, slowdown: 0.05, seed: 5 };
    const r = runSimulation(options);
    expect(
      r.culpritDetails
        .filter((c) => c.masked === "crash")
        .map((c) => c.kind)
        .sort(),
    ).toEqual(["correctness", "slowdown", "slowdown"]);
    expect(r.missed.total).toBe(0);
    expect(r.foundMasked).toBe(r.masked);
    expect(r.falseReverts).toEqual([]);
    // The same stream with a runner that cannot cherry-pick: the masked culprits stay hidden.
    const plain = runSimulation({ ...options, cherryPick: false });
    expect(plain.foundMasked).toBe(0);
    expect(plain.missedMasked).toBeGreaterThanOrEqual(3);
    expect(plain.falseReverts).toEqual([]);
  });

  it("finds a second break of a test that an earlier, still-live culprit already broke", () => {
    // A denser stream (5% culprits) where one break lands on a test an unreverted break already failed.
    const options = { commits: 400, culpritRate: 0.05, flakeRate: 0.05, noise: 0.01, slowdown: 0.05, seed: 3 };
    const r = runSimulation(options);
    const same = r.culpritDetails.filter((c) => c.masked === "same-test");
    expect(same).toHaveLength(1);
    expect(same[0]!.found).toBe(true);
    expect(r.missed.total).toBe(0);
    expect(r.falseReverts).toEqual([]);
    const plain = runSimulation({ ...options, cherryPick: false });
    expect(plain.culpritDetails.find((c) => c.sha === same[0]!.sha)?.found).toBe(false);
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
    const plain: string[] = [];
    expect(await simulateCli(["--commits", "120", "--seed", "4", "--no-cherry-pick"], (l) => plain.push(l))).toBe(0);
    expect(plain.join("\n")).toMatch(/runner cannot cherry-pick/);
    expect(await simulateCli(["--bogus"], () => {})).toBe(2);
    expect(await simulateCli(["--noise"], () => {})).toBe(2);
  });

  it("renames tests in turn with renameEvery, and never without it", () => {
    const names = (options: Partial<SimOptions>) => new Set(simulate(options).runs.flatMap((r) => r.result.tests.map((t) => t.name)));
    expect(names({ commits: 100 }).size).toBe(DEFAULT_OPTIONS.tests);
    const renamed = names({ commits: 100, renameEvery: 20 });
    // Commits 20, 40, 60 and 80 rename tests 00 to 03 in turn (commit 100 renames 04, perhaps after the last run).
    expect([...renamed].filter((n) => n.endsWith("_v1")).sort()).toEqual(
      expect.arrayContaining(["test_00_v1", "test_01_v1", "test_02_v1", "test_03_v1"]),
    );
    expect(renamed.has("test_05_v1")).toBe(false);
  });
});
