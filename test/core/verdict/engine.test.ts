import { describe, expect, it } from "vitest";
import { probeBudget } from "../../../src/core/culprit/bisect.js";
import { decide } from "../../../src/core/verdict/engine.js";
import { INCOMPLETE_RUN } from "../../../src/core/verdict/tests.js";
import { SUITE, drive, history, sha } from "./harness.js";
import { jobId } from "../../../src/model/jobs.js";

const breaksFrom =
  (culprit: number, test = "t_a") =>
  (i: number) => ({ fail: i >= culprit ? [test] : [] });

describe("correctness", () => {
  it("treats the first tested commit as the baseline, whatever fails there", () => {
    const d = drive({ commits: history(1), landed: [0], behave: () => ({ fail: ["t_b"] }) });
    expect(d.jobs).toHaveLength(1);
    expect(d.regressions).toEqual([]);
  });

  it("retries at the suspect and the last good commit, then bisects untested commits to the culprit", () => {
    const d = drive({ commits: history(10), landed: [0, 9], behave: breaksFrom(5) });
    expect(d.regressions).toHaveLength(1);
    const r = d.regressions[0]!;
    expect(r).toMatchObject({ kind: "correctness", culprit: sha(5), lastGood: sha(4), failingTests: [{ name: "t_a" }] });
    const retries = d.jobs.filter((j) => j.purpose === "retry");
    expect(retries.filter((j) => j.sha === sha(9))).toHaveLength(1);
    expect(retries.filter((j) => j.sha === sha(0))).toHaveLength(1);
    // The culprit failed at its probe and once more at the boundary.
    expect(d.jobs.filter((j) => j.sha === sha(5) && j.purpose === "bisect")).toHaveLength(2);
  });

  it("spends at most ceil(log2(range)) + 3 jobs on a culprit at any position of any range, retries included", () => {
    for (let n = 1; n <= 33; n++) {
      for (let c = 1; c <= n; c++) {
        const d = drive({ commits: history(n + 1), landed: [0, n], behave: breaksFrom(c) });
        expect(d.regressions.map((r) => r.culprit)).toEqual([sha(c)]);
        expect(d.jobs.filter((j) => j.purpose !== "landed").length).toBeLessThanOrEqual(probeBudget(n) + 2);
      }
    }
  });

  it("runs a culprit found at the suspect itself once more before blaming it", () => {
    const d = drive({ commits: history(6), landed: [0, 5], behave: breaksFrom(5) });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(5)]);
    expect(d.runs.filter((r) => r.job.sha === sha(5)).map((r) => r.job.purpose)).toEqual(["landed", "retry", "bisect"]);
  });

  it("does not blame the suspect when its boundary repeat passes", () => {
    // A stable test flakes twice in a row at commit 5 (the landed run and the retry), then passes.
    const d = drive({ commits: history(6), landed: [0, 5], behave: (i, n) => ({ fail: i === 5 && n < 2 ? ["t_b"] : [] }) });
    expect(d.regressions).toEqual([]);
    expect(d.flaky.flatMap((f) => f.tests)).toContain("t_b");
  });

  it("holds a test seen flaking to a streak its flake rate is unlikely to produce", () => {
    // t_c flakes at commit 4 (the landed run fails, the retry passes); commit 12 then really breaks it.
    const behave = (i: number, n: number) => ({ fail: (i === 4 && n === 0) || i >= 12 ? ["t_c"] : [] });
    const d = drive({ commits: history(16), landed: [0, 2, 4, 6, 8, 10, 15], behave });
    expect(d.flaky.map((f) => [f.sha, f.tests])).toEqual([[sha(4), ["t_c"]]]);
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(12)]);
    // Seen flaking once in the runs up to the last good commit 10: Laplace rate (1 + 1) / (runs + 2).
    const runsUpToGood = d.runs.filter((r) => Number.parseInt(r.job.sha.slice(0, 12), 16) - 1 <= 10).length;
    const rate = 2 / (runsUpToGood + 2);
    const streak = Math.ceil(Math.log(SUITE.thresholds.flakeRisk) / Math.log(rate));
    expect(streak).toBeGreaterThan(2);
    expect(d.jobs.filter((j) => j.sha === sha(15) && j.purpose === "retry")).toHaveLength(streak - 1);
    // A stable test breaking in the same place needs one retry.
    const stable = drive({
      commits: history(16),
      landed: [0, 2, 4, 6, 8, 10, 15],
      behave: (i, n) => ({ fail: [...(i === 4 && n === 0 ? ["t_c"] : []), ...(i >= 12 ? ["t_a"] : [])] }),
    });
    expect(stable.regressions.map((r) => r.culprit)).toEqual([sha(12)]);
    expect(stable.jobs.filter((j) => j.sha === sha(15) && j.purpose === "retry")).toHaveLength(1);
  });

  it("asks for the retries past the first one at a time, and stops once a flaky test passes", () => {
    const behave = (i: number, n: number) => ({
      fail: [...((i === 2 && n === 0) || (i === 6 && n < 2) ? ["t_c"] : []), ...(i >= 5 ? ["t_a"] : [])],
    });
    const d = drive({ commits: history(8), landed: [0, 2, 4, 6], behave });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(5)]);
    const retryRounds = d.calls
      .map((c) => c.filter((x) => x.type === "run" && x.job.purpose === "retry" && x.job.sha === sha(6)).length)
      .filter((n) => n > 0);
    expect(retryRounds).toEqual([1, 1]);
  });

  it("marks a failure that does not repeat as flaky and never blames anyone", () => {
    const d = drive({ commits: history(6), landed: [0, 5], behave: (i, n) => ({ fail: i === 5 && n === 0 ? ["t_c"] : [] }) });
    expect(d.regressions).toEqual([]);
    expect(d.flaky).toEqual([expect.objectContaining({ sha: sha(5), tests: ["t_c"] })]);
  });

  it("marks a failure as flaky, not a regression, when the last good commit now fails it as often as not", () => {
    // The runner (or the test) is broken on both sides: every run since the landed ones fails.
    const d = drive({
      commits: history(16),
      landed: [...Array(11).keys(), 15],
      behave: (i, n) => ({ fail: i === 15 || (i === 10 && n >= 1) ? ["t_c"] : [] }),
    });
    expect(d.regressions).toEqual([]);
    expect(d.flaky.map((f) => f.tests)).toEqual([["t_c"]]);
    // The tie after the first retry at the last good commit (one pass, one failure) was broken by one more run.
    expect(d.jobs.filter((j) => j.sha === sha(10) && j.purpose === "retry")).toHaveLength(2);
  });

  it("still finds a break of a test that flaked at the last good commit during the retries", () => {
    const d = drive({
      commits: history(16),
      landed: [...Array(11).keys(), 15],
      behave: (i, n) => ({ fail: i >= 13 || (i === 10 && n === 1) ? ["t_c"] : [] }),
    });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(13)]);
    // The flake at 10 made t_c a test seen flaking: 15 had to fail a longer streak first, and so did the boundary.
    expect(d.runs.filter((r) => r.job.sha === sha(15)).length).toBeGreaterThan(2);
    expect(d.runs.filter((r) => r.job.sha === sha(13)).length).toBeGreaterThan(2);
    expect(d.jobs.filter((j) => j.sha === sha(10) && j.purpose === "retry")).toHaveLength(2);
  });

  it("reports a test too flaky for any streak to judge instead of searching", () => {
    // One flake in the three runs of t_c's short history: (1+1)/(3+2) = 40%, and 0.4^11 > flakeRisk.
    const d = drive({ commits: history(6), landed: [0, 5], behave: (i, n) => ({ fail: i >= 3 || (i === 0 && n === 1) ? ["t_c"] : [] }) });
    expect(d.regressions).toEqual([]);
    expect(d.reports).toEqual([
      expect.objectContaining({ kind: "too-flaky", sha: sha(5), tests: ["t_c"], range: { from: sha(0), to: sha(5), suspects: 5 } }),
    ]);
    expect(d.jobs.filter((j) => j.purpose === "bisect")).toEqual([]);
  });

  it("declares a deterministic crash a correctness regression and an intermittent one flaky", () => {
    const crash = drive({ commits: history(8), landed: [0, 7], behave: (i) => (i >= 3 ? { status: "crashed" } : {}) });
    expect(crash.regressions).toEqual([
      expect.objectContaining({ culprit: sha(3), kind: "correctness", failingTests: [expect.objectContaining({ name: INCOMPLETE_RUN })] }),
    ]);
    const once = drive({ commits: history(8), landed: [0, 7], behave: (i, n) => (i === 7 && n === 0 ? { status: "timed_out" } : {}) });
    expect(once.regressions).toEqual([]);
    expect(once.flaky[0]?.tests).toEqual([INCOMPLETE_RUN]);
  });

  it("never bisects or blames a commit that does not touch the suite, and checks the culprit's parent", () => {
    const touches = (i: number) => i % 2 === 0;
    // Odd commits touch no suite path, and commit 5 is the one that breaks t_a.
    const d = drive({ commits: history(12, touches), landed: [0, 10], behave: breaksFrom(5) });
    const index = (s: string) => Number.parseInt(s.slice(0, 12), 16) - 1;
    const untouched = d.jobs.filter((j) => j.purpose !== "landed" && j.purpose !== "retry" && !touches(index(j.sha)));
    // Only the parent of the suite commit found, 6, is run: it fails, so 6 is innocent.
    expect(untouched.map((j) => index(j.sha))).toEqual([5]);
    expect(d.regressions).toEqual([]);
    expect(d.reports.map((r) => [r.kind, r.sha])).toEqual([["outside-globs", sha(5)]]);
  });

  it("reports a failure with no suite commit in range as environment, not a regression", () => {
    const d = drive({ commits: history(6, (i) => i === 0), landed: [0, 5], behave: breaksFrom(3) });
    expect(d.regressions).toEqual([]);
    expect(d.flaky[0]?.summary).toMatch(/no commit .* touches the suite/);
  });

  it("repeats at the boundary so a flake at a probe does not get an innocent commit reverted", () => {
    // Commit 15 (the first probe) flakes t_a on its first run only; the real break is commit 17.
    const d = drive({
      commits: history(20),
      landed: [...Array(11).keys(), 19],
      behave: (i, n) => ({ fail: i >= 17 || (i === 15 && n === 0) ? ["t_a"] : [] }),
    });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(17)]);
    expect(d.jobs.filter((j) => j.sha === sha(15) && j.purpose === "bisect")).toHaveLength(2);
    // The flake at 15 makes t_a a flaky test of this range: the boundary needs the streak its rate asks for.
    const streak = d.runs.filter((r) => r.job.sha === sha(17) && r.result.tests.some((t) => t.name === "t_a" && t.outcome === "fail"));
    expect(streak.length).toBeGreaterThanOrEqual(5);
  });

  it("blames a commit only after its failures were seen on two hosts, and checks them away from the failing one", () => {
    // Host h1 fails t_b at every commit from 3 on; the code is fine.
    const hosts = ["h1", "h2"];
    const broken = drive({
      commits: history(8),
      landed: [0, 7],
      hosts,
      behave: (i, n, job) => (i === 7 && n === 0 ? { host: "h1", fail: ["t_b"] } : job.purpose === "landed" ? { host: "h2" } : {}),
    });
    expect(broken.regressions).toEqual([]);
    const retries = broken.calls.flat().filter((x) => x.type === "run" && x.job.purpose === "retry" && x.job.sha === sha(7));
    expect(retries.every((x) => x.type === "run" && x.avoidHosts?.includes("h1"))).toBe(true);
    // A real break fails on both hosts and is found.
    const real = drive({ commits: history(8), landed: [0, 7], hosts, behave: breaksFrom(5) });
    expect(real.regressions.map((r) => r.culprit)).toEqual([sha(5)]);
    const hostsAt5 = new Set(real.runs.filter((r) => r.job.sha === sha(5)).map((r) => r.result.environment.host));
    expect(hostsAt5.size).toBe(2);
  });

  it("probes several commits at once when several GPUs are free", () => {
    const d = drive({ commits: history(30), landed: [0, 29], behave: breaksFrom(17), parallelism: 3 });
    const rounds = d.calls.map((c) => c.filter((x) => x.type === "run" && x.job.purpose === "bisect").length).filter((n) => n > 0);
    expect(rounds[0]).toBe(3);
    expect(d.regressions[0]?.culprit).toBe(sha(17));
  });

  it("finds two culprits breaking different tests in one range", () => {
    const d = drive({
      commits: history(16),
      landed: [0, 15],
      behave: (i) => ({ fail: [...(i >= 4 ? ["t_a"] : []), ...(i >= 11 ? ["t_b"] : [])] }),
    });
    expect(d.regressions.map((r) => r.culprit).sort()).toEqual([sha(4), sha(11)]);
  });

  it("after a revert restores the test, a later break is found on its own", () => {
    const commits = history(14, () => true, [6]);
    const d = drive({ commits, landed: [0, 5, 6, 13], behave: (i) => ({ fail: (i >= 3 && i < 6) || i >= 10 ? ["t_a"] : [] }) });
    expect(d.regressions.map((r) => r.culprit).sort()).toEqual([sha(10), sha(3)].sort());
  });
});

describe("idempotence", () => {
  it("returns the same decisions for the same input and asks for no job twice", () => {
    const commits = history(10);
    const d = drive({ commits, landed: [0, 9], behave: breaksFrom(5) });
    const someRuns = d.runs.slice(0, 5);
    const input = { suite: SUITE, commits, runs: someRuns, pending: [], rebaselines: [], declared: [], parallelism: 2 };
    const first = decide(input);
    expect(decide(input)).toEqual(first);
    const asked = first.flatMap((x) => (x.type === "run" ? [x.job] : []));
    expect(asked.length).toBeGreaterThan(0);
    const again = decide({ ...input, pending: asked });
    expect(again.filter((x) => x.type === "run")).toEqual([]);
    const ids = new Set(someRuns.map((r) => jobId(r.job)));
    expect(asked.some((j) => ids.has(jobId(j)))).toBe(false);
  });

  it("does not declare a culprit already in `declared`", () => {
    const commits = history(10);
    const d = drive({ commits, landed: [0, 9], behave: breaksFrom(5) });
    const input = { suite: SUITE, commits, runs: d.runs, pending: [], rebaselines: [], declared: [], parallelism: 1 };
    expect(decide(input).filter((x) => x.type === "regression")).toHaveLength(1);
    expect(decide({ ...input, declared: [sha(5)] }).filter((x) => x.type === "regression")).toEqual([]);
  });
});

describe("before blaming", () => {
  it("checks the culprit's parent in the same job where commits no glob matches lie before it, and reports a break among them", () => {
    // Commits 2-4 touch no suite path; commit 3 breaks t_a. The next suite commit, 5, is innocent.
    const touches = (i: number) => i < 2 || i > 4;
    const d = drive({ commits: history(8, touches), landed: [0, 7], behave: breaksFrom(3) });
    expect(d.regressions).toEqual([]);
    expect(d.reports).toEqual([expect.objectContaining({ kind: "outside-globs", sha: sha(4), tests: ["t_a"] })]);
    expect(d.reports[0]!.summary).toMatch(/k\/\*\*/);
    // The same stream with the break in suite commit 5: its parent passes, and 5 is blamed.
    const real = drive({ commits: history(8, touches), landed: [0, 7], behave: breaksFrom(5) });
    expect(real.regressions.map((r) => r.culprit)).toEqual([sha(5)]);
    expect(real.jobs.filter((j) => j.purpose === "ab" && j.sha === sha(5) && j.baselineSha === sha(4))).toHaveLength(1);
  });

  it("reports a break fixed forward at a later checkpoint instead of reverting it", () => {
    // 3 breaks t_a; 9 fixes it (not a revert); the landed run at 10 passes before the search ends.
    const d = drive({ commits: history(11), landed: [0, 7, 10], behave: (i) => ({ fail: i >= 3 && i < 9 ? ["t_a"] : [] }) });
    expect(d.regressions).toEqual([]);
    expect(d.reports).toEqual([expect.objectContaining({ kind: "fixed-forward", sha: sha(3), tests: ["t_a"] })]);
  });

  it("ends a search it cannot finish with a gave-up report naming the range", () => {
    // Every commit from 2 to 7 crashes (a crash nobody reverted); t_b broke somewhere under it.
    const d = drive({
      commits: history(10),
      landed: [0, 9],
      behave: (i) => (i >= 2 && i < 8 ? { status: "crashed" } : { fail: i >= 8 ? ["t_b"] : [] }),
    });
    expect(d.regressions.filter((r) => r.failingTests.some((t) => t.name === "t_b"))).toEqual([]);
    const gaveUp = d.reports.filter((r) => r.kind === "gave-up");
    expect(gaveUp).toEqual([expect.objectContaining({ sha: sha(9), range: expect.objectContaining({ from: sha(0), to: sha(9) }) })]);
  });
});
