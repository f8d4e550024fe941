import type { SheriffConfig } from "../model/config.js";
import type { PushPayload } from "../model/webhooks.js";
import { ZERO_SHA } from "../model/webhooks.js";

/** A push to a watched branch, reduced to what the rest of the flow needs. */
export interface LandedPush {
  owner: string;
  repo: string;
  repoId: number;
  installationId: number;
  cloneUrl: string;
  branch: string;
  defaultBranch: string;
  /** Null when the branch was just created: there is no previous head to diff from. */
  before: string | null;
  after: string;
  /** History was rewritten (force push): commits after the common ancestor are no longer on the branch. */
  forced: boolean;
}

export type PushClassification = { kind: "landed"; push: LandedPush } | { kind: "ignored"; reason: string };

/** Decides whether a push lands commits Sheriff watches. Pure. */
export function classifyPush(payload: PushPayload): PushClassification {
  if (!payload.ref.startsWith("refs/heads/")) return { kind: "ignored", reason: `${payload.ref} is not a branch` };
  const branch = payload.ref.slice("refs/heads/".length);
  if (payload.deleted || payload.after === ZERO_SHA) return { kind: "ignored", reason: `branch ${branch} was deleted` };
  return {
    kind: "landed",
    push: {
      owner: payload.repository.owner.login,
      repo: payload.repository.name,
      repoId: payload.repository.id,
      installationId: payload.installation.id,
      cloneUrl: payload.repository.clone_url,
      branch,
      defaultBranch: payload.repository.default_branch,
      before: payload.created || payload.before === ZERO_SHA ? null : payload.before,
      after: payload.after,
      forced: payload.forced,
    },
  };
}

/** Branches watched: the config's list, or the default branch when it names none. */
export function isWatchedBranch(push: Pick<LandedPush, "branch" | "defaultBranch">, config: Pick<SheriffConfig, "branches">): boolean {
  const branches = config.branches.length > 0 ? config.branches : [push.defaultBranch];
  return branches.includes(push.branch);
}
