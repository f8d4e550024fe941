import type { Octokit } from "@octokit/rest";
import type { MergeMethod } from "./commands.js";

/** What the merge queue carries and what its producers and workers agree on. */

/** One earlier revert of the change a PR re-applies. The history store implements the lookup. */
export interface PriorRevert {
  /** The PR that was reverted. */
  pr: number;
  title?: string;
  /** The commit it landed as. */
  sha: string;
  /** The revert PR and the commit it landed as, when known. */
  revertPr?: number;
  revertSha?: string;
  reason: string;
  category?: string;
  /** Who asked for the revert (a login, or the app for an automatic one). */
  by: string;
  /** ISO timestamp of the revert. */
  at: string;
}

export interface RevertHistory {
  /** Earlier reverts of what PR `prNumber` re-applies (from its title/body, "Reland #12" say); [] when it is no re-land. */
  historyFor(owner: string, repo: string, prNumber: number, title: string, body: string): Promise<PriorRevert[]>;
}

export interface LandRequest {
  owner: string;
  repo: string;
  pr: number;
  method: MergeMethod;
  requestedBy: string;
  installationId: number;
}

/** What a land job carries in BullMQ; the progress fields are updated as it goes. */
export interface LandJobData extends LandRequest {
  branch: string;
  /** Tells which of two racing `land` commands created the job. */
  requestId: string;
  enqueuedAt: number;
  /** Set when the worker first looks at the job: the deadline counts from here. */
  firstCheckAt?: number;
  checks?: number;
  updates?: number;
  mergeAttempts?: number;
  /** The head sha the last update-branch was asked for, so a repeat is not sent for the same head. */
  updatedFrom?: string;
}

export interface LandCancelRequest {
  owner: string;
  repo: string;
  pr: number;
  requestedBy: string;
}

export interface LandService {
  /** Queues the PR for landing; returns the Markdown reply (queued / already queued / cannot). */
  enqueue(octokit: Octokit, request: LandRequest): Promise<string>;
  /** Takes the PR out of the queue; returns the reply, or null when it was not queued. */
  cancel(request: LandCancelRequest): Promise<string | null>;
  close(): Promise<void>;
}
