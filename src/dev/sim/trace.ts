import type { HostQuarantine, RegressionDecision, ReportDecision, RunRecord } from "../../model/engine.js";
import type { SimCommit, SimOptions } from "./model.js";
import { type JobRequest } from "../../model/jobs.js";

/** What one simulated stream did: the driver writes it, the metrics read it. */
export interface QueuedJob {
  job: JobRequest;
  investigation?: string;
  queuedAt: number;
  startedAt?: number;
  gpu?: number;
  /** A canary: it runs on this (quarantined) host only. */
  onlyHost?: string;
  /** Hosts the engine asked it to stay off. */
  avoidHosts?: string[];
  /** Its GPU's fast-failing fault ended it early. */
  fastFailed?: boolean;
}

export interface SimTrace {
  options: SimOptions;
  chain: SimCommit[];
  runs: RunRecord[];
  jobs: Map<string, QueuedJob>;
  regressions: { decision: RegressionDecision; at: number }[];
  reverts: Map<string, number>;
  flaky: Set<string>;
  /** Each report once (suite, kind, sha), when it was first made. */
  reports: { decision: ReportDecision; at: number }[];
  /** Hosts quarantined by their health, and when re-admitted. */
  quarantines: HostQuarantine[];
  endedAt: number;
}
