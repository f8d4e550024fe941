/**
 * What Sheriff says about a culprit and what it did: the revert step's comments and the `explain`
 * reply. Pure, so the texts are tested without GitHub or a ledger.
 */
import type { RevertRecord, TimelineEntry } from "../../model/ledger.js";
import { shortSha } from "../../model/sha.js";
import { inlineCode, quoteLine } from "../quote.js";
import type { ExistingRevert, RevertPause } from "./policy.js";

/** What a revert comment is about: the culprit, its suite, and the original PR's author to mention. */
export interface CulpritNotice {
  culprit: string;
  suite: string;
  /** The original PR's author, when known. */
  author?: string | undefined;
  /** The culprit landed without a PR: the comment is on the commit itself. */
  withoutPr?: boolean;
}

function mention(author: string | undefined): string {
  return author ? `@${author} ` : "";
}

/**
 * The hidden marker each revert-step comment starts with, one per culprit and trigger (automatic,
 * or a person's request), so a retry finds what an earlier attempt posted instead of posting again.
 */
export function revertNoticeMarker(culprit: string, requestedBy: string | undefined): string {
  return `<!-- sheriff:revert ${culprit} ${requestedBy ? `by:${requestedBy}` : "auto"} -->`;
}

/** The regression summary when a person's `revert` command stands in for an engine verdict. */
export function requestedRevertSummary(requestedBy: string | undefined, reason: string | undefined): string {
  return reason ? `Requested by @${requestedBy}: ${quoteLine(reason, 1000)}` : `Requested by @${requestedBy}.`;
}

/** On the original PR when the policy allows no revert PR (shadow mode, a revert culprit, the daily cap). */
export function commentOnlyMessage(notice: CulpritNotice, reason: string, evidence: string): string {
  return `${mention(notice.author)}Sheriff found that ${shortSha(notice.culprit)} regressed \`${notice.suite}\` after landing. No revert PR was opened: ${reason}.\n\n${evidence}`;
}

/** A revert can conflict in thousands of files; the comment names the first ones. */
const CONFLICT_FILES_SHOWN = 20;

/** On the original PR when reverting the culprit on top of the branch conflicts. */
export function revertConflictMessage(
  notice: CulpritNotice,
  conflict: { branch: string; head: string; files: string[] },
  evidence: string,
): string {
  const shown = conflict.files.slice(0, CONFLICT_FILES_SHOWN).map((f) => inlineCode(f));
  const more = conflict.files.length - shown.length;
  const files = `${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
  return `${mention(notice.author)}Sheriff found that ${shortSha(notice.culprit)} regressed \`${notice.suite}\`, but reverting it on top of ${conflict.branch} (${shortSha(conflict.head)}) conflicts in ${files}: later commits changed the same lines. Please revert or fix it by hand.\n\n${evidence}`;
}

/** The reason recorded when the revert conflicts. */
export function revertConflictReason(files: string[]): string {
  return `revert conflicts in ${files.join(", ")}`;
}

/** On the original PR when reverting the culprit on top of the branch changes nothing. */
export function alreadyRevertedMessage(notice: CulpritNotice, at: { branch: string; head: string }): string {
  return `${mention(notice.author)}Sheriff was asked to revert ${shortSha(notice.culprit)} (\`${notice.suite}\`), but it is already reverted at the head of ${at.branch} (${shortSha(at.head)}): reverting it there changes nothing, so no revert PR was opened.`;
}

/** The reason recorded when the culprit is already reverted at head. */
export function alreadyRevertedReason(head: string): string {
  return `already reverted at head (${shortSha(head)})`;
}

/** On the original PR when a person asked for a revert that someone else's revert already does. */
export function alreadyRevertingMessage(notice: CulpritNotice, requestedBy: string, existing: ExistingRevert): string {
  const by =
    existing.kind === "open-pr"
      ? `#${existing.pr} by @${existing.author} already reverts it`
      : `${shortSha(existing.sha)}, already on the branch, reverts it`;
  return `@${requestedBy} Sheriff was asked to revert ${shortSha(notice.culprit)}, but ${by}, so no second revert PR was opened.`;
}

/** On the original PR when a person asks to revert a culprit whose revert PR Sheriff already opened. */
export function revertAlreadyOpenMessage(culprit: string, revertPr: number): string {
  return `Sheriff already opened #${revertPr} to revert ${shortSha(culprit)}; no second revert PR was opened.`;
}

/** On the original PR once the revert PR is open. */
export function revertOpenedMessage(notice: CulpritNotice, revertPr: number, summary: string): string {
  return `${mention(notice.author)}Sheriff found that ${notice.withoutPr ? "" : "this PR's commit "}${shortSha(notice.culprit)} regressed \`${notice.suite}\` after landing, and opened #${revertPr} to revert it. ${summary}`;
}

/** The PR's shas Sheriff may have acted on: its head, and its merge commit once landed. */
export interface PullShas {
  headSha: string;
  mergeSha: string | null;
}

/** Whether automatic reverts are paused on the repository, for `explain`, `help` and `pause`. */
export function pauseStatus(pause: RevertPause | null): string {
  if (!pause) return "Automatic reverts are not paused on this repository.";
  const why = pause.reason ? `: ${quoteLine(pause.reason, 300)}` : "";
  return `Automatic reverts are paused on this repository since ${pause.at.slice(0, 16).replace("T", " ")} UTC by @${pause.by}${why}. Regressions are still reported; \`resume\` turns them back on.`;
}

/** The `explain` reply: the ledger's entries for the PR's shas, the revert outcome if there is one, and a pause of automatic reverts. */
export function explainReply(
  pr: number,
  pull: PullShas,
  timeline: TimelineEntry[],
  reverts: RevertRecord[],
  pause: RevertPause | null = null,
): string {
  const shas = new Set([pull.headSha, ...(pull.mergeSha ? [pull.mergeSha] : [])]);
  const entries = timeline.filter((e) => e.sha && shas.has(e.sha));
  const paused = pause ? `\n\n${pauseStatus(pause)}` : "";
  if (entries.length === 0) return `Sheriff has no record for #${pr} yet${pull.mergeSha ? "" : ": it acts once a PR has landed"}.${paused}`;
  const lines = entries.map(
    (e) =>
      `- ${e.at.slice(0, 19).replace("T", " ")} · ${e.kind}${e.suite ? ` \`${e.suite}\`` : ""}: ${quoteLine(e.text.split("\n")[0] ?? "")}`,
  );
  const revert = reverts.find((r) => shas.has(r.culprit));
  if (revert)
    lines.push(`- outcome: ${revert.outcome}${revert.revertPr ? ` (#${revert.revertPr})` : ""} because ${quoteLine(revert.reason)}`);
  return `What Sheriff did for #${pr}:\n${lines.join("\n")}${paused}`;
}
