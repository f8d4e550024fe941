import type { SuiteConfig } from "./config.js";
import type { JobRequest } from "./jobs.js";
import type { SuiteResult } from "./result.js";

/**
 * The decision engine's contract: a pure function from what Sheriff knows about one suite
 * on one branch to what it should do next. Everything it needs is in `EngineInput`, so the
 * app, the simulator and the tests drive the same code, and a restarted process reaches the
 * same decisions from the ledger. Callers must treat decisions as idempotent requests: a
 * `run` with a job id already queued or finished, or a regression already recorded, is a no-op.
 */

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
  /**
   * The fleet's hosts, quarantined ones included (so what a blame needs does not change while one
   * is out). With two or more, a failure must be seen on two of them before a commit is blamed, and
   * retries and boundary checks are asked for away from the hosts that failed. Absent or one:
   * every run counts alike.
   */
  hosts?: string[];
  /** Hosts whose results are discounted over a span of time (quarantined), from `hostHealth`. */
  quarantines?: HostQuarantine[];
  /** What the runner can do beyond running a landed commit; absent means nothing more. */
  capabilities?: EngineCapabilities;
  /**
   * What the walks learnt from the history before `commits[0]`, from `advanceWindow`. With it,
   * `commits` (and the runs, pending jobs, rebaselines and declared culprits of those commits) may
   * be only the suffix of the branch that `advanceWindow` said is still needed.
   */
  carry?: EngineCarry;
}

/**
 * A JSON-serialisable summary of a suite's settled history, so a caller can keep a short window of
 * commits. Its size follows the suite (tests, benchmarks) and the slowdowns confirmed so far, not
 * the number of commits. It is only valid for the history it was folded from: a force push below
 * the window, or a run, rebaseline or declared culprit added to a commit before it, needs a new
 * carry folded from the full history.
 */
/** Changes whenever EngineCarry's shape or meaning does: a stored carry of another format is folded again, not read. */
export const ENGINE_CARRY_FORMAT = 2;

export interface EngineCarry {
  /** The first commit with a `landed` or `baseline` run: reverts after it get measured. */
  firstCheckpoint: string;
  correctness: CorrectnessCarry;
  performance: PerformanceCarry;
}

export interface CorrectnessCarry {
  /** The checkpoint the correctness walk resumes at (walked again on every call). */
  resumeAt: string;
  /** The walk's anchor before `resumeAt`: the last good checkpoint and the tests known broken there. */
  anchor: string;
  broken: string[];
  /** Test -> the last checkpoint before `resumeAt` where it passed. */
  lastPass: Record<string, string>;
  /** Checkpoints before `resumeAt` whose runs reported any test: the clock by which absent tests are forgotten. */
  reported: number;
  /** Test -> `reported` as of the last checkpoint where it appeared; tests absent for long are forgotten, here as in `lastPass`. */
  lastSeen: Record<string, number>;
  /** Test -> its plain-state runs and intermittent failures at every commit before `resumeAt`. */
  flakes: Record<string, { runs: number; intermittent: number }>;
}

export interface PerformanceCarry {
  /** The last checkpoint the performance walk has settled; it resumes after it (from the first checkpoint when absent). */
  through?: string;
  /** The accepted levels later checkpoints are screened against, oldest first (commits inside the window). */
  anchors: { sha: string; note?: string }[];
  /** Slowdowns confirmed so far, in the order found: a revert of the culprit (by title) takes its ratio back off. */
  effects: { culprit: string; title: string; evidence: BenchmarkEvidence[] }[];
}

/** Where the caller's window now starts, and what to pass as `EngineInput.carry` with it. */
export interface EngineWindow {
  /** The oldest commit still needed (inclusive); undefined when there are no commits. */
  from?: string;
  carry?: EngineCarry;
}

/** A host quarantined from `from` (inclusive, ISO time) to `to` (exclusive; absent: still quarantined). */
export interface HostQuarantine {
  host: string;
  from: string;
  to?: string;
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

/**
 * Something people must hear about that is not a revert: a culprit the engine will not revert (its
 * files match none of the suite's globs, or it was fixed forward), a search that cannot go on, a
 * test too flaky to judge, a gradual drift. Re-derived on every call; the caller reports each
 * (suite, kind, sha) once.
 */
export interface ReportDecision {
  type: "report";
  suite: string;
  kind: ReportKind;
  /** The commit it is about: the culprit found, or the first bad checkpoint of the range. */
  sha: string;
  tests: string[];
  summary: string;
  range?: { from: string; to: string; suspects: number };
}

export type ReportKind = "gave-up" | "outside-globs" | "fixed-forward" | "too-flaky" | "drift";

export interface RunDecision {
  type: "run";
  job: JobRequest;
  reason: string;
  /** Groups the jobs one investigation spends. */
  investigation?: string;
  /**
   * Hosts that produced the failures this job is to check: where the fleet has another host, the
   * job must run there, or a broken machine confirms its own failures.
   */
  avoidHosts?: string[];
}

export type Decision = RunDecision | RegressionDecision | FlakyDecision | ReportDecision;

export type DecisionEngine = (input: EngineInput) => Decision[];
