import { z } from "zod";
import { suiteConfigSchema } from "./config.js";
import { shaSchema } from "./result.js";

/**
 * Queue payloads. Redis is an edge too (other versions of Sheriff, other hosts write it),
 * so consumers parse job data with these schemas before use.
 */
export const repoRefSchema = z.object({
  owner: z.string().min(1),
  repo: z.string().min(1),
  installationId: z.number().int(),
  cloneUrl: z.string().min(1),
  branch: z.string().min(1),
});
export type RepoRef = z.infer<typeof repoRefSchema>;

export function repoKey(ref: Pick<RepoRef, "owner" | "repo">): string {
  return `${ref.owner}/${ref.repo}`;
}

export const jobRequestSchema = z.object({
  sha: shaSchema,
  suite: z.string().min(1),
  purpose: z.enum(["landed", "retry", "bisect", "baseline", "ab"]),
  attempt: z.number().int().nonnegative(),
  baselineSha: shaSchema.optional(),
  runner: z.string().optional(),
  cherryPicks: z.array(shaSchema).optional(),
  baselineCherryPicks: z.array(shaSchema).optional(),
});

export const gpuJobSchema = z.object({
  repo: repoRefSchema,
  job: jobRequestSchema,
  suite: suiteConfigSchema,
});
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

export const controlJobSchema = z.discriminatedUnion("type", [
  intakeJobSchema,
  analyzeJobSchema,
  revertJobSchema,
  actionsRunJobSchema,
  rerunJobSchema,
]);
export type ControlJob = z.infer<typeof controlJobSchema>;
