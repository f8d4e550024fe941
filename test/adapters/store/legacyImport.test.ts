import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importRedisLedger } from "../../../src/adapters/store/legacyImport.js";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import type { RunRecord } from "../../../src/model/engine.js";
import { jobId, type JobRequest } from "../../../src/model/jobs.js";
import type { SuiteResult } from "../../../src/model/result.js";
import { sha, testRedis } from "../support.js";
import { testDatabase } from "../../helpers/database.js";

const REPO = "gpu-team/flash-kernels";
let store: ReturnType<typeof testRedis>;
let db: Awaited<ReturnType<typeof testDatabase>>;

const job = (label: string, overrides: Partial<JobRequest> = {}): JobRequest => ({
  sha: sha(label),
  suite: "varlen-attention",
  purpose: "landed",
  attempt: 0,
  ...overrides,
});

function result(label: string, finishedAt: string): SuiteResult {
  return {
    schema: "sheriff.result/v1",
    suite: "varlen-attention",
    commit: sha(label),
    status: "completed",
    startedAt: "2025-03-01T10:00:00.000Z",
    finishedAt,
    tests: [{ name: "fwd_d128", outcome: "pass" }],
    benchmarks: [{ name: "fwd", unit: "us", samples: [1.5, 1.4, 1.6] }],
    environment: { commit: sha(label), executor: "cuda", gpu: "NVIDIA H200" },
  };
}

/** Writes a history the way the Redis ledger of earlier releases laid it out (one hash or list per record kind). */
async function writeLegacyHistory(): Promise<RunRecord[]> {
  const key = (...parts: string[]) => store.key("repo", REPO, ...parts);
  const r = store.redis;
  for (const [i, label] of ["c0", "c1", "c2"].entries()) {
    const commit = {
      sha: sha(label),
      parent: sha(`c${i - 1}`),
      title: `Commit ${label}`,
      author: "alice",
      suites: i === 1 ? [] : ["varlen-attention"],
      isRevert: false,
      branch: "main",
      landedAt: `2025-03-01T10:0${i}:00.000Z`,
    };
    await r.hset(key("commits"), commit.sha, JSON.stringify(commit));
    await r.rpush(key("chain", "main"), commit.sha);
  }
  await r.hset(key("heads"), "main", sha("c2"));
  const runs: RunRecord[] = [
    { job: job("c0"), result: result("c0", "2025-03-01T10:05:00.000Z") },
    { job: job("c2"), result: result("c2", "2025-03-01T10:07:00.000Z") },
    { job: job("c2", { purpose: "retry", attempt: 1 }), result: result("c2", "2025-03-01T10:09:00.000Z") },
  ];
  for (const run of runs) {
    await r.hset(key("runs", "varlen-attention"), jobId(run.job), JSON.stringify(run));
    const record = { id: jobId(run.job), job: run.job, state: "done", enqueuedAt: run.result.startedAt, updatedAt: run.result.finishedAt };
    await r.hset(key("jobs"), record.id, JSON.stringify(record));
  }
  const queued = job("c2", { purpose: "retry", attempt: 2 });
  await r.hset(
    key("jobs"),
    jobId(queued),
    JSON.stringify({
      id: jobId(queued),
      job: queued,
      state: "queued",
      enqueuedAt: "2025-03-01T10:10:00.000Z",
      updatedAt: "2025-03-01T10:10:00.000Z",
    }),
  );
  const decision = {
    type: "regression",
    suite: "varlen-attention",
    kind: "correctness",
    culprit: sha("c2"),
    lastGood: sha("c0"),
    failingTests: [{ name: "fwd_d128" }],
    benchmarks: [],
    summary: "c2 breaks fwd_d128",
  };
  await r.hset(key("verdicts"), `regression.varlen-attention.${sha("c2")}`, JSON.stringify({ decision, at: "2025-03-01T10:11:00.000Z" }));
  const revert = {
    culprit: sha("c2"),
    suite: "varlen-attention",
    outcome: "pr-opened",
    reason: "policy allows",
    summary: "c2 breaks fwd_d128",
    at: "2025-03-01T10:12:00.000Z",
    originalPr: 4,
    revertPr: 9,
    revertBranch: "sheriff/revert-c2",
  };
  await r.hset(key("reverts"), sha("c2"), JSON.stringify(revert));
  await r.hincrby(key("revert-days"), "2025-03-01", 1);
  await r.rpush(
    key("rebaselines"),
    JSON.stringify({ suite: "varlen-attention", sha: sha("c0"), reason: "driver", by: "bob", at: "2025-03-01T09:00:00.000Z" }),
  );
  await r.hset(key("check-runs"), sha("c2"), "777");
  await r.rpush(key("timeline"), JSON.stringify({ at: "2025-03-01T10:00:00.000Z", kind: "landed", text: "Commit c0", sha: sha("c0") }));
  await r.rpush(
    key("timeline"),
    JSON.stringify({ at: "2025-03-01T10:11:00.000Z", kind: "regression", text: "breaks", sha: sha("c2"), suite: "varlen-attention" }),
  );
  return runs;
}

beforeEach(async () => {
  store = testRedis("legacy-import");
  db = await testDatabase("legacy_import");
});

afterEach(async () => {
  await store.cleanup();
  await db.cleanup();
});

describe("importRedisLedger", () => {
  it("moves every record into the database with its own times and order, and a second run adds nothing", async () => {
    const runs = await writeLegacyHistory();
    const [counts] = await importRedisLedger(store, db);
    expect(counts).toEqual({
      repo: REPO,
      commits: 3,
      jobs: 4,
      runs: 3,
      verdicts: 1,
      reverts: 1,
      rebaselines: 1,
      timeline: 2,
      checkRuns: 1,
    });

    const ledger = new Ledger(db, () => new Date("2025-03-01T12:00:00.000Z"));
    const chain = await ledger.chain(REPO, "main");
    expect(chain.map((c) => c.sha)).toEqual([sha("c0"), sha("c1"), sha("c2")]);
    expect(chain[1]).toMatchObject({ suites: [], landedAt: "2025-03-01T10:01:00.000Z" });
    expect(await ledger.head(REPO, "main")).toBe(sha("c2"));
    expect(await ledger.runsOf(REPO, "varlen-attention", [sha("c0"), sha("c2")])).toEqual(runs);
    expect((await ledger.activeJobs(REPO, "varlen-attention")).map((j) => j.job.attempt)).toEqual([2]);
    expect(await ledger.declaredCulprits(REPO, "varlen-attention")).toEqual([sha("c2")]);
    expect(await ledger.revertsByPr(REPO, [9])).toEqual([
      expect.objectContaining({ culprit: sha("c2"), revertBranch: "sheriff/revert-c2" }),
    ]);
    expect(await ledger.revertsToday(REPO)).toBe(1);
    expect(await ledger.rebaselines(REPO, "varlen-attention")).toEqual([
      { suite: "varlen-attention", sha: sha("c0"), reason: "driver", by: "bob", at: "2025-03-01T09:00:00.000Z" },
    ]);
    expect(await ledger.checkRunId(REPO, sha("c2"))).toBe(777);
    expect((await ledger.timeline(REPO)).map((e) => e.kind)).toEqual(["landed", "regression"]);
    // New commits continue the imported chain.
    const next = { sha: sha("c3"), parent: sha("c2"), title: "c3", author: "alice", suites: [], isRevert: false };
    expect(await ledger.recordCommits(REPO, "main", [next])).toBe(1);
    expect(await ledger.seqOf(REPO, "main", sha("c3"))).toBe(3);

    const again = await importRedisLedger(store, db);
    expect(again).toEqual([
      { repo: REPO, commits: 0, jobs: 0, runs: 0, verdicts: 0, reverts: 0, rebaselines: 0, timeline: 0, checkRuns: 0 },
    ]);
    expect(await ledger.timeline(REPO)).toHaveLength(2);
  });

  it("finds nothing to move in an empty prefix", async () => {
    expect(await importRedisLedger(store, db)).toEqual([]);
  });
});
