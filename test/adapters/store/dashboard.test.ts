import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DashboardStore } from "../../../src/adapters/store/dashboard.js";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import { testDatabase } from "../../helpers/database.js";
import { COMMITS, recordStory, REPO, sha } from "../../helpers/dashboardHistory.js";

let db: Awaited<ReturnType<typeof testDatabase>>;
let store: DashboardStore;

beforeEach(async () => {
  db = await testDatabase("dashboard_store");
  await recordStory(new Ledger(db));
  store = new DashboardStore(db);
});

afterEach(async () => {
  await db.cleanup();
});

describe("DashboardStore", () => {
  it("pages commits newest first by chain position, with filters by author and suites", async () => {
    const first = await store.commitPage(REPO, { branch: "main", limit: 4 });
    expect(first.commits.map((c) => c.seq)).toEqual([5, 4, 3, 2]);
    expect(first.more).toBe(true);
    const older = await store.commitPage(REPO, { branch: "main", limit: 4, beforeSeq: 2 });
    expect(older.commits.map((c) => c.sha)).toEqual([COMMITS[1]!.sha, COMMITS[0]!.sha]);
    expect(older.more).toBe(false);
    expect((await store.commitPage(REPO, { branch: "main", limit: 10, author: "dave" })).commits.map((c) => c.seq)).toEqual([3, 2]);
    expect((await store.commitPage(REPO, { branch: "main", limit: 10, suites: ["smoke"] })).commits.map((c) => c.seq)).toEqual([3, 0]);
  });

  it("reads a page's facts: jobs, runs with failing counts, verdicts and reverts", async () => {
    const facts = await store.pageFacts(REPO, [sha("culprit"), sha("tidy")]);
    expect(facts.jobs.map((j) => `${j.suite}:${j.purpose}:${j.state}`).sort()).toEqual([
      "half:bisect:done",
      "half:landed:done",
      "half:landed:superseded",
      "half:retry:done",
    ]);
    expect(facts.runs.filter((r) => r.sha === sha("tidy")).map((r) => [r.purpose, r.failed, r.tests])).toEqual([
      ["landed", 1, 2],
      ["retry", 1, 2],
    ]);
    expect(facts.verdicts).toEqual([
      { type: "regression", suite: "half", sha: sha("culprit"), summary: "culprit breaks convert/f32->bf16/rne" },
    ]);
    expect(facts.reverts).toEqual([{ culprit: sha("culprit"), suite: "half", outcome: "pr-opened", revertPr: 7, originalPr: 5 }]);
  });

  it("finds a commit by a prefix of its sha, and the probes in a searched range", async () => {
    expect((await store.commitsByPrefix(REPO, sha("tidy").slice(0, 7))).map((c) => c.seq)).toEqual([2]);
    expect(await store.probedShas(REPO, "main", "half", { from: sha("base"), to: sha("tidy") })).toEqual([sha("culprit")]);
  });

  it("reads a benchmark's medians per run in arrival order, A/B runs left out", async () => {
    expect(await store.benchmarkNames(REPO, "half")).toEqual(["f32->bf16 2^26"]);
    const points = await store.benchmarkPoints(REPO, "main", "half", "f32->bf16 2^26", 100);
    expect(points.map((p) => [p.seq, p.purpose, p.median, p.referenceMedian, p.gpu])).toEqual([
      [0, "landed", 100, 120, "NVIDIA H100 80GB HBM3"],
      [2, "landed", 104, 120, "NVIDIA H100 80GB HBM3"],
      [2, "retry", 105, 120, "NVIDIA H100 80GB HBM3"],
      [0, "retry", 99, 120, "NVIDIA H100 80GB HBM3"],
      [1, "bisect", 103, 120, "NVIDIA H200"],
    ]);
    expect(await store.benchmarkPoints(REPO, "main", "half", "f32->bf16 2^26", 2)).toHaveLength(2);
  });

  it("counts verdicts by type and kind, and reverts by outcome", async () => {
    expect((await store.verdictCounts()).sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: "flaky", kind: "flaky", count: 1 },
      { type: "regression", kind: "correctness", count: 1 },
    ]);
    expect(await store.revertCounts()).toEqual([{ outcome: "pr-opened", count: 1 }]);
  });
});
