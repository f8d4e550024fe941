import type { CommandSyntaxError } from "../../model/commands.js";
import { clip, inlineCode } from "../quote.js";
import { renderHelp } from "./help.js";

/**
 * What Sheriff answers to a comment, within bounds: how many commands one comment may give,
 * and replies that always fit in one GitHub comment. Pure.
 */

/** Each command can start GPU jobs and API calls; more than this in one comment runs nothing. */
export const MAX_COMMANDS_PER_COMMENT = 10;
/** GitHub refuses a comment body over 65,536 characters (and then nobody hears anything). */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** How much of a command line is quoted back in an error. */
export const ECHO_LIMIT = 120;

/** Lines addressing Sheriff, parsed or not, count: a comment of 1,000 typos is as much a flood. */
export function exceedsCommandLimit(commandLines: number): boolean {
  return commandLines > MAX_COMMANDS_PER_COMMENT;
}

export function tooManyCommandsReply(login: string, slug: string, commandLines: number): string {
  return `@${login} This comment gives ${commandLines} \`@${slug}\` commands; one comment may give at most ${MAX_COMMANDS_PER_COMMENT}, so I did nothing. Split them over several comments.`;
}

export function renderSyntaxErrors(login: string, slug: string, errors: CommandSyntaxError[]): string {
  const items = errors.map((e) => `- line ${e.line}, ${inlineCode(e.text, ECHO_LIMIT)}: ${e.message}`);
  return fitComment(
    [
      `@${login} I could not understand ${errors.length === 1 ? "a command" : `${errors.length} commands`} in this comment, so I did nothing:`,
      "",
      ...items,
      "",
      "Post a new comment with the fixed command (edits of a comment are not run).",
      "",
      "<details><summary>Help</summary>",
      "",
      renderHelp(slug),
      "",
      "</details>",
    ].join("\n"),
  );
}

/** The reply to a comment's commands: one line for one command, a list for several, each given a fair share of the limit. */
export function combineReplies(login: string, replies: { name: string; reply: string }[], limit = GITHUB_COMMENT_LIMIT): string {
  if (replies.length === 1) return fitComment(`@${login} ${replies[0]!.reply}`, limit);
  const share = Math.floor((limit - 200) / replies.length) - 40;
  const items = replies.map(({ name, reply }) => `- **\`${name}\`**: ${fitComment(reply, share).replace(/\n/g, "\n  ")}`);
  return fitComment([`@${login}`, ...items].join("\n"), limit);
}

/** What closes the code fence and `<details>` left open at the end of `markdown`, so a cut cannot swallow what follows. */
function closersFor(markdown: string): string {
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    if (fence === null) fence = m[1]!;
    else if (m[1]![0] === fence[0] && m[1]!.length >= fence.length && m[2]!.trim() === "") fence = null;
  }
  const openDetails = (markdown.match(/<details>/g) ?? []).length - (markdown.match(/<\/details>/g) ?? []).length;
  return `${fence ? `\n${fence}` : ""}${"\n</details>".repeat(Math.max(0, openDetails))}`;
}

/** `markdown` as is when it fits in `limit` characters; else cut, with open blocks closed and a note saying so. */
export function fitComment(markdown: string, limit = GITHUB_COMMENT_LIMIT): string {
  if (markdown.length <= limit) return markdown;
  const cut = clip(markdown, Math.max(0, limit - 200));
  const omitted = markdown.length - cut.length + 1;
  const note = `\n\n*(Reply truncated to fit GitHub's limit of ${limit.toLocaleString("en-US")} characters: ${omitted.toLocaleString("en-US")} characters left out.)*`;
  return `${cut}${closersFor(cut)}${note}`.slice(0, limit);
}
