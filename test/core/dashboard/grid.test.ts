import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildGrid, cellState } from "../../../src/core/dashboard/grid.js";
import type { ChainCommit, JobFact, PageFacts, RunFact } from "../../../src/model/dashboard.js";

const sha = (label: string) => createHash("sha1").update(label).digest("hex");

function commit(label: string, seq: number, suites: string[], extra: Partial<ChainCommit> = {}): ChainCommit {
  return {
    seq,
    sha: sha(label),
    parent: sha(`${label}^`),
    title: label,
    author: "alice",
    suites,
    isRevert: false,
    landedAt: "2026-12-01T10:00:00.000Z",
    ...extra,
  };
}

function run(c: ChainCommit, suite: string, purpose: RunFact["purpose"], failed = 0, status: RunFact["status"] = "completed"): RunFact {
  return { jobId: `${suite}.${c.sha.slice(0, 12)}.${purpose}.0`, sha: c.sha, suite, purpose, status, tests: 4, failed };
}

function job(c: ChainCommit, suite: string, purpose: JobFact["purpose"], state: JobFact["state"]): JobFact {
  return { sha: c.sha, suite, purpose, state };
}

const none = { jobs: [], runs: [], regression: false, flaky: false };

describe("cellState", () => {
  const c = commit("a", 1, ["smoke"]);

  it("tells each outcome of the commit's own runs apart", () => {
    expect(cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "landed")] }).state).toBe("passed");
    expect(cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "landed", 2)] }).state).toBe("failed");
    expect(cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "landed", 0, "crashed")] }).state).toBe("crashed");
    expect(cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "landed", 0, "timed_out")] }).state).toBe("timed-out");
  });

  it("shows the newest of several runs, and counts them", () => {
    const cell = cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "landed", 1), run(c, "smoke", "retry")] });
    expect(cell).toMatchObject({ state: "passed", runs: 2 });
  });

  it("puts verdicts before runs: a culprit is failed and marked, a flaky test is flaky", () => {
    const runs = [run(c, "smoke", "landed", 1), run(c, "smoke", "retry")];
    expect(cellState(c, "smoke", { ...none, runs, regression: true })).toMatchObject({ state: "failed", culprit: true });
    expect(cellState(c, "smoke", { ...none, runs, flaky: true })).toMatchObject({ state: "flaky", culprit: false });
  });

  it("marks a commit only bisection probed, and one whose job is still queued", () => {
    expect(cellState(c, "smoke", { ...none, runs: [run(c, "smoke", "bisect", 1)] })).toMatchObject({
      state: "probed",
      detail: "probed by bisection: failed",
    });
    expect(cellState(c, "smoke", { ...none, jobs: [job(c, "smoke", "landed", "queued")] }).state).toBe("pending");
  });

  it("tells a superseded job from a commit never tested and one that touches nothing of the suite", () => {
    expect(cellState(c, "smoke", { ...none, jobs: [job(c, "smoke", "landed", "superseded")] }).state).toBe("superseded");
    expect(cellState(c, "smoke", none).state).toBe("untested");
    expect(cellState(c, "other", none).state).toBe("not-touched");
  });
});

describe("buildGrid", () => {
  const good = commit("good", 1, ["half", "smoke"]);
  const culprit = commit("culprit", 2, ["half"]);
  const later = commit("later", 3, ["half"]);
  const revert = commit("revert", 4, ["half"], { isRevert: true, title: 'Revert "culprit"' });
  const facts: PageFacts = {
    jobs: [job(culprit, "half", "landed", "superseded"), job(later, "half", "landed", "done")],
    runs: [run(good, "half", "landed"), run(good, "smoke", "landed"), run(later, "half", "landed", 1), run(culprit, "half", "bisect", 1)],
    verdicts: [{ type: "regression", suite: "half", sha: culprit.sha, summary: "breaks bf16" }],
    reverts: [{ culprit: culprit.sha, suite: "half", outcome: "pr-opened", revertPr: 7, originalPr: 5 }],
  };
  const commits = [revert, later, culprit, good];

  it("has a column per suite seen on the page and marks the culprit's row with its revert PR", () => {
    const grid = buildGrid(commits, facts);
    expect(grid.suites).toEqual(["half", "smoke"]);
    const row = grid.rows.find((r) => r.commit.sha === culprit.sha)!;
    expect(row.culpritOf).toEqual(["half"]);
    expect(row.revert?.revertPr).toBe(7);
    expect(row.cells.map((c) => c.state)).toEqual(["failed", "not-touched"]);
    expect(grid.rows.map((r) => r.cells[0]!.state)).toEqual(["untested", "failed", "failed", "passed"]);
  });

  it("shows one column when filtered by suite", () => {
    const grid = buildGrid(commits, facts, "smoke");
    expect(grid.suites).toEqual(["smoke"]);
    expect(grid.rows.at(-1)!.cells[0]!.state).toBe("passed");
  });
});
