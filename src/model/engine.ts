import type { SuiteConfig } from "./config.js";
import type { SuiteResult } from "./result.js";

/**
 * The decision engine's contract: a pure function from what Sheriff knows about one suite
 * on one branch to what it should do next. Everything it needs is in `EngineInput`, so the
 * app, the simulator and the tests drive the same code, and a restarted process reaches the
 * same decisions from the ledger. Callers must treat decisions as idempotent requests: a
 * `run` with a job id already queued or finished, or a regression already recorded, is a no-op.
 */

export type JobPurpose = "landed" | "retry" | "bisect" | "baseline" | "ab";

export interface JobRequest {
  sha: string;
  suite: string;
  purpose: JobPurpose;
  /** Distinguishes repeated runs of the same commit and purpose (retries, flake checks). */
  attempt: number;
  /** For `ab` jobs: the commit timed interleaved with `sha` in the same job on the same GPU. */
  baselineSha?: string;
  /** A hint, not part of the id: retries should run on the runner that saw the failure, where possible. */
  runner?: string;
  /**
   * Commits cherry-picked onto `sha` before the run, in order: the reverts of culprits live at
   * `sha`, so a commit inside a reverted culprit's window (every run crashed, or the test it broke
   * was already failing) is measured without that culprit. Only requested when
   * `EngineInput.capabilities.cherryPick` says the runner can build such a state.
   */
  cherryPicks?: string[];
  /** The same for `baselineSha` in an `ab` job. */
  baselineCherryPicks?: string[];
}

export interface LandedCommit {
  sha: string;
  parent: string;
  title: string;
  author: string;
  /** Suites whose path globs this commit's changed files touch; empty means no suite can blame it. */
  suites: string[];
  isRevert: boolean;
}

export interface RunRecord {
  job: JobRequest;
  result: SuiteResult;
  /** For `ab` jobs, the baseline commit's half of the interleaved run. */
  baselineResult?: SuiteResult;
}

export interface Rebaseline {
  suite: string;
  sha: string;
  reason: string;
  by: string;
  at: string;
}

export interface EngineInput {
  suite: SuiteConfig;
  /** The branch's landed commits Sheriff has seen, oldest first, each the parent of the next. */
  commits: LandedCommit[];
  runs: RunRecord[];
  /** Jobs queued or running and not yet in `runs`. */
  pending: JobRequest[];
  rebaselines: Rebaseline[];
  /** Commits already declared culprits for this suite (so they are not declared again). */
  declared: string[];
  /** How many jobs may run at once for this suite (free GPUs); bisection may probe in parallel. */
  parallelism: number;
  /** What the runner can do beyond running a landed commit; absent means nothing more. */
  capabilities?: EngineCapabilities;
}

export interface EngineCapabilities {
  /**
   * The runner honours `JobRequest.cherryPicks` / `baselineCherryPicks`: it checks out `sha`,
   * cherry-picks those commits (a failed pick ends the job as `errored`) and runs the suite.
   * With it the engine can search ranges a reverted crash, or a reverted break of the same
   * test, had masked; without it those ranges stay unsearchable, as before.
   */
  cherryPick?: boolean;
}

export interface BenchmarkEvidence {
  name: string;
  /** Median at the suspect over median at the baseline (1.10 = 10% slower). */
  ratio: number;
  pValue: number;
}

export interface RegressionDecision {
  type: "regression";
  suite: string;
  kind: "correctness" | "performance";
  culprit: string;
  lastGood: string;
  failingTests: { name: string; message?: string }[];
  benchmarks: BenchmarkEvidence[];
  summary: string;
  /** The investigation that found it (matches `investigation` on its `run` decisions). */
  investigation?: string;
  /** The searched range: last good tested commit (exclusive) to first bad tested commit (inclusive). */
  range?: { from: string; to: string; suspects: number };
}

export interface FlakyDecision {
  type: "flaky";
  suite: string;
  sha: string;
  tests: string[];
  summary: string;
}

export type Decision =
  | { type: "run"; job: JobRequest; reason: string; /** Groups the jobs one investigation spends. */ investigation?: string }
  | RegressionDecision
  | FlakyDecision;

export type DecisionEngine = (input: EngineInput) => Decision[];

/** The stable id of a job: a redelivered webhook or a restarted process maps to the same one. */
export function jobId(job: JobRequest): string {
  const picks = (list: string[] | undefined) => (list?.length ? `.with.${list.map((s) => s.slice(0, 12)).join("+")}` : "");
  const base = `${job.suite}.${job.sha.slice(0, 12)}${picks(job.cherryPicks)}.${job.purpose}.${job.attempt}`;
  return job.baselineSha ? `${base}.vs.${job.baselineSha.slice(0, 12)}${picks(job.baselineCherryPicks)}` : base;
}
