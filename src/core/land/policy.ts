/**
 * When may a PR land? Pure; the land worker feeds it what the GitHub API says.
 */
import { PERMISSION_RANK, type Permission } from "../../model/permission.js";

export interface PullForLanding {
  state: string;
  merged?: boolean | null;
  draft?: boolean | null;
  /** null while GitHub is still computing it. */
  mergeable: boolean | null;
  /** clean, unstable, has_hooks, behind, blocked, dirty, draft, unknown. */
  mergeable_state?: string | null;
  head: { sha: string };
  base: { ref: string };
}

export interface ReviewForLanding {
  user: { login: string } | null;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING. */
  state: string;
  submitted_at?: string | null;
  id?: number;
  /** The head the review was given on. */
  commit_id?: string | null;
}

export interface CheckRunForLanding {
  name: string;
  /** queued, in_progress, completed, waiting, requested, pending. */
  status: string;
  conclusion: string | null;
  id?: number;
}

export interface StatusForLanding {
  context: string;
  /** success, pending, failure, error. */
  state: string;
}

export interface LandInput {
  pr: PullForLanding;
  reviews: ReviewForLanding[];
  /** Names of required checks: check-run names or commit-status contexts. */
  requiredChecks: string[];
  checkRuns: CheckRunForLanding[];
  statuses: StatusForLanding[];
  /** Reviewers' permission on the repository; an approval counts only from write, maintain or admin. */
  permissions: Record<string, Permission>;
  /** The base branch's protection dismisses approvals when new commits are pushed. */
  dismissStaleReviews: boolean;
}

export type LandReadiness =
  | { ready: true }
  | {
      ready: false;
      /** Something that will settle by itself: try again later. */
      waitFor?: string;
      /** Something a person must fix: give up and say why. */
      blockedBy?: string;
      /** The base branch moved: update the PR branch, then check again. */
      needsUpdate?: boolean;
    };

const GREEN_CONCLUSIONS = new Set(["success", "neutral", "skipped"]);

export type CheckState = "green" | "pending" | "failed" | "missing";

/** The state of one required check from check runs (latest per name) and commit statuses. */
export function checkState(name: string, checkRuns: CheckRunForLanding[], statuses: StatusForLanding[]): CheckState {
  const runs = checkRuns.filter((r) => r.name === name);
  // The latest run of a name wins (re-runs get higher ids); the API lists latest first by default.
  const run = runs.length ? runs.reduce((a, b) => ((b.id ?? 0) > (a.id ?? 0) ? b : a)) : undefined;
  const status = statuses.find((s) => s.context === name);
  const states: CheckState[] = [];
  if (run) {
    if (run.status !== "completed") states.push("pending");
    else states.push(run.conclusion && GREEN_CONCLUSIONS.has(run.conclusion) ? "green" : "failed");
  }
  if (status) states.push(status.state === "success" ? "green" : status.state === "pending" ? "pending" : "failed");
  if (!states.length) return "missing";
  if (states.includes("failed")) return "failed";
  if (states.includes("green")) return "green";
  return "pending";
}

/** Each reviewer's latest decisive review (COMMENTED and PENDING do not change a decision; DISMISSED clears it). */
export function reviewDecisions(reviews: ReviewForLanding[]): Map<string, "APPROVED" | "CHANGES_REQUESTED"> {
  const ordered = [...reviews].sort((a, b) => {
    const ta = a.submitted_at ? Date.parse(a.submitted_at) : 0;
    const tb = b.submitted_at ? Date.parse(b.submitted_at) : 0;
    return ta - tb || (a.id ?? 0) - (b.id ?? 0);
  });
  const decisions = new Map<string, "APPROVED" | "CHANGES_REQUESTED">();
  for (const review of ordered) {
    const login = review.user?.login;
    if (!login) continue;
    if (review.state === "APPROVED" || review.state === "CHANGES_REQUESTED") decisions.set(login, review.state);
    else if (review.state === "DISMISSED") decisions.delete(login);
  }
  return decisions;
}

/** Approvals that count: by someone with write permission and, when stale reviews are dismissed, given on the head. */
export function countedApprovals(
  decisions: Map<string, "APPROVED" | "CHANGES_REQUESTED">,
  reviews: ReviewForLanding[],
  { head, permissions, dismissStaleReviews }: { head: string; permissions: Record<string, Permission>; dismissStaleReviews: boolean },
): { counted: string[]; withoutWrite: string[]; stale: string[] } {
  const approvers = [...decisions].filter(([, d]) => d === "APPROVED").map(([login]) => login);
  const withoutWrite = approvers.filter((login) => PERMISSION_RANK[permissions[login] ?? "none"] < PERMISSION_RANK.write);
  const onHead = (login: string) => reviews.some((r) => r.user?.login === login && r.state === "APPROVED" && r.commit_id === head);
  const stale = dismissStaleReviews ? approvers.filter((login) => !withoutWrite.includes(login) && !onHead(login)) : [];
  const counted = approvers.filter((login) => !withoutWrite.includes(login) && !stale.includes(login));
  return { counted, withoutWrite, stale };
}

/** Why no approval counts, naming the approvals that did not. */
function notApprovedReason({ withoutWrite, stale }: { withoutWrite: string[]; stale: string[] }): string {
  const who = (logins: string[]) => logins.map((l) => `@${l}`).join(", ");
  const why = [
    ...(withoutWrite.length ? [`${who(withoutWrite)} ${withoutWrite.length === 1 ? "has" : "have"} no write permission`] : []),
    ...(stale.length ? [`${who(stale)} approved before the latest push, and this branch dismisses stale approvals`] : []),
  ];
  return why.length ? `not approved by anyone with write permission (${why.join("; ")})` : "not approved";
}

const code = (s: string) => `\`${s}\``;

function list(names: string[]): string {
  return names.map(code).join(", ");
}

/**
 * In order: closed/merged/draft, review decision and conflicts block (a person must act);
 * a failed required check blocks; then GitHub still computing mergeability, a base that moved
 * (needs an update) and pending or not yet reported required checks are waited for.
 */
export function landReadiness(input: LandInput): LandReadiness {
  const { pr, reviews, requiredChecks, checkRuns, statuses } = input;
  if (pr.merged) return { ready: false, blockedBy: "it is already merged" };
  if (pr.state !== "open") return { ready: false, blockedBy: "it is closed" };
  if (pr.draft || pr.mergeable_state === "draft") return { ready: false, blockedBy: "it is a draft" };

  const decisions = reviewDecisions(reviews);
  const changesBy = [...decisions].filter(([, d]) => d === "CHANGES_REQUESTED").map(([login]) => `@${login}`);
  if (changesBy.length) return { ready: false, blockedBy: `changes requested by ${changesBy.join(", ")}` };
  const approvals = countedApprovals(decisions, reviews, { head: pr.head.sha, ...input });
  if (approvals.counted.length === 0) return { ready: false, blockedBy: notApprovedReason(approvals) };

  if (pr.mergeable === false || pr.mergeable_state === "dirty") {
    return { ready: false, blockedBy: `merge conflict with ${pr.base.ref}` };
  }

  const states = requiredChecks.map((name) => ({ name, state: checkState(name, checkRuns, statuses) }));
  const failed = states.filter((s) => s.state === "failed").map((s) => s.name);
  if (failed.length) return { ready: false, blockedBy: `${failed.length === 1 ? "check" : "checks"} ${list(failed)} failed` };

  if (pr.mergeable === null || pr.mergeable_state === "unknown") {
    return { ready: false, waitFor: "GitHub to compute whether it can be merged" };
  }
  if (pr.mergeable_state === "behind") return { ready: false, needsUpdate: true, waitFor: `an update from ${pr.base.ref}` };

  const pending = states.filter((s) => s.state !== "green").map((s) => s.name);
  if (pending.length) return { ready: false, waitFor: `${pending.length === 1 ? "check" : "checks"} ${list(pending)}` };
  return { ready: true };
}
