import type { AutoRevertMode } from "../../model/config.js";

export interface RevertPolicyInput {
  mode: AutoRevertMode;
  /** A person's `revert` command: the automatic policy does not apply to it. */
  requestedBy?: string;
  culpritIsRevert: boolean;
  revertsToday: number;
  maxPerDay: number;
}

export type RevertAction =
  { action: "open-pr"; reason: string } | { action: "comment-only"; reason: string } | { action: "record-only"; reason: string };

/** What Sheriff may do about a confirmed culprit. Pure, so every branch is tested. */
export function decideRevert(input: RevertPolicyInput): RevertAction {
  if (input.requestedBy) return { action: "open-pr", reason: `requested by @${input.requestedBy}` };
  if (input.culpritIsRevert)
    return { action: "comment-only", reason: "the culprit is itself a revert; Sheriff never reverts a revert automatically" };
  if (input.mode === "off") return { action: "record-only", reason: "autoRevert is off" };
  if (input.mode === "shadow")
    return { action: "comment-only", reason: "autoRevert is in shadow mode: Sheriff reports but does not open revert PRs" };
  if (input.revertsToday >= input.maxPerDay) {
    return { action: "comment-only", reason: `the daily cap of ${input.maxPerDay} automatic reverts is reached` };
  }
  return { action: "open-pr", reason: "autoRevert is on" };
}
