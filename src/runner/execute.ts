import { hostname } from "node:os";
import type { SuiteConfig } from "../model/config.js";
import type { GpuJob } from "../model/jobs.js";
import { git, type GitAuth, type RepoCache } from "../adapters/git/git.js";
import { RESULT_SCHEMA_VERSION, type SuiteResult } from "../model/result.js";
import type { RunRecord } from "../model/engine.js";
import { runCommandSuite } from "./command.js";
import { suiteUserFromEnv } from "./contain.js";
import { currentGpu, gpuEnv, withGpuIndex } from "./gpus.js";
import { shaTag, shortSha } from "../model/sha.js";

/** Runs one suite in a checkout of one commit. Built-in kernel suites plug in here. */
export type SuiteRunner = (input: { dir: string; suite: SuiteConfig; sha: string }) => Promise<SuiteResult>;

/** The command-suite runner; on a GPU worker the command is pinned to the job's GPU (CUDA_VISIBLE_DEVICES). */
export const runConfiguredCommand: SuiteRunner = async ({ dir, suite, sha }) => {
  if (suite.kind !== "command") throw new Error(`suite ${suite.name} is not a command suite`);
  const slot = currentGpu();
  const user = await suiteUserFromEnv();
  const result = await runCommandSuite({
    dir,
    suite: suite.name,
    command: suite.command,
    sha,
    timeoutMs: suite.timeoutSeconds * 1000,
    env: gpuEnv(slot),
    ...(user ? { user } : {}),
  });
  return withGpuIndex(result, slot);
};

export interface ExecuteDeps {
  cache: RepoCache;
  auth?: GitAuth;
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  /** Rounds of an interleaved A/B job: suspect and baseline alternate on the same GPU. */
  abRounds?: number;
}

async function runAt(deps: ExecuteDeps, job: GpuJob, sha: string, cherryPicks: string[] = []): Promise<SuiteResult> {
  const runner = deps.runners[job.suite.kind];
  if (!runner) throw new Error(`no runner for ${job.suite.kind} suites on this host`);
  const { owner, repo, cloneUrl } = job.repo;
  let mirror = await deps.cache.ensureCommit(owner, repo, cloneUrl, sha, deps.auth);
  for (const pick of cherryPicks) mirror = await deps.cache.ensureCommit(owner, repo, cloneUrl, pick, deps.auth);
  const dir = await deps.cache.addWorktree(mirror, sha, `${owner}-${repo}-${shaTag(sha)}-${process.pid}`);
  try {
    if (cherryPicks.length > 0) {
      // The state the engine asked for: the commit with the reverts of culprits live at it applied.
      const failed = await git(["cherry-pick", "--allow-empty", ...cherryPicks], { cwd: dir }).then(
        () => null,
        (err: Error) => err.message,
      );
      if (failed) return cherryPickFailed(job, sha, cherryPicks, failed);
    }
    return await runner({ dir, suite: job.suite, sha });
  } finally {
    await deps.cache.removeWorktree(mirror, dir);
  }
}

function cherryPickFailed(job: GpuJob, sha: string, picks: string[], message: string): SuiteResult {
  const at = new Date().toISOString();
  return {
    schema: RESULT_SCHEMA_VERSION,
    suite: job.suite.name,
    commit: sha,
    status: "error",
    startedAt: at,
    finishedAt: at,
    tests: [
      {
        name: job.suite.name,
        outcome: "error",
        message: `cherry-picking ${picks.map((p) => shortSha(p)).join(", ")} onto ${shortSha(sha)} failed: ${message}`,
      },
    ],
    benchmarks: [],
    environment: { commit: sha, host: hostname(), executor: "cherry-pick" },
  };
}

/** Concatenates the samples of repeated runs of one commit and keeps the worst outcome per test. */
export function mergeRepeatedRuns(runs: SuiteResult[]): SuiteResult {
  const [first, ...rest] = runs;
  if (!first) throw new Error("mergeRepeatedRuns needs at least one run");
  const rank = { pass: 0, skip: 0, fail: 1, error: 2 } as const;
  const tests = new Map(first.tests.map((t) => [t.name, t]));
  const benchmarks = new Map(first.benchmarks.map((b) => [b.name, { ...b, samples: [...b.samples] }]));
  let status = first.status;
  for (const run of rest) {
    if (run.status !== "completed") status = run.status;
    for (const t of run.tests) {
      const prev = tests.get(t.name);
      if (!prev || rank[t.outcome] > rank[prev.outcome]) tests.set(t.name, t);
    }
    for (const b of run.benchmarks) {
      const prev = benchmarks.get(b.name);
      if (prev) prev.samples.push(...b.samples);
      else benchmarks.set(b.name, { ...b, samples: [...b.samples] });
    }
  }
  const last = runs[runs.length - 1]!;
  return { ...first, status, finishedAt: last.finishedAt, tests: [...tests.values()], benchmarks: [...benchmarks.values()] };
}

/**
 * Executes a GPU job: the suite at the job's commit, or for an `ab` job the suspect and its
 * baseline alternately, so drift in clocks or temperature hits both sides equally.
 */
export async function executeGpuJob(job: GpuJob, deps: ExecuteDeps): Promise<RunRecord> {
  if (job.job.purpose !== "ab" || !job.job.baselineSha) {
    return { job: job.job, result: await runAt(deps, job, job.job.sha, job.job.cherryPicks) };
  }
  const suspect: SuiteResult[] = [];
  const baseline: SuiteResult[] = [];
  for (let round = 0; round < (deps.abRounds ?? 3); round++) {
    suspect.push(await runAt(deps, job, job.job.sha, job.job.cherryPicks));
    baseline.push(await runAt(deps, job, job.job.baselineSha, job.job.baselineCherryPicks));
  }
  return { job: job.job, result: mergeRepeatedRuns(suspect), baselineResult: mergeRepeatedRuns(baseline) };
}
