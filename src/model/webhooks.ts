import { z } from "zod";
import { shaSchema } from "./sha.js";

/**
 * The subsets of GitHub's webhook payloads Sheriff reads. Only what is used is
 * required; everything else GitHub sends passes through untouched.
 */
export const repositorySchema = z.object({
  id: z.number().int(),
  name: z.string().min(1),
  full_name: z.string().min(1),
  owner: z.object({ login: z.string().min(1) }),
  default_branch: z.string().min(1),
  clone_url: z.string().min(1),
});
export type RepositoryPayload = z.infer<typeof repositorySchema>;

const installationSchema = z.object({ id: z.number().int() });

export const pushPayloadSchema = z.object({
  ref: z.string().min(1),
  before: shaSchema,
  after: shaSchema,
  created: z.boolean().default(false),
  deleted: z.boolean().default(false),
  forced: z.boolean().default(false),
  repository: repositorySchema,
  installation: installationSchema,
  sender: z.object({ login: z.string() }).optional(),
});
export type PushPayload = z.infer<typeof pushPayloadSchema>;

export const workflowRunPayloadSchema = z.object({
  action: z.string(),
  workflow_run: z.object({
    id: z.number().int(),
    name: z.string().nullish(),
    head_sha: shaSchema,
    /** 1 for the first run, then one more for each re-run of it. */
    run_attempt: z.number().int().min(1).default(1),
    status: z.string().nullish(),
    conclusion: z.string().nullish(),
    display_title: z.string().nullish(),
    path: z.string().nullish(),
  }),
  repository: repositorySchema,
  installation: installationSchema,
});
export type WorkflowRunPayload = z.infer<typeof workflowRunPayloadSchema>;

export const ZERO_SHA = "0000000000000000000000000000000000000000";

export const checkRunPayloadSchema = z.object({
  action: z.string(),
  check_run: z.object({
    id: z.number().int(),
    name: z.string(),
    head_sha: shaSchema,
    app: z.object({ id: z.number().int() }).nullish(),
  }),
  repository: repositorySchema,
  installation: installationSchema,
});
export type CheckRunPayload = z.infer<typeof checkRunPayloadSchema>;

export const mergedPullPayloadSchema = z.object({
  action: z.literal("closed"),
  pull_request: z.object({
    number: z.number().int(),
    title: z.string(),
    merged: z.boolean(),
    merge_commit_sha: shaSchema.nullable(),
    user: z.object({ login: z.string() }),
    base: z.object({ ref: z.string() }),
  }),
  repository: repositorySchema,
});
