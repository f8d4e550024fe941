import { createHash } from "node:crypto";
import type { Ledger } from "../../src/adapters/store/ledger.js";
import type { LandedCommit } from "../../src/model/engine.js";
import type { JobRequest } from "../../src/model/jobs.js";
import type { SuiteResult } from "../../src/model/result.js";

export const REPO = "gpu-team/flash-kernels";
export const sha = (label: string) => createHash("sha1").update(label).digest("hex");

function landed(label: string, parent: string, suites: string[], author = "alice", isRevert = false): LandedCommit {
  return { sha: sha(label), parent: sha(parent), title: `${label}: a change <b>`, author, suites, isRevert };
}

/** The story's commits: a base, a bf16 culprit (superseded, then probed), a later one, a flaky smoke commit, its revert. */
export const COMMITS = [
  landed("base", "root", ["half", "smoke"], "mona"),
  landed("culprit", "base", ["half"], "carol"),
  landed("tidy", "culprit", ["half"], "dave"),
  landed("warm", "tidy", ["smoke"], "dave"),
  landed("revert", "warm", ["half"], "sheriff[bot]", true),
  landed("docs", "revert", [], "carol"),
];

export function suiteResult(
  commit: string,
  suite: string,
  options: { failing?: boolean; median?: number; gpu?: string } = {},
): SuiteResult {
  const median = options.median ?? 100;
  return {
    schema: "sheriff.result/v1",
    suite,
    commit,
    status: "completed",
    startedAt: "2026-12-01T10:00:00.000Z",
    finishedAt: "2026-12-01T10:05:00.000Z",
    tests: [
      { name: "convert/f32->bf16/rne", outcome: options.failing ? "fail" : "pass", maxError: options.failing ? 1 : 0, tolerance: 0 },
      { name: "convert/f32->fp16", outcome: "pass", maxError: 0, tolerance: 0 },
    ],
    benchmarks: [
      {
        name: "f32->bf16 2^26",
        unit: "us",
        samples: [median - 1, median, median + 1],
        reference: { name: "torch .to()", samples: [120, 121, 119] },
      },
    ],
    environment: { commit, gpu: options.gpu ?? "NVIDIA H100 80GB HBM3", host: "gpu-host-1", executor: "cuda" },
  };
}

const job = (label: string, suite: string, purpose: JobRequest["purpose"], attempt = 0): JobRequest => ({
  sha: sha(label),
  suite,
  purpose,
  attempt,
});

/** Records the story through the ledger, as the app would. */
export async function recordStory(ledger: Ledger): Promise<void> {
  await ledger.recordCommits(REPO, "main", COMMITS);
  await ledger.setHead(REPO, "main", sha("docs"));
  const run = async (request: JobRequest, result: SuiteResult) => {
    await ledger.recordJobQueued(REPO, request);
    await ledger.recordRun(REPO, { job: request, result });
  };
  await run(job("base", "half", "landed"), suiteResult(sha("base"), "half"));
  await run(job("base", "smoke", "landed"), suiteResult(sha("base"), "smoke"));
  await ledger.recordJobQueued(REPO, job("culprit", "half", "landed"));
  await ledger.setJobState(REPO, job("culprit", "half", "landed"), "superseded");
  await run(job("tidy", "half", "landed"), suiteResult(sha("tidy"), "half", { failing: true, median: 104 }));
  await run(job("tidy", "half", "retry", 1), suiteResult(sha("tidy"), "half", { failing: true, median: 105 }));
  await run(job("base", "half", "retry", 1), suiteResult(sha("base"), "half", { median: 99 }));
  await run(job("culprit", "half", "bisect", 1), suiteResult(sha("culprit"), "half", { failing: true, median: 103, gpu: "NVIDIA H200" }));
  await ledger.recordVerdict(REPO, {
    type: "regression",
    suite: "half",
    kind: "correctness",
    culprit: sha("culprit"),
    lastGood: sha("base"),
    failingTests: [{ name: "convert/f32->bf16/rne" }],
    benchmarks: [],
    summary: "culprit breaks convert/f32->bf16/rne",
    range: { from: sha("base"), to: sha("tidy"), suspects: 2 },
  });
  await ledger.recordRevert(REPO, {
    culprit: sha("culprit"),
    suite: "half",
    outcome: "pr-opened",
    reason: "autoRevert is on",
    summary: "culprit breaks convert/f32->bf16/rne",
    at: "2026-12-01T12:00:00.000Z",
    originalPr: 5,
    revertPr: 7,
    revertBranch: "sheriff/revert-culprit",
  });
  await run(job("warm", "smoke", "landed"), suiteResult(sha("warm"), "smoke", { failing: true }));
  await ledger.recordVerdict(REPO, {
    type: "flaky",
    suite: "smoke",
    sha: sha("warm"),
    tests: ["smoke"],
    summary: "smoke failed intermittently",
  });
  await ledger.recordJobQueued(REPO, job("revert", "half", "landed"));
}
