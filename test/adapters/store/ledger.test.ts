import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import type { FlakyDecision, LandedCommit, RegressionDecision, RunRecord } from "../../../src/model/engine.js";
import { jobId, type JobRequest } from "../../../src/model/jobs.js";
import type { SuiteResult } from "../../../src/model/result.js";
import { keysUnder, sha, testRedis } from "../support.js";

const REPO = "gpu-team/flash-kernels";

type Store = ReturnType<typeof testRedis>;
let store: Store;
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

beforeEach(() => {
  clock = Date.parse("2025-03-01T10:00:00.000Z");
  store = testRedis("ledger");
  ledger = new Ledger(store, tick);
});

afterEach(async () => {
  const prefix = store.prefix;
  await store.cleanup();
  expect(await keysUnder(prefix), "no key of the test is left").toEqual([]);
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
    expect(await keysUnder(store.prefix)).toEqual([]);
  });

  it("adds each commit once when two connections append the same history concurrently", async () => {
    const other = testRedis("ledger", store.prefix);
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
      expect(await store.redis.llen(store.key("repo", REPO, "chain", "main"))).toBe(60);
    } finally {
      await other.redis.quit();
    }
  });

  it("keeps repositories and branches apart", async () => {
    await ledger.recordCommits(REPO, "main", history(2));
    await ledger.recordCommits("gpu-team/other", "main", history(1));
    await ledger.recordCommits(REPO, "release", [landed("r0", "c1")]);
    expect((await ledger.chain(REPO, "main")).map((c) => c.sha)).toEqual([sha("c0"), sha("c1")]);
    expect((await ledger.chain("gpu-team/other", "main")).map((c) => c.sha)).toEqual([sha("c0")]);
    expect(await ledger.chain(REPO, "release")).toEqual([expect.objectContaining({ sha: sha("r0"), branch: "release" })]);
    expect((await keysUnder(store.prefix)).sort()).toEqual(
      [
        store.key("repo", REPO, "commits"),
        store.key("repo", REPO, "chain", "main"),
        store.key("repo", REPO, "chain", "release"),
        store.key("repo", "gpu-team/other", "commits"),
        store.key("repo", "gpu-team/other", "chain", "main"),
      ].sort(),
    );
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
