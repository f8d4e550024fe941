import { z } from "zod";
import { repoRefSchema } from "./repo.js";
import type { FlakyDecision, LandedCommit, RegressionDecision } from "./engine.js";
import { type JobRequest } from "./jobs.js";

/** The records of Sheriff's history: what landed, which jobs ran, what was decided and done. */

export interface StoredCommit extends LandedCommit {
  branch: string;
  landedAt: string;
}

/** `superseded`: a queued `landed` job dropped because a newer commit of the suite landed first. */
export type JobState = "queued" | "running" | "done" | "failed" | "superseded";

export interface JobRecord {
  id: string;
  job: JobRequest;
  state: JobState;
  enqueuedAt: string;
  updatedAt: string;
  error?: string;
}

/** A host's quarantine as recorded: why it was taken out, and when it came back (absent: still out). */
export interface HostQuarantineRecord {
  host: string;
  from: string;
  to?: string;
  summary: string;
  evidence: string[];
}

export interface VerdictRecord {
  decision: RegressionDecision | FlakyDecision;
  at: string;
}

/** `already-reverted`: reverting changed nothing, the culprit's changes were already undone at head. */
export type RevertOutcome = "pr-opened" | "commented" | "recorded" | "conflict" | "already-reverted" | "skipped";

export interface RevertRecord {
  culprit: string;
  suite: string;
  outcome: RevertOutcome;
  /** Why this outcome (the policy's words). */
  reason: string;
  /** What regressed (the verdict's summary, or the person's reason). */
  summary: string;
  at: string;
  originalPr?: number;
  revertPr?: number;
  revertBranch?: string;
  /** A later landed commit that made the culprit's change again, unchanged: evidence the revert was wrong. */
  relandedAs?: string;
}

export interface TimelineEntry {
  at: string;
  kind: string;
  text: string;
  sha?: string;
  suite?: string;
}

/** A comment command Sheriff acted on: one per comment and position in it. */
export interface CommandRecord {
  commentId: number;
  position: number;
  pr: number;
  name: string;
  requestedBy: string;
  /** The handler's outcome (`replied`, `refused`, `invalid`, ...). */
  status: string;
  reply?: string;
  at: string;
}

/** Where a watched branch is read from GitHub again: what an intake job needs besides its two shas. */
export const branchSourceSchema = z.object({
  repo: repoRefSchema,
  repoId: z.number().int(),
  defaultBranch: z.string(),
});
export type BranchSource = z.infer<typeof branchSourceSchema>;

export interface WatchedBranch {
  repo: string;
  branch: string;
  /** The head the ledger's chain ends at. */
  head: string;
  source: BranchSource;
}
