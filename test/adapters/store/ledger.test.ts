import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import type { FlakyDecision, LandedCommit, RegressionDecision, RunRecord } from "../../../src/model/engine.js";
import { jobId, type JobRequest } from "../../../src/model/jobs.js";
import type { SuiteResult } from "../../../src/model/result.js";
import { sha } from "../support.js";
import { DATABASE_URL, testDatabase } from "../../helpers/database.js";
import { connectDatabase } from "../../../src/adapters/store/database.js";

const REPO = "gpu-team/flash-kernels";

type TestDb = Awaited<ReturnType<typeof testDatabase>>;
let db: TestDb;
let ledger: Ledger;
let clock: number;

/** A clock that moves one second per reading, so every record has its own, ordered time. */
const tick = () => new Date((clock += 1000));
const at = (secondsAfterStart: number) => new Date(Date.parse("2025-03-01T10:00:00.000Z") + secondsAfterStart * 1000).toISOString();

function landed(label: string, parentLabel: string, suites = ["varlen-attention"]): LandedCommit {
  return { sha: sha(label), parent: sha(parentLabel), title: `Commit ${label}`, author: "alice", suites, isRevert: false };
}

/** A linear history c0..c(n-1), each the parent of the next. */
function history(n: number, from = 0): LandedCommit[] {
  return Array.from({ length: n }, (_, i) => landed(`c${from + i}`, `c${from + i - 1}`));
}

const job = (overrides: Partial<JobRequest> = {}): JobRequest => ({
  sha: sha("c1"),
  suite: "varlen-attention",
  purpose: "landed",
  attempt: 0,
  ...overrides,
});

function result(commit: string, suite = "varlen-attention"): SuiteResult {
  return {
    schema: "sheriff.result/v1",
    suite,
    commit,
    status: "completed",
    startedAt: "2025-03-01T10:00:00.000Z",
    finishedAt: "2025-03-01T10:05:00.000Z",
    tests: [{ name: "fwd_d128", outcome: "pass" }],
    benchmarks: [],
    environment: { commit, executor: "cuda", gpu: "NVIDIA H200" },
  };
}

function regression(culprit: string, summary = "fwd_d128 fails"): RegressionDecision {
  return {
    type: "regression",
    suite: "varlen-attention",
    kind: "correctness",
    culprit,
    lastGood: sha("c0"),
    failingTests: [{ name: "fwd_d128", message: "max error 0.3 > 0.01" }],
    benchmarks: [],
    summary,
  };
}

async function count(table: string): Promise<number> {
  return Number((await db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
}

beforeEach(async () => {
  clock = Date.parse("2025-03-01T10:00:00.000Z");
  db = await testDatabase("ledger");
  ledger = new Ledger(db, tick);
});

afterEach(async () => {
  const schema = db.schema;
  await db.cleanup();
  const probe = connectDatabase(DATABASE_URL);
  try {
    const left = await probe.pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
    expect(left.rows, "the test's schema is dropped").toEqual([]);
  } finally {
    await probe.close();
  }
});

describe("recordCommits", () => {
  it("appends new commits in order and stores each with its branch and landing time", async () => {
    const commits = history(3);
    expect(await ledger.recordCommits(REPO, "main", commits)).toBe(3);
    const chain = await ledger.chain(REPO, "main");
    expect(chain.map((c) => c.sha)).toEqual(commits.map((c) => c.sha));
    // One clock reading per call: the batch landed together.
    expect(chain[0]).toEqual({ ...commits[0], branch: "main", landedAt: at(1) });
    expect(chain.every((c) => c.landedAt === at(1))).toBe(true);
    expect(await ledger.commit(REPO, commits[1]!.sha)).toEqual({ ...commits[1], branch: "main", landedAt: at(1) });
    expect(await ledger.commit(REPO, sha("never landed"))).toBeNull();
  });

  it("records the same commits once, however often they are delivered", async () => {
    const commits = history(3);
    await ledger.recordCommits(REPO, "main", commits);
    expect(await ledger.recordCommits(REPO, "main", commits)).toBe(0);
    // An overlapping batch (a redelivered push plus one new commit) adds only the new one, at the end.
    const next = landed("c3", "c2");
    expect(await ledger.recordCommits(REPO, "main", [...commits.slice(1), next])).toBe(1);
    const chain = await ledger.chain(REPO, "main");
    expect(chain.map((c) => c.sha)).toEqual([...commits, next].map((c) => c.sha));
    // The first record wins: the redelivery did not move the landing time.
    expect(chain[0]!.landedAt).toBe(at(1));
    expect(chain[3]!.landedAt).toBe(at(3));
  });

  it("writes nothing for an empty batch", async () => {
    expect(await ledger.recordCommits(REPO, "main", [])).toBe(0);
    expect(await ledger.chain(REPO, "main")).toEqual([]);
    expect(await count("commits")).toBe(0);
    expect(await count("branches")).toBe(0);
  });

  it("adds each commit once when two connections append the same history concurrently", async () => {
    const other = await testDatabase("ledger", db.schema);
    try {
      const ledgers = [ledger, new Ledger(other, tick)];
      const commits = history(60);
      const batches = Array.from({ length: 6 }, (_, i) => commits.slice(i * 10, i * 10 + 15));
      // Each process sends its batches in order, as a webhook handler and a retried job would.
      const added = await Promise.all(
        ledgers.map(async (l) => {
          let total = 0;
          for (const batch of batches) total += await l.recordCommits(REPO, "main", batch);
          return total;
        }),
      );
      expect(added[0]! + added[1]!).toBe(60);
      const chain = await ledger.chain(REPO, "main");
      expect(chain.map((c) => c.sha)).toEqual(commits.map((c) => c.sha));
      expect(await count("commits")).toBe(60);
    } finally {
      await other.close();
    }
  });

  it("keeps repositories and branches apart", async () => {
    await ledger.recordCommits(REPO, "main", history(2));
    await ledger.recordCommits("gpu-team/other", "main", history(1));
    await ledger.recordCommits(REPO, "release", [landed("r0", "c1")]);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
    expect((await ledger.chain("gpu-team/other", "main")).map((c) => c.sha)).toEqual([sha("c0")]);
    expect(await ledger.chain(REPO, "release")).toEqual([expect.objectContaining({ sha: sha("r0"), branch: "release" })]);
    const branches = await db.pool.query("SELECT repo, branch, next_seq FROM branches ORDER BY repo, branch");
    expect(branches.rows).toEqual([
      { repo: REPO, branch: "main", next_seq: "2" },
      { repo: REPO, branch: "release", next_seq: "1" },
      { repo: "gpu-team/other", branch: "main", next_seq: "1" },
    ]);
  });

  it("puts a commit that lands on two branches on both chains", async () => {
    await ledger.recordCommits(REPO, "main", history(2));
    expect(await ledger.recordCommits(REPO, "release", history(2))).toBe(2);
    expect((await ledger.chain(REPO, "release")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
  });

  it("reads a chain from a position, and finds positions and prefixes", async () => {
    await ledger.recordCommits(REPO, "main", history(5));
    expect(await ledger.seqOf(REPO, "main", sha("c3"))).toBe(3);
    expect(await ledger.seqOf(REPO, "release", sha("c3"))).toBeNull();
    expect((await ledger.chainFrom(REPO, "main", 3)).map((c) => c.sha)).toEqual([sha("c3"), sha("c4")]);
    expect(await ledger.hasChain(REPO, "main")).toBe(true);
    expect(await ledger.hasChain(REPO, "release")).toBe(false);
    const full = sha("c2");
    expect((await ledger.commitsByPrefix(REPO, "main", full.slice(0, 7).toUpperCase())).map((c) => c.sha)).toEqual([full]);
    expect(await ledger.commitsByPrefix(REPO, "main", "")).toHaveLength(2);
  });
});

describe("truncateChain", () => {
  it("cuts the chain back to the merge base after a force push and forgets the commits after it", async () => {
    const commits = history(5);
    await ledger.recordCommits(REPO, "main", commits);
    const dropped = await ledger.truncateChain(REPO, "main", sha("c1"));
    expect(dropped).toEqual([sha("c2"), sha("c3"), sha("c4")]);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
    expect(await ledger.commit(REPO, sha("c3"))).toBeNull();
    expect(await ledger.commit(REPO, sha("c1"))).toMatchObject({ sha: sha("c1") });
    // The rewritten history lands on the base; a dropped commit that lands anew is accepted again.
    const rewritten = [landed("c2'", "c1"), landed("c3", "c2'")];
    expect(await ledger.recordCommits(REPO, "main", rewritten)).toBe(2);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1"), sha("c2'"), sha("c3")]);
    expect(await ledger.commit(REPO, sha("c3"))).toMatchObject({ parent: sha("c2'") });
  });

  it("drops nothing when the base is the last commit of the chain", async () => {
    await ledger.recordCommits(REPO, "main", history(3));
    expect(await ledger.truncateChain(REPO, "main", sha("c2"))).toEqual([]);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1"), sha("c2")]);
  });

  it("drops the whole chain when there is no merge base", async () => {
    await ledger.recordCommits(REPO, "main", history(3));
    expect(await ledger.truncateChain(REPO, "main", null)).toEqual([sha("c0"), sha("c1"), sha("c2")]);
    expect(await ledger.chain(REPO, "main")).toEqual([]);
    expect(await ledger.commit(REPO, sha("c0"))).toBeNull();
    // The same commits landing again are recorded once each.
    expect(await ledger.recordCommits(REPO, "main", history(3))).toBe(3);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1"), sha("c2")]);
  });

  it("forgets the engine windows that started on a dropped commit", async () => {
    await ledger.recordCommits(REPO, "main", history(5));
    await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 1, carry: { anchor: "c1" } });
    await ledger.setEngineWindow(REPO, "main", "index-reduce", { fromSeq: 3, carry: { anchor: "c3" } });
    await ledger.truncateChain(REPO, "main", sha("c2"));
    expect(await ledger.engineWindow(REPO, "main", "varlen-attention")).toEqual({ fromSeq: 1, carry: { anchor: "c1" }, version: 0 });
    expect(await ledger.engineWindow(REPO, "main", "index-reduce")).toBeNull();
  });

  it("leaves other branches' chains alone", async () => {
    await ledger.recordCommits(REPO, "main", history(3));
    await ledger.recordCommits(REPO, "release", [landed("r0", "c0"), landed("r1", "r0")]);
    await ledger.truncateChain(REPO, "main", sha("c0"));
    expect((await ledger.chain(REPO, "release")).map((c) => c.sha)).toEqual([sha("r0"), sha("r1")]);
  });
});

describe("jobs", () => {
  it("records a job as queued once; a duplicate returns false and changes nothing", async () => {
    expect(await ledger.recordJobQueued(REPO, job())).toBe(true);
    expect(await ledger.recordJobQueued(REPO, job())).toBe(false);
    expect(await ledger.jobs(REPO)).toEqual([{ id: jobId(job()), job: job(), state: "queued", enqueuedAt: at(1), updatedAt: at(1) }]);
    // Another attempt is another job.
    expect(await ledger.recordJobQueued(REPO, job({ attempt: 1 }))).toBe(true);
    expect((await ledger.jobs(REPO)).map((j) => j.id).sort()).toEqual([jobId(job()), jobId(job({ attempt: 1 }))].sort());
  });

  it("moves a job through its states, keeping when it was queued and the error of a failure", async () => {
    await ledger.recordJobQueued(REPO, job());
    await ledger.setJobState(REPO, job(), "running");
    expect(await ledger.jobs(REPO)).toEqual([expect.objectContaining({ state: "running", enqueuedAt: at(1), updatedAt: at(2) })]);
    await ledger.setJobState(REPO, job(), "failed", "CUDA error: an illegal memory access was encountered");
    expect(await ledger.jobs(REPO)).toEqual([
      expect.objectContaining({
        state: "failed",
        enqueuedAt: at(1),
        updatedAt: at(3),
        error: "CUDA error: an illegal memory access was encountered",
      }),
    ]);
  });

  it("creates the record when a state arrives for a job it never saw queued", async () => {
    await ledger.setJobState(REPO, job({ purpose: "bisect" }), "running");
    expect(await ledger.jobs(REPO)).toEqual([
      { id: jobId(job({ purpose: "bisect" })), job: job({ purpose: "bisect" }), state: "running", enqueuedAt: at(1), updatedAt: at(1) },
    ]);
  });
});

describe("runs", () => {
  it("stores a result once per job and marks the job done", async () => {
    const run: RunRecord = { job: job(), result: result(sha("c1")) };
    await ledger.recordJobQueued(REPO, job());
    expect(await ledger.recordRun(REPO, run)).toBe(true);
    const retried: RunRecord = { job: job(), result: { ...result(sha("c1")), status: "crashed" } };
    expect(await ledger.recordRun(REPO, retried)).toBe(false);
    expect(await ledger.runs(REPO, "varlen-attention")).toEqual([run]);
    expect(await ledger.jobs(REPO)).toEqual([expect.objectContaining({ state: "done", enqueuedAt: at(1) })]);
  });

  it("reads the runs at a commit across the asked suites", async () => {
    const runs: RunRecord[] = [
      { job: job(), result: result(sha("c1")) },
      { job: job({ sha: sha("c2") }), result: result(sha("c2")) },
      { job: job({ suite: "index-reduce" }), result: result(sha("c1"), "index-reduce") },
      { job: job({ suite: "cuda-events" }), result: result(sha("c1"), "cuda-events") },
    ];
    for (const run of runs) await ledger.recordRun(REPO, run);
    const atC1 = await ledger.runsAt(REPO, sha("c1"), ["varlen-attention", "index-reduce"]);
    expect(atC1.map((r) => r.job.suite).sort()).toEqual(["index-reduce", "varlen-attention"]);
    expect(atC1.every((r) => r.job.sha === sha("c1"))).toBe(true);
  });
});

describe("verdicts", () => {
  it("records a verdict once per kind, suite and commit, the first one winning", async () => {
    expect(await ledger.recordVerdict(REPO, regression(sha("c2")))).toBe(true);
    expect(await ledger.recordVerdict(REPO, regression(sha("c2"), "a retry's summary"))).toBe(false);
    const flaky: FlakyDecision = {
      type: "flaky",
      suite: "varlen-attention",
      sha: sha("c2"),
      tests: ["fwd_d64"],
      summary: "fwd_d64 flakes",
    };
    expect(await ledger.recordVerdict(REPO, flaky)).toBe(true);
    expect(await ledger.recordVerdict(REPO, { ...regression(sha("c2")), suite: "index-reduce" })).toBe(true);
    const verdicts = await ledger.verdicts(REPO);
    expect(verdicts.map((v) => v.at)).toEqual([at(1), at(3), at(4)]);
    expect(verdicts[0]!.decision).toEqual(regression(sha("c2")));
  });

  it("lists the culprits declared for a suite", async () => {
    await ledger.recordVerdict(REPO, regression(sha("c2")));
    await ledger.recordVerdict(REPO, regression(sha("c4")));
    await ledger.recordVerdict(REPO, { ...regression(sha("c3")), suite: "index-reduce" });
    await ledger.recordVerdict(REPO, { type: "flaky", suite: "varlen-attention", sha: sha("c5"), tests: ["t"], summary: "flaky" });
    expect(await ledger.declaredCulprits(REPO, "varlen-attention")).toEqual([sha("c2"), sha("c4")]);
    expect(await ledger.declaredCulprits(REPO, "index-reduce")).toEqual([sha("c3")]);
  });
});

describe("reverts", () => {
  it("keeps one record per culprit and counts reverts per day", async () => {
    const record = {
      culprit: sha("c2"),
      suite: "varlen-attention",
      outcome: "recorded" as const,
      reason: "shadow mode",
      summary: "fwd fails",
    };
    await ledger.recordRevert(REPO, { ...record, at: at(10) });
    await ledger.recordRevert(REPO, { ...record, outcome: "pr-opened", revertPr: 101, at: at(20) });
    await ledger.recordRevert(REPO, { ...record, culprit: sha("c1"), at: at(5) });
    expect((await ledger.reverts(REPO)).map((r) => [r.culprit, r.outcome])).toEqual([
      [sha("c1"), "recorded"],
      [sha("c2"), "pr-opened"],
    ]);
    expect(await ledger.revertsToday(REPO)).toBe(0);
    await ledger.countRevertToday(REPO);
    await ledger.countRevertToday(REPO);
    expect(await ledger.revertsToday(REPO)).toBe(2);
    clock += 24 * 3600 * 1000;
    expect(await ledger.revertsToday(REPO)).toBe(0);
  });
});

describe("check runs, heads, timeline and rebaselines", () => {
  it("stores a check-run id per commit", async () => {
    expect(await ledger.checkRunId(REPO, sha("c1"))).toBeNull();
    await ledger.setCheckRunId(REPO, sha("c1"), 8_123_456_789);
    await ledger.setCheckRunId(REPO, sha("c2"), 42);
    expect(await ledger.checkRunId(REPO, sha("c1"))).toBe(8_123_456_789);
    expect(await ledger.checkRunId(REPO, sha("c2"))).toBe(42);
    expect(await ledger.checkRunId("gpu-team/other", sha("c1"))).toBeNull();
  });

  it("remembers the head planned from per branch", async () => {
    expect(await ledger.head(REPO, "main")).toBeNull();
    await ledger.setHead(REPO, "main", sha("c1"));
    await ledger.setHead(REPO, "main", sha("c2"));
    await ledger.setHead(REPO, "release", sha("r0"));
    expect(await ledger.head(REPO, "main")).toBe(sha("c2"));
    expect(await ledger.head(REPO, "release")).toBe(sha("r0"));
  });

  it("appends timeline notes in order, stamped by the clock", async () => {
    await ledger.note(REPO, { kind: "history-rewritten", text: "force push: 2 commit(s) left the branch", sha: sha("c3") });
    await ledger.note(REPO, { kind: "verdict", text: "c2 broke fwd_d128", sha: sha("c2"), suite: "varlen-attention" });
    expect(await ledger.timeline(REPO)).toEqual([
      { at: at(1), kind: "history-rewritten", text: "force push: 2 commit(s) left the branch", sha: sha("c3") },
      { at: at(2), kind: "verdict", text: "c2 broke fwd_d128", sha: sha("c2"), suite: "varlen-attention" },
    ]);
  });

  it("keeps rebaselines in order and reads them per suite", async () => {
    const rebaseline = (suite: string, label: string) => ({ suite, sha: sha(label), reason: "new GPU driver", by: "alice", at: at(0) });
    await ledger.recordRebaseline(REPO, rebaseline("varlen-attention", "c1"));
    await ledger.recordRebaseline(REPO, rebaseline("index-reduce", "c2"));
    await ledger.recordRebaseline(REPO, rebaseline("varlen-attention", "c3"));
    expect(await ledger.rebaselines(REPO, "varlen-attention")).toEqual([
      rebaseline("varlen-attention", "c1"),
      rebaseline("varlen-attention", "c3"),
    ]);
    expect(await ledger.rebaselines(REPO, "half-precision")).toEqual([]);
  });
});

describe("reads by key", () => {
  it("reads jobs at a commit and a suite's active jobs", async () => {
    await ledger.recordJobQueued(REPO, job());
    await ledger.recordJobQueued(REPO, job({ purpose: "retry", attempt: 1 }));
    await ledger.recordJobQueued(REPO, job({ sha: sha("c2") }));
    await ledger.recordJobQueued(REPO, job({ suite: "index-reduce" }));
    await ledger.setJobState(REPO, job(), "done");
    expect((await ledger.jobsAt(REPO, sha("c1"))).map((j) => j.id)).toEqual([
      jobId(job()),
      jobId(job({ purpose: "retry", attempt: 1 })),
      jobId(job({ suite: "index-reduce" })),
    ]);
    expect((await ledger.activeJobs(REPO, "varlen-attention")).map((j) => j.id)).toEqual([
      jobId(job({ purpose: "retry", attempt: 1 })),
      jobId(job({ sha: sha("c2") })),
    ]);
  });

  it("reads a suite's runs at chosen commits in arrival order, and the newest run at one", async () => {
    const runs: RunRecord[] = [
      { job: job({ sha: sha("c2") }), result: result(sha("c2")) },
      { job: job(), result: result(sha("c1")) },
      { job: job({ sha: sha("c3") }), result: result(sha("c3")) },
      { job: job({ purpose: "retry", attempt: 1 }), result: { ...result(sha("c1")), status: "crashed" } },
      { job: job({ suite: "index-reduce" }), result: result(sha("c1"), "index-reduce") },
    ];
    for (const run of runs) await ledger.recordRun(REPO, run);
    expect(await ledger.runsOf(REPO, "varlen-attention", [sha("c1"), sha("c2")])).toEqual([runs[0], runs[1], runs[3]]);
    expect(await ledger.runsOf(REPO, "varlen-attention", [])).toEqual([]);
    expect(await ledger.latestRun(REPO, "varlen-attention", sha("c1"))).toEqual(runs[3]);
    expect(await ledger.latestRun(REPO, "varlen-attention", sha("c9"))).toBeUndefined();
  });

  it("keeps an interleaved run's baseline half", async () => {
    const ab: RunRecord = {
      job: job({ purpose: "ab", attempt: 1, baselineSha: sha("c0") }),
      result: result(sha("c1")),
      baselineResult: result(sha("c0")),
    };
    await ledger.recordRun(REPO, ab);
    expect(await ledger.runs(REPO, "varlen-attention")).toEqual([ab]);
  });

  it("reads the verdicts about one commit and one regression", async () => {
    await ledger.recordVerdict(REPO, regression(sha("c2")));
    await ledger.recordVerdict(REPO, { type: "flaky", suite: "index-reduce", sha: sha("c2"), tests: ["t"], summary: "flaky" });
    await ledger.recordVerdict(REPO, regression(sha("c3")));
    expect((await ledger.verdictsAt(REPO, sha("c2"))).map((v) => v.decision.type)).toEqual(["regression", "flaky"]);
    expect(await ledger.regression(REPO, "varlen-attention", sha("c3"))).toEqual(regression(sha("c3")));
    expect(await ledger.regression(REPO, "index-reduce", sha("c3"))).toBeNull();
  });

  it("finds reverts by culprit and by either PR number", async () => {
    const base = { suite: "varlen-attention", reason: "policy", summary: "breaks", at: at(1) };
    await ledger.recordRevert(REPO, { ...base, culprit: sha("c2"), outcome: "pr-opened", originalPr: 7, revertPr: 11 });
    await ledger.recordRevert(REPO, { ...base, culprit: sha("c3"), outcome: "commented", originalPr: 8 });
    expect(await ledger.revertOf(REPO, sha("c3"))).toMatchObject({ outcome: "commented" });
    expect(await ledger.revertOf(REPO, sha("c4"))).toBeNull();
    expect((await ledger.revertsOf(REPO, [sha("c2"), sha("c9")])).map((r) => r.culprit)).toEqual([sha("c2")]);
    expect((await ledger.revertsByPr(REPO, [11])).map((r) => r.culprit)).toEqual([sha("c2")]);
    expect((await ledger.revertsByPr(REPO, [8, 7])).map((r) => r.culprit).sort()).toEqual([sha("c2"), sha("c3")].sort());
    expect(await ledger.revertsByPr(REPO, [])).toEqual([]);
  });

  it("reads the timeline of chosen commits", async () => {
    await ledger.note(REPO, { kind: "landed", text: "one", sha: sha("c1") });
    await ledger.note(REPO, { kind: "landed", text: "two", sha: sha("c2") });
    await ledger.note(REPO, { kind: "config-error", text: "no sha" });
    await ledger.note(REPO, { kind: "flaky", text: "three", sha: sha("c1"), suite: "varlen-attention" });
    expect((await ledger.timelineAt(REPO, [sha("c1")])).map((e) => e.text)).toEqual(["one", "three"]);
  });

  it("records a comment's commands once each", async () => {
    const command = { commentId: 9_000_000_001, position: 0, pr: 12, name: "rerun", requestedBy: "bob", status: "done", at: at(3) };
    expect(await ledger.recordCommand(REPO, command)).toBe(true);
    expect(await ledger.recordCommand(REPO, { ...command, status: "failed" })).toBe(false);
    expect(await ledger.recordCommand(REPO, { ...command, position: 1, name: "explain", reply: "What Sheriff did" })).toBe(true);
    expect(await ledger.commands(REPO, 12)).toEqual([command, { ...command, position: 1, name: "explain", reply: "What Sheriff did" }]);
    expect(await ledger.commands(REPO, 13)).toEqual([]);
  });

  it("stores one engine window per suite; a stale fold loses to a newer write", async () => {
    expect(await ledger.engineWindow(REPO, "main", "varlen-attention")).toBeNull();
    expect(await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 4, carry: { broken: ["a"] } })).toBe(true);
    const read = await ledger.engineWindow(REPO, "main", "varlen-attention");
    expect(read).toEqual({ fromSeq: 4, carry: { broken: ["a"] }, version: 0 });
    // A second first write (another process folded from nothing too) does not overwrite.
    expect(await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 2, carry: {} })).toBe(false);
    expect(await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 9, carry: { broken: [] } }, read)).toBe(true);
    // Written from the same (now stale) read: refused.
    expect(await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 7, carry: { broken: ["b"] } }, read)).toBe(false);
    expect(await ledger.engineWindow(REPO, "main", "varlen-attention")).toEqual({ fromSeq: 9, carry: { broken: [] }, version: 1 });
  });

  it("reopens a suite's window when a job, run, rebaseline or regression reaches a commit before it", async () => {
    await ledger.recordCommits(REPO, "main", history(6));
    const open = async () => (await ledger.engineWindow(REPO, "main", "varlen-attention"))!;
    const fold = async () => {
      const before = await ledger.engineWindow(REPO, "main", "varlen-attention");
      await ledger.setEngineWindow(REPO, "main", "varlen-attention", { fromSeq: 4, carry: { resumeAt: "c4" } }, before);
    };
    await fold();
    // Inside the window, or another suite: nothing changes.
    await ledger.recordJobQueued(REPO, job({ sha: sha("c5") }));
    await ledger.recordRun(REPO, { job: job({ suite: "index-reduce" }), result: result(sha("c1"), "index-reduce") });
    expect((await open()).carry).toEqual({ resumeAt: "c4" });
    const reached: (() => Promise<unknown>)[] = [
      () => ledger.recordJobQueued(REPO, job({ sha: sha("c2"), purpose: "retry", attempt: 1 })),
      () => ledger.recordRun(REPO, { job: job({ sha: sha("c1"), purpose: "bisect", attempt: 1 }), result: result(sha("c1")) }),
      () => ledger.recordRebaseline(REPO, { suite: "varlen-attention", sha: sha("c3"), reason: "driver", by: "bob", at: at(0) }),
      () => ledger.recordVerdict(REPO, regression(sha("c2"))),
    ];
    for (const write of reached) {
      await write();
      expect(await open()).toMatchObject({ fromSeq: 0, carry: null });
      await fold();
      expect((await open()).carry).toEqual({ resumeAt: "c4" });
    }
  });
});

describe("records that change together", () => {
  /** Makes the next insert into `table` fail, as a crash or lost connection between two statements would. */
  async function failInsertsInto(table: string): Promise<void> {
    await db.pool.query(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql`);
    await db.pool.query(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse()`);
  }

  it("stores a result only together with its job's state", async () => {
    await ledger.recordJobQueued(REPO, job());
    await failInsertsInto("jobs");
    await expect(ledger.recordRun(REPO, { job: job(), result: result(sha("c1")) })).rejects.toThrow(/refused/);
    expect(await count("runs")).toBe(0);
    await db.pool.query("DROP TRIGGER refuse ON jobs");
    // The retried delivery then records it.
    expect(await ledger.recordRun(REPO, { job: job(), result: result(sha("c1")) })).toBe(true);
    expect(await ledger.jobsAt(REPO, sha("c1"))).toEqual([expect.objectContaining({ state: "done" })]);
  });

  it("records a verdict only together with its timeline note", async () => {
    await failInsertsInto("timeline");
    const note = { kind: "regression", sha: sha("c2"), text: "breaks" };
    await expect(ledger.recordVerdict(REPO, regression(sha("c2")), note)).rejects.toThrow(/refused/);
    expect(await count("verdicts")).toBe(0);
    await db.pool.query("DROP TRIGGER refuse ON timeline");
    expect(await ledger.recordVerdict(REPO, regression(sha("c2")), note)).toBe(true);
    expect(await ledger.recordVerdict(REPO, regression(sha("c2")), note)).toBe(false);
    expect((await ledger.timeline(REPO)).map((e) => e.kind)).toEqual(["regression"]);
  });

  it("appends a batch of commits whole or not at all", async () => {
    await ledger.recordCommits(REPO, "main", history(2));
    await db.pool.query(
      `CREATE FUNCTION refuse_c3() RETURNS trigger AS $$ BEGIN IF NEW.title = 'Commit c3' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await db.pool.query("CREATE TRIGGER refuse_c3 BEFORE INSERT ON commits FOR EACH ROW EXECUTE FUNCTION refuse_c3()");
    await expect(ledger.recordCommits(REPO, "main", history(3, 2))).rejects.toThrow(/refused/);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
    await db.pool.query("DROP TRIGGER refuse_c3 ON commits");
    expect(await ledger.recordCommits(REPO, "main", history(3, 2))).toBe(3);
    expect(await ledger.seqOf(REPO, "main", sha("c4"))).toBe(4);
  });
});
