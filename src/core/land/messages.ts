/**
 * What the land worker says on the PR. Pure, so the texts are tested without a worker.
 */
import { quoteLine } from "../quote.js";

/** What the person should do after a blocked land: fix and ask again, just retry, or queue for the new base. */
export type LandHint = "fix" | "retry" | "requeue";

/** Why a land stopped, and what to tell the person. */
export interface LandBlock {
  reason: string;
  hint: LandHint;
}

/** Who a land comment is for and about. */
export interface LandAudience {
  /** The app's slug, for "comment `@slug land` again". */
  slug: string;
  requestedBy: string;
  pr: number;
  /** The PR's base branch as GitHub reports it now. */
  base: string;
  /** The PR's author ("" when unknown). */
  author: string;
}

/** Copies in the author when someone else asked to land the PR. */
export function ccAuthor(author: string, requestedBy: string): string {
  return author && author.toLowerCase() !== requestedBy.toLowerCase() ? ` cc @${author}` : "";
}

export function landHintText(hint: LandHint, slug: string, base: string): string {
  if (hint === "requeue") return `Comment \`@${slug} land\` again to queue it for \`${base}\`.`;
  if (hint === "retry") return `Comment \`@${slug} land\` again to retry.`;
  return `Once that is fixed, comment \`@${slug} land\` again.`;
}

/**
 * The hidden marker the one report of a land request (landed, blocked or failed) starts with, so a
 * retry that lost GitHub's answer finds the report it posted instead of posting it again.
 */
export function landReportMarker(requestId: string): string {
  return `<!-- sheriff:land ${requestId} -->`;
}

export function blockedComment(audience: LandAudience, block: LandBlock): string {
  const { slug, requestedBy, pr, base, author } = audience;
  const hint = landHintText(block.hint, slug, base);
  return `@${requestedBy} Could not land #${pr} on \`${base}\`: ${block.reason}. ${hint}${ccAuthor(author, requestedBy)}`.trim();
}

export function landedComment(landed: { sha: string; requestedBy: string; method: string; branch: string; author: string }): string {
  const { sha, requestedBy, method, branch, author } = landed;
  return `Landed as \`${sha}\` by @${requestedBy} (${method} into \`${branch}\`).${ccAuthor(author, requestedBy)}`;
}

/** The comment when the worker gave up after errors talking to GitHub. */
export function landErrorComment(failure: { requestedBy: string; pr: number; slug: string; message: string }): string {
  const { requestedBy, pr, slug, message } = failure;
  return `@${requestedBy} Could not land #${pr}: Sheriff hit an error talking to GitHub (${quoteLine(message)}). Comment \`@${slug} land\` again to retry.`;
}
