// Issue routes: issues, comments, labels, reactions.
import { body, issueOr404, newIssue, type Ctx, type SandboxRouter } from "./ctx.js";
import { HttpError, notFound, nowIso, ok, paginate, str, validationFailed } from "./http.js";
import { commentJson, issueJson, labelJson, reactionJson } from "./shapes.js";
import type { Comment, Issue, Label, Reaction } from "./state.js";

const REACTIONS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"];

function commentOr404(ctx: Ctx): Comment {
  const c = ctx.core.state.comments.get(Number(ctx.params.id));
  if (!c || c.repoId !== ctx.repo.id) throw notFound();
  return c;
}

function ensureLabel(ctx: Ctx, name: string, color = "ededed", description: string | null = null): Label {
  const key = name.toLowerCase();
  let l = ctx.repo.labels.get(key);
  if (!l) {
    l = { id: ctx.core.state.nextId(), name, color, description };
    ctx.repo.labels.set(key, l);
  }
  return l;
}

function emitIssueEvent(ctx: Ctx, issue: Issue, action: string, extra: Record<string, unknown> = {}): void {
  if (issue.pull) ctx.core.emitPull(ctx.repo, issue, action, ctx.actor, extra);
  else ctx.core.emit(ctx.repo, "issues", ctx.actor, { action, issue: issueJson(ctx.core.urls, ctx.repo, issue), ...extra });
}

function emitComment(ctx: Ctx, issue: Issue, c: Comment, action: string, extra: Record<string, unknown> = {}): void {
  ctx.core.emit(ctx.repo, "issue_comment", ctx.actor, {
    action,
    issue: issueJson(ctx.core.urls, ctx.repo, issue),
    comment: commentJson(ctx.core.urls, ctx.repo, c),
    ...extra,
  });
}

function labelNames(b: unknown): string[] {
  const raw = Array.isArray(b) ? b : b && typeof b === "object" ? (b as Record<string, unknown>).labels : undefined;
  if (!Array.isArray(raw)) throw validationFailed('Invalid request.\n\nNo subschema in "anyOf" matched.');
  return raw.map((x) => (typeof x === "string" ? x : String((x as Record<string, unknown>)?.name ?? "")));
}

function addReaction(ctx: Ctx, list: Reaction[]): ReturnType<typeof ok> {
  const content = str(body(ctx), "content", true)!;
  if (!REACTIONS.includes(content))
    throw validationFailed("Validation Failed", [{ resource: "Reaction", field: "content", code: "invalid" }]);
  const existing = list.find((x) => x.user.id === ctx.actor.id && x.content === content);
  if (existing) return ok(reactionJson(ctx.core.urls, existing), 200);
  const reaction: Reaction = { id: ctx.core.state.nextId(), user: ctx.actor, content, createdAt: nowIso() };
  list.push(reaction);
  return ok(reactionJson(ctx.core.urls, reaction), 201);
}

function listReactions(ctx: Ctx, list: Reaction[]): ReturnType<typeof ok> {
  const content = ctx.query.get("content");
  const { page, headers } = paginate(content ? list.filter((x) => x.content === content) : list, ctx.query, ctx.selfUrl);
  return ok(
    page.map((x) => reactionJson(ctx.core.urls, x)),
    200,
    headers,
  );
}

export function registerIssueRoutes(r: SandboxRouter): void {
  r.add("POST", "/repos/:owner/:repo/issues", { auth: "repo", level: "read" }, (ctx) => {
    const b = body(ctx);
    const issue = newIssue(ctx, ctx.repo, str(b, "title", true)!, str(b, "body") ?? null);
    if (Array.isArray(b.labels)) issue.labels = labelNames(b.labels).map((n) => ensureLabel(ctx, n).name);
    ctx.repo.issues.set(issue.number, issue);
    emitIssueEvent(ctx, issue, "opened");
    return ok(issueJson(ctx.core.urls, ctx.repo, issue), 201);
  });

  r.add("GET", "/repos/:owner/:repo/issues", { auth: "repo", level: "read" }, (ctx) => {
    const state = ctx.query.get("state") ?? "open";
    const labels = (ctx.query.get("labels") ?? "")
      .split(",")
      .filter(Boolean)
      .map((l) => l.toLowerCase());
    const list = [...ctx.repo.issues.values()]
      .filter((i) => state === "all" || i.state === state)
      .filter((i) => labels.every((l) => i.labels.some((x) => x.toLowerCase() === l)))
      .reverse();
    const { page, headers } = paginate(list, ctx.query, ctx.selfUrl);
    return ok(
      page.map((i) => issueJson(ctx.core.urls, ctx.repo, i)),
      200,
      headers,
    );
  });

  r.add("GET", "/repos/:owner/:repo/issues/comments/:id", { auth: "repo", level: "read" }, (ctx) =>
    ok(commentJson(ctx.core.urls, ctx.repo, commentOr404(ctx))),
  );

  r.add("PATCH", "/repos/:owner/:repo/issues/comments/:id", { auth: "repo", level: "read" }, (ctx) => {
    const c = commentOr404(ctx);
    if (
      c.user.id !== ctx.actor.id &&
      ctx.auth.kind === "user" &&
      ctx.auth.user.permissions.get(ctx.repo.fullName.toLowerCase()) === "read"
    ) {
      throw new HttpError(403, "Resource not accessible by personal access token");
    }
    const text = str(body(ctx), "body", true)!;
    const from = c.body;
    c.body = text;
    c.updatedAt = nowIso();
    emitComment(ctx, ctx.repo.issues.get(c.issueNumber)!, c, "edited", { changes: { body: { from } } });
    return ok(commentJson(ctx.core.urls, ctx.repo, c));
  });

  r.add("DELETE", "/repos/:owner/:repo/issues/comments/:id", { auth: "repo", level: "write" }, (ctx) => {
    const c = commentOr404(ctx);
    ctx.core.state.comments.delete(c.id);
    emitComment(ctx, ctx.repo.issues.get(c.issueNumber)!, c, "deleted");
    return { status: 204 };
  });

  r.add("GET", "/repos/:owner/:repo/issues/comments", { auth: "repo", level: "read" }, (ctx) => {
    const list = [...ctx.core.state.comments.values()].filter((c) => c.repoId === ctx.repo.id);
    const { page, headers } = paginate(list, ctx.query, ctx.selfUrl);
    return ok(
      page.map((c) => commentJson(ctx.core.urls, ctx.repo, c)),
      200,
      headers,
    );
  });

  r.add("POST", "/repos/:owner/:repo/issues/comments/:id/reactions", { auth: "repo", level: "read" }, (ctx) =>
    addReaction(ctx, commentOr404(ctx).reactions),
  );
  r.add("GET", "/repos/:owner/:repo/issues/comments/:id/reactions", { auth: "repo", level: "read" }, (ctx) =>
    listReactions(ctx, commentOr404(ctx).reactions),
  );
  r.add("DELETE", "/repos/:owner/:repo/issues/comments/:id/reactions/:rid", { auth: "repo", level: "read" }, (ctx) => {
    const c = commentOr404(ctx);
    const i = c.reactions.findIndex((x) => x.id === Number(ctx.params.rid) && x.user.id === ctx.actor.id);
    if (i < 0) throw notFound();
    c.reactions.splice(i, 1);
    return { status: 204 };
  });

  r.add("GET", "/repos/:owner/:repo/issues/:number", { auth: "repo", level: "read" }, (ctx) => {
    const issue = issueOr404(ctx);
    const json = issueJson(ctx.core.urls, ctx.repo, issue);
    json.comments = [...ctx.core.state.comments.values()].filter((c) => c.repoId === ctx.repo.id && c.issueNumber === issue.number).length;
    return ok(json);
  });

  r.add("PATCH", "/repos/:owner/:repo/issues/:number", { auth: "repo", level: "write" }, (ctx) => {
    const issue = issueOr404(ctx);
    const b = body(ctx);
    const title = str(b, "title");
    const text = str(b, "body");
    const state = str(b, "state");
    if (title !== undefined) issue.title = title;
    if (text !== undefined) issue.body = text;
    if (Array.isArray(b.labels)) issue.labels = labelNames(b.labels).map((n) => ensureLabel(ctx, n).name);
    issue.updatedAt = nowIso();
    if (state && state !== issue.state) {
      if (issue.pull && issue.pull.merged) throw validationFailed("state cannot be changed. The pull request is merged.");
      issue.state = state === "closed" ? "closed" : "open";
      issue.closedAt = issue.state === "closed" ? issue.updatedAt : null;
      emitIssueEvent(ctx, issue, issue.state === "closed" ? "closed" : "reopened");
    }
    return ok(issueJson(ctx.core.urls, ctx.repo, issue));
  });

  r.add("POST", "/repos/:owner/:repo/issues/:number/comments", { auth: "repo", level: "read" }, (ctx) => {
    const issue = issueOr404(ctx);
    const text = str(body(ctx), "body", true)!;
    const now = nowIso();
    const c: Comment = {
      id: ctx.core.state.nextId(),
      repoId: ctx.repo.id,
      issueNumber: issue.number,
      body: text,
      user: ctx.actor,
      createdAt: now,
      updatedAt: now,
      reactions: [],
    };
    ctx.core.state.comments.set(c.id, c);
    issue.updatedAt = now;
    emitComment(ctx, issue, c, "created");
    return ok(commentJson(ctx.core.urls, ctx.repo, c), 201);
  });

  r.add("GET", "/repos/:owner/:repo/issues/:number/comments", { auth: "repo", level: "read" }, (ctx) => {
    const issue = issueOr404(ctx);
    const since = ctx.query.get("since");
    const list = [...ctx.core.state.comments.values()].filter(
      (c) => c.repoId === ctx.repo.id && c.issueNumber === issue.number && (!since || c.updatedAt >= since),
    );
    const { page, headers } = paginate(list, ctx.query, ctx.selfUrl);
    return ok(
      page.map((c) => commentJson(ctx.core.urls, ctx.repo, c)),
      200,
      headers,
    );
  });

  r.add("POST", "/repos/:owner/:repo/issues/:number/reactions", { auth: "repo", level: "read" }, (ctx) =>
    addReaction(ctx, issueOr404(ctx).reactions),
  );
  r.add("GET", "/repos/:owner/:repo/issues/:number/reactions", { auth: "repo", level: "read" }, (ctx) =>
    listReactions(ctx, issueOr404(ctx).reactions),
  );

  const issueLabels = (ctx: Ctx, issue: Issue): ReturnType<typeof ok> =>
    ok(
      issue.labels.flatMap((n) => {
        const l = ctx.repo.labels.get(n.toLowerCase());
        return l ? [labelJson(ctx.core.urls, ctx.repo, l)] : [];
      }),
    );

  const addLabels = (ctx: Ctx, replace: boolean): ReturnType<typeof ok> => {
    const issue = issueOr404(ctx);
    const names = labelNames(ctx.rawBody);
    const before = new Set(issue.labels.map((n) => n.toLowerCase()));
    if (replace) {
      for (const n of issue.labels)
        if (!names.some((x) => x.toLowerCase() === n.toLowerCase()))
          emitIssueEvent(ctx, issue, "unlabeled", { label: labelJson(ctx.core.urls, ctx.repo, ctx.repo.labels.get(n.toLowerCase())!) });
      issue.labels = [];
      before.clear();
    }
    for (const n of names) {
      const l = ensureLabel(ctx, n);
      if (issue.labels.some((x) => x.toLowerCase() === l.name.toLowerCase())) continue;
      issue.labels.push(l.name);
      issue.updatedAt = nowIso();
      if (!before.has(l.name.toLowerCase()) || replace)
        emitIssueEvent(ctx, issue, "labeled", { label: labelJson(ctx.core.urls, ctx.repo, l) });
    }
    return issueLabels(ctx, issue);
  };

  r.add("GET", "/repos/:owner/:repo/issues/:number/labels", { auth: "repo", level: "read" }, (ctx) => issueLabels(ctx, issueOr404(ctx)));
  r.add("POST", "/repos/:owner/:repo/issues/:number/labels", { auth: "repo", level: "write" }, (ctx) => addLabels(ctx, false));
  r.add("PUT", "/repos/:owner/:repo/issues/:number/labels", { auth: "repo", level: "write" }, (ctx) => addLabels(ctx, true));
  r.add("DELETE", "/repos/:owner/:repo/issues/:number/labels/:name", { auth: "repo", level: "write" }, (ctx) => {
    const issue = issueOr404(ctx);
    const i = issue.labels.findIndex((n) => n.toLowerCase() === ctx.params.name!.toLowerCase());
    if (i < 0) throw new HttpError(404, "Label does not exist");
    const [name] = issue.labels.splice(i, 1);
    issue.updatedAt = nowIso();
    const l = ctx.repo.labels.get(name!.toLowerCase());
    if (l) emitIssueEvent(ctx, issue, "unlabeled", { label: labelJson(ctx.core.urls, ctx.repo, l) });
    return issueLabels(ctx, issue);
  });

  r.add("POST", "/repos/:owner/:repo/labels", { auth: "repo", level: "write" }, (ctx) => {
    const b = body(ctx);
    const name = str(b, "name", true)!;
    if (ctx.repo.labels.has(name.toLowerCase()))
      throw validationFailed("Validation Failed", [{ resource: "Label", code: "already_exists", field: "name" }]);
    const l = ensureLabel(ctx, name, (str(b, "color") ?? "ededed").replace(/^#/, ""), str(b, "description") ?? null);
    return ok(labelJson(ctx.core.urls, ctx.repo, l), 201);
  });

  r.add("GET", "/repos/:owner/:repo/labels", { auth: "repo", level: "read" }, (ctx) => {
    const { page, headers } = paginate([...ctx.repo.labels.values()], ctx.query, ctx.selfUrl);
    return ok(
      page.map((l) => labelJson(ctx.core.urls, ctx.repo, l)),
      200,
      headers,
    );
  });

  r.add("GET", "/repos/:owner/:repo/labels/:name", { auth: "repo", level: "read" }, (ctx) => {
    const l = ctx.repo.labels.get(ctx.params.name!.toLowerCase());
    if (!l) throw notFound();
    return ok(labelJson(ctx.core.urls, ctx.repo, l));
  });
}
