import type { LandedCommit } from "./engine.js";
import type { JobPurpose } from "./jobs.js";
import type { JobState, RevertOutcome } from "./ledger.js";
import type { RunStatus } from "./result.js";

/** What the dashboard reads of the history: small projections of the ledger's rows, never whole results of a page. */

/** A landed commit with its position on the branch's chain. */
export interface ChainCommit extends LandedCommit {
  seq: number;
  landedAt: string;
}

export interface JobFact {
  sha: string;
  suite: string;
  purpose: JobPurpose;
  state: JobState;
}

/** One run, reduced to what a grid cell needs. */
export interface RunFact {
  jobId: string;
  sha: string;
  suite: string;
  purpose: JobPurpose;
  status: RunStatus;
  tests: number;
  failed: number;
}

export interface VerdictFact {
  type: "regression" | "flaky";
  suite: string;
  sha: string;
  summary: string;
}

export interface RevertFact {
  culprit: string;
  suite: string;
  outcome: RevertOutcome;
  revertPr?: number;
  originalPr?: number;
}

/** Everything recorded about a page of commits. */
export interface PageFacts {
  jobs: JobFact[];
  runs: RunFact[];
  verdicts: VerdictFact[];
  reverts: RevertFact[];
}

/** One point of a benchmark's history: a run's median and its reference's, where it ran. */
export interface BenchmarkPoint {
  sha: string;
  seq: number | null;
  jobId: string;
  purpose: JobPurpose;
  at: string;
  gpu: string;
  median: number;
  referenceMedian?: number;
  samples: number;
}
