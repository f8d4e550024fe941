// Checks and commit statuses.
import { body, commitOr, type Ctx, type SandboxRouter } from "./ctx.js";
import { HttpError, notFound, nowIso, ok, paginate, str, validationFailed } from "./http.js";
import { checkRunJson, statusJson } from "./shapes-ci.js";
import type { CheckRun, CommitStatus } from "./state.js";

const STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"];
const CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"];

export function registerCheckRoutes(r: SandboxRouter): void {
  const suites = new Map<string, number>();

  const prRefs = (ctx: Ctx, sha: string): Record<string, unknown>[] =>
    [...ctx.repo.issues.values()]
      .filter((i) => i.pull && i.state === "open" && i.pull.headSha === sha)
      .map((i) => ({
        url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}/pulls/${i.number}`,
        id: i.pull!.id,
        number: i.number,
        head: {
          ref: i.pull!.headRef,
          sha: i.pull!.headSha,
          repo: { id: ctx.repo.id, url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}`, name: ctx.repo.name },
        },
        base: {
          ref: i.pull!.baseRef,
          sha: i.pull!.baseSha,
          repo: { id: ctx.repo.id, url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}`, name: ctx.repo.name },
        },
      }));

  const headBranch = (ctx: Ctx, sha: string): string | null => {
    for (const i of ctx.repo.issues.values()) if (i.pull && i.pull.headSha === sha) return i.pull.headRef;
    return null;
  };

  const json = (ctx: Ctx, c: CheckRun): Record<string, unknown> =>
    checkRunJson(ctx.core.urls, ctx.repo, c, headBranch(ctx, c.headSha), prRefs(ctx, c.headSha));

  const emit = (ctx: Ctx, c: CheckRun, action: string): void =>
    ctx.core.emit(ctx.repo, "check_run", ctx.actor, { action, check_run: json(ctx, c) });

  const requireApp = (ctx: Ctx): void => {
    if (ctx.auth.kind !== "installation") throw new HttpError(403, "You must authenticate via a GitHub App.");
  };

  const applyFields = (c: CheckRun, b: Record<string, unknown>): void => {
    const status = str(b, "status");
    const conclusion = str(b, "conclusion");
    if (status !== undefined && !STATUSES.includes(status)) throw validationFailed(`Invalid request.\n\n${status} is not a valid status`);
    if (conclusion !== undefined && !CONCLUSIONS.includes(conclusion))
      throw validationFailed(`Invalid request.\n\n${conclusion} is not a valid conclusion`);
    if (status === "completed" && !conclusion && !c.conclusion)
      throw validationFailed('Invalid request.\n\n"conclusion" wasn\'t supplied.');
    if (str(b, "name")) c.name = str(b, "name")!;
    if (status) c.status = status as CheckRun["status"];
    if (conclusion) {
      c.conclusion = conclusion;
      c.status = "completed";
    }
    if (str(b, "started_at")) c.startedAt = str(b, "started_at")!;
    if (c.status === "in_progress" && !c.startedAt) c.startedAt = nowIso();
    if (c.status === "completed") c.completedAt = str(b, "completed_at") ?? c.completedAt ?? nowIso();
    if (b.details_url !== undefined) c.detailsUrl = str(b, "details_url") ?? null;
    if (b.external_id !== undefined) c.externalId = str(b, "external_id") ?? null;
    if (b.output && typeof b.output === "object") {
      const o = b.output as Record<string, unknown>;
      c.output = {
        title: typeof o.title === "string" ? o.title : c.output.title,
        summary: typeof o.summary === "string" ? o.summary : c.output.summary,
        text: typeof o.text === "string" ? o.text : c.output.text,
      };
    }
  };

  r.add("POST", "/repos/:owner/:repo/check-runs", { auth: "repo", level: "write" }, async (ctx) => {
    requireApp(ctx);
    const b = body(ctx);
    const name = str(b, "name", true)!;
    const sha = await commitOr(ctx, str(b, "head_sha", true)!, 422);
    const suiteKey = `${ctx.repo.id}:${sha}`;
    if (!suites.has(suiteKey)) suites.set(suiteKey, ctx.core.state.nextId());
    const c: CheckRun = {
      id: ctx.core.state.nextId(),
      repoId: ctx.repo.id,
      name,
      headSha: sha,
      status: "queued",
      conclusion: null,
      startedAt: nowIso(),
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
      checkSuiteId: suites.get(suiteKey)!,
    };
    applyFields(c, b);
    ctx.core.state.checkRuns.set(c.id, c);
    emit(ctx, c, "created");
    if (c.status === "completed") emit(ctx, c, "completed");
    return ok(json(ctx, c), 201);
  });

  const runOr404 = (ctx: Ctx): CheckRun => {
    const c = ctx.core.state.checkRuns.get(Number(ctx.params.id));
    if (!c || c.repoId !== ctx.repo.id) throw notFound();
    return c;
  };

  r.add("GET", "/repos/:owner/:repo/check-runs/:id", { auth: "repo", level: "read" }, (ctx) => ok(json(ctx, runOr404(ctx))));

  r.add("PATCH", "/repos/:owner/:repo/check-runs/:id", { auth: "repo", level: "write" }, (ctx) => {
    requireApp(ctx);
    const c = runOr404(ctx);
    const wasCompleted = c.status === "completed";
    applyFields(c, body(ctx));
    if (!wasCompleted && c.status === "completed") emit(ctx, c, "completed");
    return ok(json(ctx, c));
  });

  r.add("GET", "/repos/:owner/:repo/commits/:ref/check-runs", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await commitOr(ctx, ctx.params.ref!, 422);
    let runs = [...ctx.core.state.checkRuns.values()].filter((c) => c.repoId === ctx.repo.id && c.headSha === sha);
    const name = ctx.query.get("check_name");
    const status = ctx.query.get("status");
    if (name) runs = runs.filter((c) => c.name === name);
    if (status) runs = runs.filter((c) => c.status === status);
    if ((ctx.query.get("filter") ?? "latest") === "latest") {
      const latest = new Map<string, CheckRun>();
      for (const c of runs) latest.set(c.name, c);
      runs = [...latest.values()];
    }
    runs.sort((a, b) => b.id - a.id);
    const { page, headers } = paginate(runs, ctx.query, ctx.selfUrl);
    return ok({ total_count: runs.length, check_runs: page.map((c) => json(ctx, c)) }, 200, headers);
  });

  r.add("POST", "/repos/:owner/:repo/statuses/:sha", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const state = str(b, "state", true)!;
    if (!["error", "failure", "pending", "success"].includes(state))
      throw validationFailed("Validation Failed", [
        { resource: "Status", field: "state", code: "custom", message: "state is not included in the list" },
      ]);
    const sha = await commitOr(ctx, ctx.params.sha!, 422);
    const now = nowIso();
    const s: CommitStatus = {
      id: ctx.core.state.nextId(),
      repoId: ctx.repo.id,
      sha,
      state: state as CommitStatus["state"],
      context: str(b, "context") ?? "default",
      description: str(b, "description") ?? null,
      targetUrl: str(b, "target_url") ?? null,
      creator: ctx.actor,
      createdAt: now,
      updatedAt: now,
    };
    ctx.core.state.statuses.push(s);
    ctx.core.emit(ctx.repo, "status", ctx.actor, {
      sha,
      state: s.state,
      context: s.context,
      description: s.description,
      target_url: s.targetUrl,
      id: s.id,
    });
    return ok(statusJson(ctx.core.urls, ctx.repo, s), 201);
  });

  const statusesFor = async (ctx: Ctx): Promise<{ sha: string; all: CommitStatus[] }> => {
    const sha = await commitOr(ctx, ctx.params.ref!, 422);
    return { sha, all: ctx.core.state.statuses.filter((s) => s.repoId === ctx.repo.id && s.sha === sha) };
  };

  r.add("GET", "/repos/:owner/:repo/commits/:ref/statuses", { auth: "repo", level: "read" }, async (ctx) => {
    const { all } = await statusesFor(ctx);
    const { page, headers } = paginate([...all].reverse(), ctx.query, ctx.selfUrl);
    return ok(
      page.map((s) => statusJson(ctx.core.urls, ctx.repo, s)),
      200,
      headers,
    );
  });

  r.add("GET", "/repos/:owner/:repo/commits/:ref/status", { auth: "repo", level: "read" }, async (ctx) => {
    const { sha, all } = await statusesFor(ctx);
    const latest = new Map<string, CommitStatus>();
    for (const s of all) latest.set(s.context, s);
    const list = [...latest.values()];
    const state =
      list.length === 0
        ? "pending"
        : list.some((s) => s.state === "error" || s.state === "failure")
          ? "failure"
          : list.some((s) => s.state === "pending")
            ? "pending"
            : "success";
    return ok({
      state,
      statuses: list.map((s) => statusJson(ctx.core.urls, ctx.repo, s)),
      sha,
      total_count: list.length,
      repository: { id: ctx.repo.id, name: ctx.repo.name, full_name: ctx.repo.fullName },
      commit_url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}/commits/${sha}`,
      url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}/commits/${sha}/status`,
    });
  });
}
