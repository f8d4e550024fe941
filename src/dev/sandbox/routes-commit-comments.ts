// Commit comment routes: comments on a whole commit, as GitHub's "Commit comments" REST API.
import { body, commitOr, type Ctx, type SandboxRouter } from "./ctx.js";
import { nowIso, ok, paginate, str } from "./http.js";
import { accountJson, appJson } from "./shapes.js";
import type { CommitComment } from "./state.js";

function commitCommentJson(ctx: Ctx, c: CommitComment): Record<string, unknown> {
  const { urls } = ctx.core;
  return {
    id: c.id,
    node_id: Buffer.from(`CommitComment:${c.id}`).toString("base64"),
    url: `${urls.apiUrl}/repos/${ctx.repo.fullName}/comments/${c.id}`,
    html_url: `${urls.url}/${ctx.repo.fullName}/commit/${c.commitId}#commitcomment-${c.id}`,
    body: c.body,
    path: null,
    position: null,
    line: null,
    commit_id: c.commitId,
    user: accountJson(urls, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: "NONE",
    performed_via_github_app: c.user.type === "Bot" ? appJson(urls) : null,
  };
}

export function registerCommitCommentRoutes(r: SandboxRouter): void {
  r.add("POST", "/repos/:owner/:repo/commits/:sha/comments", { auth: "repo", level: "read" }, async (ctx) => {
    const commitId = await commitOr(ctx, ctx.params.sha!, 422);
    const text = str(body(ctx), "body", true)!;
    const now = nowIso();
    const c: CommitComment = {
      id: ctx.core.state.nextId(),
      repoId: ctx.repo.id,
      commitId,
      body: text,
      user: ctx.actor,
      createdAt: now,
      updatedAt: now,
    };
    ctx.core.state.commitComments.set(c.id, c);
    return ok(commitCommentJson(ctx, c), 201);
  });

  r.add("GET", "/repos/:owner/:repo/commits/:sha/comments", { auth: "repo", level: "read" }, async (ctx) => {
    const commitId = await commitOr(ctx, ctx.params.sha!, 422);
    const list = [...ctx.core.state.commitComments.values()].filter((c) => c.repoId === ctx.repo.id && c.commitId === commitId);
    const { page, headers } = paginate(list, ctx.query, ctx.selfUrl);
    return ok(
      page.map((c) => commitCommentJson(ctx, c)),
      200,
      headers,
    );
  });
}
