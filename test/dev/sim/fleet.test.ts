import { describe, expect, it } from "vitest";
import { simulate } from "../../../src/dev/sim/driver.js";
import { runSimulation } from "../../../src/dev/sim/index.js";
import { STREAM_CLASSES } from "../../../src/dev/sim/classes.js";
import { planStream, DEFAULT_OPTIONS } from "../../../src/dev/sim/model.js";

describe("simulated fleet", () => {
  it("names each result's host, GPU index, model and driver, and a rollout's driver on its GPUs only", () => {
    const trace = simulate({
      commits: 120,
      gpus: 4,
      gpusPerHost: 2,
      gpuModels: ["A", "A", "B", "B"],
      faults: [{ gpus: [2, 3], from: 0, driver: "sim-new" }],
    });
    const envs = trace.runs.map((r) => r.result.environment);
    expect(new Set(envs.map((e) => e.host))).toEqual(new Set(["sim-host-0", "sim-host-1"]));
    for (const e of envs) {
      expect(e.host).toBe(`sim-host-${Math.floor(e.gpuIndex! / 2)}`);
      expect(e.gpu).toBe(e.gpuIndex! < 2 ? "A" : "B");
      expect(e.driver).toBe(e.gpuIndex! < 2 ? "sim-560.35" : "sim-new");
    }
  });

  it("fails a test only on the faulty GPU while the fault lasts", () => {
    const trace = simulate({
      commits: 200,
      gpus: 2,
      gpusPerHost: 1,
      culpritRate: 0,
      flakeRate: 0,
      faults: [{ gpus: [1], from: 300, test: "test_03" }],
    });
    const fails = (r: (typeof trace.runs)[number]) => r.result.tests.some((t) => t.name === "test_03" && t.outcome === "fail");
    const failing = trace.runs.filter(fails);
    expect(failing.length).toBeGreaterThan(0);
    expect(
      failing.every((r) => r.result.environment.gpuIndex === 1 && Date.parse(r.result.startedAt) >= Date.parse("2026-11-25T05:00:00Z")),
    ).toBe(true);
  });

  it("lands scripted culprits and fixes: a fix-forward takes the effect out without a revert", () => {
    const o = {
      ...DEFAULT_OPTIONS,
      commits: 100,
      culpritRate: 0,
      script: [
        { at: 40, effect: { kind: "crash" as const } },
        { at: 44, fixes: 40 },
      ],
    };
    const commits = planStream(o).flatMap((p) => p.commits);
    expect(commits[40]!.effect?.kind).toBe("crash");
    expect(commits[44]!.fixes).toBe(commits[40]!.effect);
    const trace = simulate(o);
    const fix = trace.chain.find((c) => c.title === "change 45")!;
    expect(fix.isRevert).toBe(false);
    expect(fix.active.some((e) => e.kind === "crash")).toBe(false);
    const report = runSimulation(o);
    expect(report.culpritDetails.find((c) => c.kind === "crash")?.fixedForward).toBe(true);
  });

  it("counts an intermittent culprit and one outside the globs as such", () => {
    const r = runSimulation({
      commits: 300,
      culpritRate: 0,
      script: [
        { at: 100, effect: { kind: "break", test: "test_01", rate: 0.5 } },
        { at: 200, effect: { kind: "break", test: "test_02" }, touches: false },
      ],
    });
    expect(r.culpritDetails.map((c) => [c.intermittent ?? false, c.outsideGlobs ?? false])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it("draws every class's particulars from the seed, reproducibly", () => {
    for (const c of STREAM_CLASSES) expect(c.options(3)).toEqual(c.options(3));
    const fault = STREAM_CLASSES.find((c) => c.name === "gpu-fails-test-1of4")!;
    expect(fault.options(1)).not.toEqual(fault.options(2));
  });

  it("quarantines a GPU that fails a test on its own, re-admits nothing while it still does, and reverts nothing for it", () => {
    const o = { commits: 300, gpus: 4, gpusPerHost: 1, faults: [{ gpus: [1], from: 300, test: "test_03" }] };
    const trace = simulate(o);
    expect(trace.quarantines.map((q) => [q.host, q.to])).toEqual([["sim-host-1", undefined]]);
    // After the quarantine the host runs only canaries, whose results the engine discounts.
    const from = trace.quarantines[0]!.from;
    const later = trace.runs.filter((r) => r.result.environment.host === "sim-host-1" && r.result.startedAt > from);
    expect(later.every((r) => r.job.attempt > 10_000)).toBe(true);
    expect(runSimulation(o).fleet.innocentReverts).toBe(0);
  });
});
