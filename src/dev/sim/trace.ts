import type { RegressionDecision, RunRecord } from "../../model/engine.js";
import type { SimCommit, SimOptions } from "./model.js";
import { type JobRequest } from "../../model/jobs.js";

/** What one simulated stream did: the driver writes it, the metrics read it. */
export interface QueuedJob {
  job: JobRequest;
  investigation?: string;
  queuedAt: number;
  startedAt?: number;
  gpu?: number;
}

export interface SimTrace {
  options: SimOptions;
  chain: SimCommit[];
  runs: RunRecord[];
  jobs: Map<string, QueuedJob>;
  regressions: { decision: RegressionDecision; at: number }[];
  reverts: Map<string, number>;
  flaky: Set<string>;
  endedAt: number;
}
