/**
 * The land worker's decisions between GitHub calls. Pure; the worker does the I/O and follows these.
 */
import type { LandReadiness } from "./policy.js";
import type { LandBlock } from "./messages.js";

export type NotReady = Extract<LandReadiness, { ready: false }>;

/** The job's progress that the decisions read (saved in the job's data between looks). */
export interface LandProgress {
  updates?: number;
  updatedFrom?: string;
  mergeAttempts?: number;
  /** The head the worker asked GitHub to merge, saved before asking: a retry that lost the answer knows its own merge. */
  mergingHead?: string;
}

/** What the worker reads of the PR to tell whether it is merged, and at which head. */
export interface PullMergeState {
  merged?: boolean | null;
  head: { sha: string };
  merge_commit_sha?: string | null;
}

/**
 * The commit the PR landed as when it was merged at the head this worker asked to merge: its own
 * merge, whose answer was lost (a timeout, a 5xx after acting, a kill), to be reported as landed.
 * Null when the PR is not merged, or was merged at another head (by someone else, after a push).
 */
export function ownMerge(pull: PullMergeState, progress: LandProgress): string | null {
  if (!pull.merged || !progress.mergingHead || pull.head.sha !== progress.mergingHead) return null;
  return pull.merge_commit_sha ?? null;
}

/** A PR whose base changed while it waited in one branch's queue does not land from that queue. */
export function baseChangeBlock(queuedFor: string, base: string): LandBlock | null {
  if (base === queuedFor) return null;
  return { reason: `its base changed from \`${queuedFor}\` to \`${base}\` while it was queued`, hint: "requeue" };
}

export type NotReadyPlan = { action: "blocked"; block: LandBlock } | { action: "update" } | { action: "wait" };

/** A PR not ready yet: give up (a person must act, or the base kept moving), update it from its base, or wait. */
export function planNotReady(readiness: NotReady, progress: LandProgress, head: string, branch: string, maxUpdates: number): NotReadyPlan {
  if (readiness.blockedBy) return { action: "blocked", block: { reason: readiness.blockedBy, hint: "fix" } };
  if (readiness.needsUpdate && progress.updatedFrom !== head) {
    if ((progress.updates ?? 0) >= maxUpdates) {
      const reason = `\`${branch}\` kept moving; it was updated ${progress.updates} times without landing`;
      return { action: "blocked", block: { reason, hint: "retry" } };
    }
    return { action: "update" };
  }
  return { action: "wait" };
}

/** An update-branch GitHub refused (422): a conflict blocks; otherwise the head moved under us, so look again. */
export function updateRefusal(message: string, branch: string): LandBlock | null {
  return /conflict/i.test(message) ? { reason: `merge conflict with ${branch}`, hint: "fix" } : null;
}

/** Gives up once the wait since the first look is longer than `maxWaitMs`. */
export function waitDeadline(now: number, firstCheckAt: number, maxWaitMs: number, waitFor: string | undefined): LandBlock | null {
  if (now - firstCheckAt <= maxWaitMs) return null;
  const reason = `gave up after ${Math.round(maxWaitMs / 60_000)} minutes waiting for ${waitFor ?? "it to become ready"}`;
  return { reason, hint: "retry" };
}

export type MergeFailure = { action: "retry"; mergeAttempts: number } | { action: "blocked"; block: LandBlock } | { action: "throw" };

/**
 * A refused merge: a head or base that moved after we looked (409, or 405 "base branch was modified")
 * is looked at again a bounded number of times; other 405/422 block; anything else is an error.
 */
export function mergeFailure(
  status: number | undefined,
  message: string,
  progress: LandProgress,
  branch: string,
  maxMergeAttempts: number,
): MergeFailure {
  if (status === 409 || (status === 405 && /base branch was modified/i.test(message))) {
    const mergeAttempts = (progress.mergeAttempts ?? 0) + 1;
    if (mergeAttempts >= maxMergeAttempts) {
      return { action: "blocked", block: { reason: `the branch kept changing while merging (${message})`, hint: "retry" } };
    }
    return { action: "retry", mergeAttempts };
  }
  if (status === 405 || status === 422) {
    const reason = /conflict/i.test(message) ? `merge conflict with ${branch}` : `GitHub refused the merge: ${message}`;
    return { action: "blocked", block: { reason, hint: "fix" } };
  }
  return { action: "throw" };
}
