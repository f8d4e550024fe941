import type { AutoRevertMode } from "../../model/config.js";
import { shortSha } from "../../model/sha.js";
import { quoteLine } from "../quote.js";

/** Automatic reverts paused on the repository by a person, until someone resumes them. */
export interface RevertPause {
  by: string;
  reason: string;
  at: string;
}

/** A revert of the culprit that exists already: an open PR (not Sheriff's own revert branch) or a landed commit. */
export type ExistingRevert = { kind: "open-pr"; pr: number; author: string } | { kind: "landed"; sha: string; author: string };

export interface RevertPolicyInput {
  mode: AutoRevertMode;
  /** A person's `revert` command: the automatic limits (age, label, pause, cap) do not apply to it. */
  requestedBy?: string;
  culpritIsRevert: boolean;
  revertsToday: number;
  maxPerDay: number;
  /** When the culprit landed (its PR's merge, else when Sheriff recorded it); null when unknown. */
  landedAt: string | null;
  now: Date;
  maxCulpritAgeHours: number;
  /** Labels of the PR that landed the culprit. */
  labels: string[];
  optOutLabel: string;
  pause: RevertPause | null;
  existing: ExistingRevert | null;
}

/** Which limit held an automatic revert back: named in what Sheriff posts and records. */
export type RevertLimit = "revert-culprit" | "paused" | "opt-out-label" | "culprit-age" | "daily-cap";

export type RevertAction =
  | { action: "open-pr"; reason: string }
  | { action: "comment-only"; reason: string; limit?: RevertLimit }
  | { action: "record-only"; reason: string }
  /** Someone reverts the culprit already: no second revert. */
  | { action: "already-reverting"; reason: string; existing: ExistingRevert };

const HOUR_MS = 3600_000;

function existingReason(existing: ExistingRevert): string {
  return existing.kind === "open-pr"
    ? `#${existing.pr} by @${existing.author} already reverts it`
    : `it is already reverted on the branch by ${shortSha(existing.sha)}${existing.author ? `, a commit by ${quoteLine(existing.author, 100)}` : ""}`;
}

function hoursText(hours: number): string {
  return `${Math.round(hours * 10) / 10} hours`;
}

/** The limit an automatic revert of this culprit meets, if any. */
function automaticLimit(input: RevertPolicyInput): { limit: RevertLimit; reason: string } | null {
  if (input.pause) {
    const why = input.pause.reason ? `: ${quoteLine(input.pause.reason, 300)}` : "";
    return {
      limit: "paused",
      reason: `automatic reverts are paused on this repository by @${input.pause.by} since ${input.pause.at.slice(0, 16).replace("T", " ")} UTC${why}`,
    };
  }
  const label = input.labels.find((l) => l.toLowerCase() === input.optOutLabel.toLowerCase());
  if (label)
    return {
      limit: "opt-out-label",
      reason: `the PR has the label \`${label}\` (\`policy.optOutLabel\`), which opts it out of automatic reverts`,
    };
  if (input.landedAt) {
    const age = (input.now.getTime() - Date.parse(input.landedAt)) / HOUR_MS;
    if (age > input.maxCulpritAgeHours) {
      return {
        limit: "culprit-age",
        reason: `it landed ${hoursText(age)} ago, longer than the ${input.maxCulpritAgeHours} hours (\`policy.maxCulpritAgeHours\`) within which Sheriff reverts automatically`,
      };
    }
  }
  if (input.revertsToday >= input.maxPerDay)
    return {
      limit: "daily-cap",
      reason: `the daily cap of ${input.maxPerDay} automatic reverts (\`policy.maxAutoRevertsPerDay\`) is reached`,
    };
  return null;
}

/**
 * What Sheriff may do about a confirmed culprit. Pure, so every branch is tested. Never a second
 * revert of what someone reverts already; a person's command then opens the PR whatever the
 * automatic limits say. Otherwise a revert culprit and the mode come first, then the limits LUCI
 * Bisection and PyTorch's auto-revert keep (a repository pause, an opt-out label, a maximum
 * culprit age, a daily cap) turn the PR into a comment that names the limit.
 */
export function decideRevert(input: RevertPolicyInput): RevertAction {
  if (input.existing) return { action: "already-reverting", reason: existingReason(input.existing), existing: input.existing };
  if (input.requestedBy) return { action: "open-pr", reason: `requested by @${input.requestedBy}` };
  if (input.culpritIsRevert) {
    const reason = "the culprit is itself a revert; Sheriff never reverts a revert automatically";
    return { action: "comment-only", reason, limit: "revert-culprit" };
  }
  if (input.mode === "off") return { action: "record-only", reason: "autoRevert is off" };
  if (input.mode === "shadow")
    return { action: "comment-only", reason: "autoRevert is in shadow mode: Sheriff reports but does not open revert PRs" };
  const held = automaticLimit(input);
  if (held) return { action: "comment-only", reason: held.reason, limit: held.limit };
  return { action: "open-pr", reason: "autoRevert is on" };
}
