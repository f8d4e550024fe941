/**
 * Has someone reverted the culprit already? Read from what git and GitHub write into a revert:
 * `git revert`'s "This reverts commit <sha>.", a `Reverts: <sha>` trailer, and the body of a PR
 * made with GitHub's Revert button, "Reverts owner/repo#<pr>". Pure.
 */
import type { ExistingRevert } from "./policy.js";

/** The culprit as a revert would name it. */
export interface RevertTarget {
  culprit: string;
  /** The PR that landed it, when known. */
  originalPr: number | null;
  /** `owner/repo`. */
  repoFullName: string;
}

export interface OpenPullText {
  number: number;
  title: string;
  body: string;
  author: string;
  headRef: string;
}

export interface LandedCommitText {
  sha: string;
  author: string;
  message: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function namesCulprit(sha: string, culprit: string): boolean {
  return culprit.toLowerCase().startsWith(sha.toLowerCase());
}

/** Whether a commit message, or a PR's title and body, says it reverts the target. */
export function revertsTarget(text: string, target: RevertTarget): boolean {
  for (const m of text.matchAll(/\bThis reverts commit ([0-9a-f]{7,40})\b/gi)) if (namesCulprit(m[1]!, target.culprit)) return true;
  for (const m of text.matchAll(/^\s*Reverts:\s*([0-9a-f]{7,40})\b/gim)) if (namesCulprit(m[1]!, target.culprit)) return true;
  if (target.originalPr === null) return false;
  const button = new RegExp(`\\bReverts (?:${escapeRegExp(target.repoFullName)})?#${target.originalPr}(?!\\d)`, "i");
  return button.test(text);
}

/**
 * The revert of the target that exists already, if any: a landed commit first (the culprit is
 * undone), then an open PR. Sheriff's own revert branch is not one: a retry resumes it.
 */
export function findExistingRevert(
  target: RevertTarget,
  found: { landed: LandedCommitText[]; openPulls: OpenPullText[]; ownBranch: string },
): ExistingRevert | null {
  const landed = found.landed.find((c) => !namesCulprit(c.sha, target.culprit) && revertsTarget(c.message, target));
  if (landed) return { kind: "landed", sha: landed.sha, author: landed.author };
  const open = found.openPulls.find((p) => p.headRef !== found.ownBranch && revertsTarget(`${p.title}\n${p.body}`, target));
  return open ? { kind: "open-pr", pr: open.number, author: open.author } : null;
}
