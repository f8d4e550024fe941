import { z } from "zod";
import { suiteConfigSchema } from "./config.js";
import { repoRefSchema } from "./repo.js";
import { shaSchema, shaTag } from "./sha.js";

/**
 * Queue payloads. Redis is an edge too (other versions of Sheriff, other hosts write it),
 * so consumers parse job data with these schemas before use.
 */
export const jobPurposeSchema = z.enum(["landed", "retry", "bisect", "baseline", "ab"]);
export type JobPurpose = z.infer<typeof jobPurposeSchema>;

/** One run of one suite that the engine asks for. */
export const jobRequestSchema = z.object({
  sha: shaSchema,
  suite: z.string().min(1),
  purpose: jobPurposeSchema,
  /** Distinguishes repeated runs of the same commit and purpose (retries, flake checks). */
  attempt: z.number().int().nonnegative(),
  /** For `ab` jobs: the commit timed interleaved with `sha` in the same job on the same GPU. */
  baselineSha: shaSchema.optional(),
  /** A hint, not part of the id: the executor (`environment.executor`) that saw the failure. */
  executor: z.string().optional(),
  /**
   * Commits cherry-picked onto `sha` before the run, in order: the reverts of culprits live at
   * `sha`, so a commit inside a reverted culprit's window (every run crashed, or the test it broke
   * was already failing) is measured without that culprit. Only requested when
   * `EngineInput.capabilities.cherryPick` says the runner can build such a state.
   */
  cherryPicks: z.array(shaSchema).optional(),
  /** The same for `baselineSha` in an `ab` job. */
  baselineCherryPicks: z.array(shaSchema).optional(),
});
export type JobRequest = z.infer<typeof jobRequestSchema>;

/** The next attempt number after those already used for the same commit, purpose and state: ids never repeat. */
export function nextAttempt(used: readonly number[]): number {
  return used.length ? Math.max(...used) + 1 : 1;
}

/** The stable id of a job: a redelivered webhook or a restarted process maps to the same one. */
export function jobId(job: JobRequest): string {
  const picks = (list: string[] | undefined) => (list?.length ? `.with.${list.map((s) => shaTag(s)).join("+")}` : "");
  const base = `${job.suite}.${shaTag(job.sha)}${picks(job.cherryPicks)}.${job.purpose}.${job.attempt}`;
  return job.baselineSha ? `${base}.vs.${shaTag(job.baselineSha)}${picks(job.baselineCherryPicks)}` : base;
}

/** Attempts of canary jobs start here: a canary is the fleet's job, not the suite's, so its id never meets a suite's retry. */
export const CANARY_ATTEMPT_BASE = 10_000;

/** Whether a job is a quarantined host's canary (the engine neither waits for it nor asked for it). */
export function isCanary(job: JobRequest): boolean {
  return job.attempt >= CANARY_ATTEMPT_BASE;
}

/** Where a GPU job may run: where the hosts are known to the app, it routes jobs by them. */
export const placementSchema = z.object({
  /** Hosts that produced the failures this job checks: it runs elsewhere while another host can take it. */
  avoidHosts: z.array(z.string().min(1)).max(64).optional(),
  /** A canary: it runs on this (quarantined) host and nowhere else. */
  onlyHost: z.string().min(1).optional(),
  /** When a host first handed it back, and how often hosts have: it stops waiting for the right host after a while. */
  passedOver: z.object({ since: z.string(), times: z.number().int().nonnegative() }).optional(),
});
export type Placement = z.infer<typeof placementSchema>;

export const gpuJobSchema = z
  .object({
    repo: repoRefSchema,
    job: jobRequestSchema,
    suite: suiteConfigSchema,
  })
  .merge(placementSchema);
export type GpuJob = z.infer<typeof gpuJobSchema>;

export const intakeJobSchema = z.object({
  type: z.literal("intake"),
  repo: repoRefSchema,
  repoId: z.number().int(),
  defaultBranch: z.string(),
  before: shaSchema.nullable(),
  after: shaSchema,
  forced: z.boolean(),
  deliveryId: z.string(),
});
export type IntakeJob = z.infer<typeof intakeJobSchema>;

/**
 * What a push leaves to GitHub once its commits and GPU jobs are recorded: its commits' check runs
 * and its timeline notes. Every step is idempotent, so a retry redoes all of it.
 */
export const pushFollowUpSchema = z.object({
  notes: z.array(z.object({ kind: z.string(), sha: shaSchema, suite: z.string().optional(), text: z.string() })),
  /** Commits with jobs, and those whose jobs this push superseded: their check runs are refreshed from the ledger. */
  queued: z.array(shaSchema),
  /** Commits no suite covers, with how many files they changed. */
  uncovered: z.array(z.object({ sha: shaSchema, files: z.number().int() })),
  /** `landed` jobs the push queued: older queued jobs of their suites are withdrawn, and their commits' check runs refreshed. */
  supersede: z.array(jobRequestSchema),
  /** The commits the push recorded, newest last: one may land a reverted culprit again. */
  landed: z.array(z.object({ sha: shaSchema, title: z.string() })).optional(),
});
export type PushFollowUp = z.infer<typeof pushFollowUpSchema>;

export const followUpJobSchema = pushFollowUpSchema.extend({
  type: z.literal("follow-up"),
  repo: repoRefSchema,
  /** The pushed head: names the job in logs. */
  after: shaSchema,
});
export type FollowUpJob = z.infer<typeof followUpJobSchema>;

export const analyzeJobSchema = z.object({
  type: z.literal("analyze"),
  repo: repoRefSchema,
  suite: z.string().min(1),
  /** The sha whose config governs this analysis (the branch head Sheriff last planned from). */
  configSha: shaSchema,
  /** The commit a new result arrived for: its check run is refreshed. */
  sha: shaSchema.optional(),
});
export type AnalyzeJob = z.infer<typeof analyzeJobSchema>;

export const revertJobSchema = z.object({
  type: z.literal("revert"),
  repo: repoRefSchema,
  suite: z.string().min(1),
  culprit: shaSchema,
  configSha: shaSchema,
  /** Set by a person's `revert` command: bypasses auto-revert policy but not the safety checks. */
  requestedBy: z.string().optional(),
  reason: z.string().optional(),
});
export type RevertJob = z.infer<typeof revertJobSchema>;

export const actionsRunJobSchema = z.object({
  type: z.literal("actions-run"),
  repo: repoRefSchema,
  runId: z.number().int(),
  /** A re-run of the workflow is a new attempt of the same run, with results of its own. */
  runAttempt: z.number().int().min(1).optional(),
  headSha: shaSchema,
});
export type ActionsRunJob = z.infer<typeof actionsRunJobSchema>;

export const rerunJobSchema = z.object({
  type: z.literal("rerun"),
  repo: repoRefSchema,
  sha: shaSchema,
  /** Empty: every suite the commit touches. */
  suites: z.array(z.string().min(1)),
  /** Distinguishes repeated requests (each click of "Re-run" is a new one). */
  requestId: z.string().min(1),
});
export type RerunJob = z.infer<typeof rerunJobSchema>;

/** Tells people a host was quarantined (a GitHub issue naming it and the evidence), or re-admitted (the issue closed). */
export const hostIssueJobSchema = z.object({
  type: z.literal("host-issue"),
  repo: repoRefSchema,
  host: z.string().min(1),
  /** When the quarantine began: names it among the host's quarantines. */
  from: z.string(),
  action: z.enum(["open", "close"]),
});
export type HostIssueJob = z.infer<typeof hostIssueJobSchema>;

/** A round of comparing every watched branch's head on GitHub with the ledger's (scheduled, not asked for). */
export const reconcileJobSchema = z.object({ type: z.literal("reconcile") });
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

export const controlJobSchema = z.discriminatedUnion("type", [
  intakeJobSchema,
  analyzeJobSchema,
  revertJobSchema,
  actionsRunJobSchema,
  rerunJobSchema,
  reconcileJobSchema,
  hostIssueJobSchema,
]);
export type ControlJob = z.infer<typeof controlJobSchema>;
