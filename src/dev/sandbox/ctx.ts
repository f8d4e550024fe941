// Request context handed to route handlers, and lookups shared by the route modules.
import type { Auth } from "./auth.js";
import type { Core } from "./core.js";
import { resolveCommit } from "./git.js";
import { HttpError, notFound, nowIso, type Json, asObject, type Router } from "./http.js";
import type { Account, Issue, Repo } from "./state.js";

export interface Ctx {
  core: Core;
  auth: Auth;
  actor: Account;
  params: Record<string, string>;
  query: URLSearchParams;
  rawBody: unknown;
  /** Absolute API URL of this request's path, for Link headers. */
  selfUrl: string;
  /** Set for routes with meta.auth === "repo". */
  repo: Repo;
}

export type SandboxRouter = Router<Ctx>;

export const body = (ctx: Ctx): Json => asObject(ctx.rawBody);

export function issueOr404(ctx: Ctx, numberParam = "number"): Issue {
  const n = Number(ctx.params[numberParam]);
  const issue = ctx.repo.issues.get(n);
  if (!issue) throw notFound();
  return issue;
}

export function pullOr404(ctx: Ctx): Issue & { pull: NonNullable<Issue["pull"]> } {
  const issue = issueOr404(ctx);
  if (!issue.pull) throw notFound();
  return issue as Issue & { pull: NonNullable<Issue["pull"]> };
}

export async function commitOr(ctx: Ctx, ref: string, status = 404): Promise<string> {
  const sha = await resolveCommit(ctx.repo.dir, ref);
  if (!sha) {
    if (status === 422) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    throw new HttpError(404, `No commit found for SHA: ${ref}`);
  }
  return sha;
}

export function repoApi(ctx: Ctx): string {
  return `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}`;
}

/** A new open issue by the request's actor; issues and pull requests share one number sequence, as on GitHub. */
export function newIssue(ctx: Ctx, repo: Repo, title: string, text: string | null): Issue {
  const now = nowIso();
  return {
    number: repo.nextNumber++,
    id: ctx.core.state.nextId(),
    title,
    body: text,
    state: "open",
    user: ctx.actor,
    labels: [],
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    reactions: [],
  };
}
