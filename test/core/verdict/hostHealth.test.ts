import { describe, expect, it } from "vitest";
import { CANARY_RUNS, hostHealth } from "../../../src/core/verdict/hostHealth.js";
import { discounted, hostsNeeded } from "../../../src/core/verdict/hosts.js";
import { Rng } from "../../../src/dev/sim/prng.js";
import type { RunRecord } from "../../../src/model/engine.js";
import { SUITE, result, sha } from "./harness.js";

const rng = new Rng(5);
let attempt = 0;
const run = (i: number, host: string, fail: string[] = [], finishedAt = "2026-11-25T01:00:00.000Z"): RunRecord => {
  const r = result(sha(i), { host, fail }, rng);
  return { job: { sha: sha(i), suite: SUITE.name, purpose: "retry", attempt: ++attempt }, result: { ...r, finishedAt } };
};

describe("host health", () => {
  it("quarantines a host whose failures other hosts do not reproduce, commit after commit", () => {
    const runs = [0, 1, 2, 3, 4, 5, 6, 7, 8].flatMap((i) => [run(i, "bad", ["t_a"]), run(i, "good")]);
    const decisions = hostHealth({ runs, quarantines: [], now: "2026-11-25T02:00:00.000Z" });
    expect(decisions).toEqual([expect.objectContaining({ type: "quarantine", host: "bad" })]);
  });

  it("quarantines nobody for a failure every host shows, or for flakes spread over the fleet", () => {
    const broken = [0, 1, 2, 3].flatMap((i) => [run(i, "h1", ["t_a"]), run(i, "h2", ["t_a"])]);
    expect(hostHealth({ runs: broken, quarantines: [], now: "2026-11-25T02:00:00.000Z" })).toEqual([]);
    const flaky = [0, 1, 2, 3, 4, 5].flatMap((i) =>
      i % 2 ? [run(i, "h1", ["t_c"]), run(i, "h2")] : [run(i, "h2", ["t_c"]), run(i, "h1")],
    );
    expect(hostHealth({ runs: flaky, quarantines: [], now: "2026-11-25T02:00:00.000Z" })).toEqual([]);
  });

  it("asks for canaries while a host is quarantined and re-admits it after clean ones in a row", () => {
    const from = "2026-11-25T01:30:00.000Z";
    const quarantines = [{ host: "bad", from }];
    const before = [run(0, "good"), run(1, "good")];
    const asked = hostHealth({ runs: before, quarantines, now: "2026-11-25T02:00:00.000Z" });
    expect(asked).toEqual([expect.objectContaining({ type: "canary", host: "bad" })]);
    const canaries = Array.from({ length: CANARY_RUNS }, (_, k) => run(k, "bad", [], `2026-11-25T02:0${k}:00.000Z`));
    const [readmit] = hostHealth({ runs: [...before, run(2, "good"), ...canaries], quarantines, now: "2026-11-25T03:00:00.000Z" });
    expect(readmit).toEqual(expect.objectContaining({ type: "readmit", host: "bad" }));
    // Its results while quarantined are discounted, the ones before and after are not.
    expect(discounted(canaries[0]!, [{ ...quarantines[0]!, to: "2026-11-25T02:30:00.000Z" }])).toBe(true);
    expect(discounted(run(0, "bad"), quarantines)).toBe(false);
  });

  it("needs two hosts for a blame only where two were admitted when the failing runs finished", () => {
    const fleet = ["h1", "h2"];
    const quarantines = [{ host: "h2", from: "2026-11-25T02:00:00.000Z", to: "2026-11-25T04:00:00.000Z" }];
    expect(hostsNeeded(fleet, quarantines, [run(0, "h1", ["t_a"], "2026-11-25T01:00:00.000Z")])).toBe(2);
    expect(hostsNeeded(fleet, quarantines, [run(0, "h1", ["t_a"], "2026-11-25T03:00:00.000Z")])).toBe(1);
    expect(hostsNeeded(fleet, quarantines, [run(0, "h1", ["t_a"], "2026-11-25T04:00:00.000Z")])).toBe(2);
    expect(hostsNeeded(["h1"], [], [])).toBe(1);
  });
});
