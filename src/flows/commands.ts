import type { Octokit } from "@octokit/rest";
import type { RedisHandle } from "../adapters/store/redis.js";
import type { LandService } from "../model/land.js";
import { parseCommentCommands } from "../core/commands/grammar.js";
import { renderHelp, specOf } from "../core/commands/help.js";
import { combineReplies, exceedsCommandLimit, fitComment, renderSyntaxErrors, tooManyCommandsReply } from "../core/commands/reply.js";
import { quoteLine } from "../core/quote.js";
import { issueCommentPayloadSchema, type IssueCommentPayload } from "../model/comment.js";
import type { PermissionChecker } from "../adapters/github/permissions.js";
import { mayRun } from "../core/commands/permission.js";
import type { Permission } from "../model/permission.js";
import type { Command, CommandSyntaxError } from "../model/commands.js";
import { formatZodIssues } from "../model/zod.js";
import { type Log } from "../model/log.js";
import type { CommandRecord } from "../model/ledger.js";

/** What every action gets: where the command was given and by whom. */
export interface CommandContext {
  /** Authenticated as the app's installation on this repository. */
  octokit: Octokit;
  owner: string;
  repo: string;
  /** The pull request the comment is on (an issue, for the repository-wide commands). */
  pr: number;
  /** Login of the person who wrote the command. */
  requestedBy: string;
  installationId: number;
  commentId: number;
  defaultBranch: string;
}

/**
 * What the commands do through the ledger, the GPU queues and revert PRs. Each returns one Markdown
 * line (or short paragraph) for the reply; throwing makes the reply say the command failed.
 */
export interface CommandActions {
  revert(req: CommandContext & { reason: string; category?: string }): Promise<string>;
  rerun(req: CommandContext & { suites: string[] }): Promise<string>;
  bisect(req: CommandContext & { good: string; bad: string; suite?: string }): Promise<string>;
  rebaseline(req: CommandContext & { suite: string; reason: string }): Promise<string>;
  explain(req: CommandContext): Promise<string>;
  /** Pauses automatic reverts on the whole repository, recorded with the reason. */
  pause(req: CommandContext & { reason: string }): Promise<string>;
  resume(req: CommandContext): Promise<string>;
  /** Whether automatic reverts are paused on the repository, for the help. */
  pauseStatus(req: CommandContext): Promise<string>;
  /** Cancels Sheriff's pending work for the PR other than landing; null when there was none. */
  cancel(req: CommandContext): Promise<string | null>;
}

export interface CommandDeps {
  octokit: Octokit;
  redis: RedisHandle;
  /** The app's slug, from `GET /app` (`apps.getAuthenticated`), not hard-coded. */
  slug: string;
  permissions: PermissionChecker;
  actions: CommandActions;
  /** The merge queue (`createLandQueue`). */
  land: LandService;
  log: Log;
  /** How long a handled comment id is remembered, so a redelivered webhook does nothing; default 7 days. */
  dedupeTtlSeconds?: number;
  /** Keeps what was run in the history (the ledger's commands); absent, nothing is kept. */
  history?: (repo: string, records: CommandRecord[]) => Promise<void>;
}

export type IgnoredReason = "invalid-payload" | "not-created" | "bot" | "no-commands" | "duplicate";

export interface CommandResult {
  command: Command;
  outcome: "done" | "refused" | "failed" | "not-a-pull-request";
  /** The Markdown that went into the reply for this command. */
  reply: string;
}

export type HandleOutcome =
  | { status: "ignored"; reason: IgnoredReason; detail?: string }
  | { status: "syntax-error"; errors: CommandSyntaxError[]; replyId?: number }
  | { status: "too-many-commands"; count: number; replyId?: number }
  | { status: "handled"; results: CommandResult[]; replyId?: number };

const HISTORY_REPLY_LIMIT = 4000;

/** The history is a record, not a gate: failing to write it is logged, never undoes or repeats a command. */
async function recordHistory(deps: CommandDeps, repo: string, commentId: number, pr: number, login: string, results: CommandResult[]) {
  if (!deps.history) return;
  const at = new Date().toISOString();
  const records = results.map((r, position): CommandRecord => ({
    commentId,
    position,
    pr,
    name: r.command.name,
    requestedBy: login,
    status: r.outcome,
    // What was posted is on GitHub; the history keeps enough to say what happened.
    reply: fitComment(r.reply, HISTORY_REPLY_LIMIT),
    at,
  }));
  try {
    await deps.history(repo, records);
  } catch (err) {
    deps.log.error({ err, repo, commentId }, "could not record the comment's commands in the history");
  }
}

export function isBot(user: { login: string; type?: string }): boolean {
  return user.type === "Bot" || /\[bot\]$/i.test(user.login);
}

const ACCESS_WORDS: Record<Permission, string> = { admin: "admin", write: "write", read: "read", none: "no" };

/**
 * Handles an `issue_comment` webhook: parses `@slug` commands, checks permissions, runs them and
 * replies once. Never throws for bad input; errors from GitHub or Redis propagate (so the
 * webhook is retried) only before the comment id is recorded.
 *
 * Delivery is at most once per comment: the comment id is claimed in Redis (`SET NX`) before
 * anything is done, so a redelivered webhook, or two deliveries racing, run the commands once.
 * If GitHub fails before any command has run (permission lookup, reaction), the claim is given
 * back and the error is thrown, so a redelivery retries; once a command ran, it never runs again.
 */
export async function handleIssueComment(deps: CommandDeps, payload: unknown): Promise<HandleOutcome> {
  const { octokit, redis, slug, log } = deps;
  const parsedPayload = issueCommentPayloadSchema.safeParse(payload);
  if (!parsedPayload.success) {
    const detail = formatZodIssues(parsedPayload.error).join("; ");
    log.warn({ detail }, "issue_comment payload not understood");
    return { status: "ignored", reason: "invalid-payload", detail };
  }
  const event: IssueCommentPayload = parsedPayload.data;
  // Edits and deletions never (re-)run commands: only what was posted counts.
  if (event.action !== "created") return { status: "ignored", reason: "not-created" };
  // Never act on bots, Sheriff itself included (its replies quote commands).
  if (isBot(event.sender) || isBot(event.comment.user) || event.sender.login.toLowerCase() === `${slug.toLowerCase()}[bot]`) {
    return { status: "ignored", reason: "bot" };
  }

  const { commands, errors } = parseCommentCommands(event.comment.body, slug);
  if (!commands.length && !errors.length) return { status: "ignored", reason: "no-commands" };

  const owner = event.repository.owner.login;
  const repo = event.repository.name;
  const issueNumber = event.issue.number;
  const login = event.comment.user.login;
  const commentId = event.comment.id;

  const claimKey = redis.key("commands", "comment", String(commentId));
  const claimed = await redis.redis.set(claimKey, "1", "EX", deps.dedupeTtlSeconds ?? 7 * 24 * 3600, "NX");
  if (claimed !== "OK") {
    log.info({ owner, repo, commentId }, "comment already handled (redelivered webhook)");
    return { status: "ignored", reason: "duplicate" };
  }

  const reply = async (body: string): Promise<number | undefined> => {
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
    return data.id;
  };

  // Until something has been done, a failure gives the claim back, so GitHub's redelivery (or a
  // manual one) can try again; after that, the comment is done at most once.
  const beforeActing = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      await redis.redis.del(claimKey);
      throw err;
    }
  };

  // Checked before anything else is asked of GitHub: one comment must not order unbounded work.
  const commandLines = commands.length + errors.length;
  if (exceedsCommandLimit(commandLines)) {
    const replyId = await beforeActing(() => reply(tooManyCommandsReply(login, slug, commandLines)));
    return { status: "too-many-commands", count: commandLines, replyId };
  }

  // A comment with a mistake runs nothing: a half-run comment is harder to reason about than a retyped one.
  if (errors.length) {
    const replyId = await beforeActing(() => reply(renderSyntaxErrors(login, slug, errors)));
    return { status: "syntax-error", errors, replyId };
  }

  const isPullRequest = Boolean(event.issue.pull_request);
  const needsWrite = commands.some((c) => specOf(c.name).audience === "write");
  const permission: Permission = needsWrite ? await beforeActing(() => deps.permissions.permissionOf(octokit, owner, repo, login)) : "none";

  const results: CommandResult[] = [];
  const accepted: Command[] = [];
  for (const command of commands) {
    if (!mayRun(command, permission)) {
      results.push({
        command,
        outcome: "refused",
        reply: `Sorry, \`${command.name}\` needs write access to ${owner}/${repo}, and you have ${ACCESS_WORDS[permission]} access. Ask a maintainer to run it for you.`,
      });
    } else if (!isPullRequest && specOf(command.name).scope === "pull-request") {
      results.push({
        command,
        outcome: "not-a-pull-request",
        reply: `\`${command.name}\` works on pull requests only; #${issueNumber} is an issue.`,
      });
    } else {
      accepted.push(command);
      results.push({ command, outcome: "done", reply: "" });
    }
  }

  if (accepted.length) {
    await beforeActing(() => octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: commentId, content: "eyes" }));
  }

  const ctx: CommandContext = {
    octokit,
    owner,
    repo,
    pr: issueNumber,
    requestedBy: login,
    installationId: event.installation.id,
    commentId,
    defaultBranch: event.repository.default_branch,
  };
  for (const result of results) {
    if (result.outcome !== "done") continue;
    try {
      result.reply = await run(deps, ctx, result.command);
    } catch (err) {
      log.error({ err, owner, repo, pr: issueNumber, command: result.command.name }, "command failed");
      result.outcome = "failed";
      result.reply = `\`${result.command.name}\` failed: ${quoteLine((err as Error).message ?? String(err), 500)}`;
    }
  }

  const replyId = await reply(
    combineReplies(
      login,
      results.map((r) => ({ name: r.command.name, reply: r.reply })),
    ),
  );
  await recordHistory(deps, `${owner}/${repo}`, commentId, issueNumber, login, results);
  return { status: "handled", results, replyId };
}

async function run(deps: CommandDeps, ctx: CommandContext, command: Command): Promise<string> {
  const { actions } = deps;
  switch (command.name) {
    case "help":
      return `\n\n${renderHelp(deps.slug)}\n\n${await actions.pauseStatus(ctx)}`;
    case "explain":
      return actions.explain(ctx);
    case "pause":
      return actions.pause({ ...ctx, reason: command.reason });
    case "resume":
      return actions.resume(ctx);
    case "revert":
      return actions.revert({ ...ctx, reason: command.reason, ...(command.category ? { category: command.category } : {}) });
    case "rerun":
      return actions.rerun({ ...ctx, suites: command.suites });
    case "bisect":
      return actions.bisect({ ...ctx, good: command.good, bad: command.bad, ...(command.suite ? { suite: command.suite } : {}) });
    case "rebaseline":
      return actions.rebaseline({ ...ctx, suite: command.suite, reason: command.reason });
    case "land":
      return deps.land.enqueue(ctx.octokit, {
        owner: ctx.owner,
        repo: ctx.repo,
        pr: ctx.pr,
        method: command.method,
        requestedBy: ctx.requestedBy,
        installationId: ctx.installationId,
      });
    case "cancel": {
      const landed = await deps.land.cancel({ owner: ctx.owner, repo: ctx.repo, pr: ctx.pr, requestedBy: ctx.requestedBy });
      const other = await actions.cancel(ctx);
      const parts = [landed, other].filter((p): p is string => Boolean(p));
      return parts.length ? parts.join(" ") : `Nothing to cancel for #${ctx.pr}.`;
    }
  }
}
