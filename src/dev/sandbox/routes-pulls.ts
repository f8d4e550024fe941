// Pull request routes: create/list/get/update, merge, update-branch, reviews, commits, files.
import { body, newIssue, pullOr404, type Ctx, type SandboxRouter } from "./ctx.js";
import { commitTree, diffFiles, isAncestor, mergeBase, mergeTree, readCommit, revList, revParse, updateRef } from "./git.js";
import { HttpError, notFound, nowIso, ok, paginate, str, validationFailed } from "./http.js";
import {
  baseHead,
  buildMerge,
  computeMergeability,
  failingRequiredChecks,
  pullCommits,
  type MergeMethod,
  type PullIssue,
} from "./pulls-git.js";
import { accountJson, commitJson, fileJson, pullJson } from "./shapes.js";
import type { Issue, Review } from "./state.js";

async function fullPull(ctx: Ctx, issue: PullIssue): Promise<Record<string, unknown>> {
  const m = await computeMergeability(ctx.core, ctx.repo, issue);
  const commits = await pullCommits(ctx.repo, issue);
  const base = issue.pull.frozenCommits ? null : await mergeBase(ctx.repo.dir, await baseHead(ctx.repo, issue), issue.pull.headSha);
  const files = base ? await diffFiles(ctx.repo.dir, base, issue.pull.headSha) : [];
  return pullJson(ctx.core.urls, ctx.repo, issue, m, {
    commits: commits.length,
    additions: files.reduce((s, f) => s + f.additions, 0),
    deletions: files.reduce((s, f) => s + f.deletions, 0),
    changed_files: files.length,
  });
}

const stripOwner = (ref: string): string => ref.replace(/^[^:]+:/, "");

function reviewJson(ctx: Ctx, issue: Issue, r: Review): Record<string, unknown> {
  return {
    id: r.id,
    node_id: Buffer.from(`PullRequestReview:${r.id}`).toString("base64"),
    user: accountJson(ctx.core.urls, r.user),
    body: r.body,
    state: r.state,
    html_url: `${ctx.core.urls.url}/${ctx.repo.fullName}/pull/${issue.number}#pullrequestreview-${r.id}`,
    pull_request_url: `${ctx.core.urls.apiUrl}/repos/${ctx.repo.fullName}/pulls/${issue.number}`,
    commit_id: r.commitId,
    submitted_at: r.state === "PENDING" ? undefined : r.submittedAt,
    author_association: "NONE",
  };
}

export function registerPullRoutes(r: SandboxRouter): void {
  r.add("POST", "/repos/:owner/:repo/pulls", { auth: "repo", level: "read" }, async (ctx) => {
    const b = body(ctx);
    const title = str(b, "title", true)!;
    const head = stripOwner(str(b, "head", true)!);
    const base = str(b, "base", true)!;
    const repo = ctx.repo;
    const headSha = await revParse(repo.dir, `refs/heads/${head}`);
    const baseSha = await revParse(repo.dir, `refs/heads/${base}`);
    const errors = [];
    if (!headSha) errors.push({ resource: "PullRequest", field: "head", code: "invalid" });
    if (!baseSha) errors.push({ resource: "PullRequest", field: "base", code: "invalid" });
    if (errors.length) throw validationFailed("Validation Failed", errors);
    for (const i of repo.issues.values()) {
      if (i.pull && i.state === "open" && i.pull.headRef === head && i.pull.baseRef === base) {
        throw validationFailed("Validation Failed", [
          { resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner.login}:${head}.` },
        ]);
      }
    }
    if ((await revList(repo.dir, [headSha!, `^${baseSha!}`])).length === 0) {
      throw validationFailed("Validation Failed", [
        { resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` },
      ]);
    }
    const issue: PullIssue = {
      ...newIssue(ctx, repo, title, str(b, "body") ?? null),
      pull: {
        id: ctx.core.state.nextId(),
        headRef: head,
        headSha: headSha!,
        baseRef: base,
        baseSha: baseSha!,
        draft: b.draft === true,
        merged: false,
        mergedAt: null,
        mergedBy: null,
        mergeCommitSha: null,
        frozenCommits: null,
        reviews: [],
      },
    };
    repo.issues.set(issue.number, issue);
    await updateRef(repo.dir, `refs/pull/${issue.number}/head`, headSha!);
    ctx.core.emitPull(repo, issue, "opened", ctx.actor);
    return ok(await fullPull(ctx, issue), 201);
  });

  r.add("GET", "/repos/:owner/:repo/pulls", { auth: "repo", level: "read" }, async (ctx) => {
    const state = ctx.query.get("state") ?? "open";
    const head = ctx.query.get("head");
    const base = ctx.query.get("base");
    let list = [...ctx.repo.issues.values()].filter((i): i is PullIssue => !!i.pull);
    if (state !== "all") list = list.filter((i) => i.state === state);
    if (head) {
      const [owner, branch] = head.includes(":") ? head.split(":", 2) : [ctx.repo.owner.login, head];
      list = owner!.toLowerCase() === ctx.repo.owner.login.toLowerCase() ? list.filter((i) => i.pull.headRef === branch) : [];
    }
    if (base) list = list.filter((i) => i.pull.baseRef === base);
    const sort = ctx.query.get("sort") ?? "created";
    const dir = ctx.query.get("direction") ?? "desc";
    list.sort((a, b) => (sort === "updated" ? a.updatedAt.localeCompare(b.updatedAt) || a.number - b.number : a.number - b.number));
    if (dir === "desc") list.reverse();
    const { page, headers } = paginate(list, ctx.query, ctx.selfUrl);
    return ok(
      page.map((i) => ctx.core.pullEventJson(ctx.repo, i)),
      200,
      headers,
    );
  });

  r.add("GET", "/repos/:owner/:repo/pulls/:number", { auth: "repo", level: "read" }, async (ctx) =>
    ok(await fullPull(ctx, pullOr404(ctx))),
  );

  r.add("PATCH", "/repos/:owner/:repo/pulls/:number", { auth: "repo", level: "write" }, async (ctx) => {
    const issue = pullOr404(ctx);
    const b = body(ctx);
    const title = str(b, "title");
    const text = str(b, "body");
    const state = str(b, "state");
    const base = str(b, "base");
    const changes: Record<string, unknown> = {};
    if (title !== undefined && title !== issue.title) {
      changes.title = { from: issue.title };
      issue.title = title;
    }
    if (text !== undefined && text !== issue.body) {
      changes.body = { from: issue.body };
      issue.body = text;
    }
    if (base !== undefined && base !== issue.pull.baseRef) {
      const sha = await revParse(ctx.repo.dir, `refs/heads/${base}`);
      if (!sha) throw validationFailed("Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
      changes.base = { ref: { from: issue.pull.baseRef }, sha: { from: issue.pull.baseSha } };
      issue.pull.baseRef = base;
      issue.pull.baseSha = sha;
    }
    issue.updatedAt = nowIso();
    if (Object.keys(changes).length) ctx.core.emitPull(ctx.repo, issue, "edited", ctx.actor, { changes });
    if (state === "closed" && issue.state === "open") {
      issue.pull.frozenCommits = await pullCommits(ctx.repo, issue);
      issue.state = "closed";
      issue.closedAt = issue.updatedAt;
      ctx.core.emitPull(ctx.repo, issue, "closed", ctx.actor);
    } else if (state === "open" && issue.state === "closed") {
      if (issue.pull.merged)
        throw validationFailed("Validation Failed", [
          { resource: "PullRequest", code: "custom", message: "state cannot be changed. The pull request is merged." },
        ]);
      if (!(await revParse(ctx.repo.dir, `refs/heads/${issue.pull.headRef}`)))
        throw validationFailed("Validation Failed", [
          { resource: "PullRequest", code: "custom", message: "state cannot be changed. The head branch was deleted." },
        ]);
      issue.pull.frozenCommits = null;
      issue.state = "open";
      issue.closedAt = null;
      ctx.core.emitPull(ctx.repo, issue, "reopened", ctx.actor);
    }
    return ok(await fullPull(ctx, issue));
  });

  r.add("GET", "/repos/:owner/:repo/pulls/:number/merge", { auth: "repo", level: "read" }, (ctx) => {
    if (!pullOr404(ctx).pull.merged) throw notFound();
    return { status: 204 };
  });

  r.add("PUT", "/repos/:owner/:repo/pulls/:number/merge", { auth: "repo", level: "write" }, async (ctx) => {
    const issue = pullOr404(ctx);
    const b = body(ctx);
    const method = (str(b, "merge_method") ?? "merge") as MergeMethod;
    if (!["merge", "squash", "rebase"].includes(method)) throw validationFailed(`Invalid merge_method: ${method}`);
    const expected = str(b, "sha");
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      if (issue.state !== "open" || issue.pull.merged) throw new HttpError(405, "Pull Request is not mergeable");
      if (expected && expected !== issue.pull.headSha)
        throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
      const m = await computeMergeability(ctx.core, ctx.repo, issue);
      if (!m.mergeable) throw new HttpError(405, "Pull Request is not mergeable");
      if (m.mergeable_state === "draft") throw new HttpError(405, "Pull Request is still a draft");
      if (m.mergeable_state === "blocked") {
        const [first] = failingRequiredChecks(ctx.core, ctx.repo, issue.pull.headSha);
        throw new HttpError(405, `Required status check "${first!.context}" is ${first!.state}.`);
      }
      if (m.mergeable_state === "behind") throw new HttpError(405, "Head branch is out of date. Review and try the merge again.");
      const base = await baseHead(ctx.repo, issue);
      const commits = await pullCommits(ctx.repo, issue);
      const now = nowIso();
      const newHead = await buildMerge(
        ctx.core,
        ctx.repo,
        issue,
        base,
        method,
        ctx.core.identity(ctx.actor, now),
        str(b, "commit_title"),
        str(b, "commit_message"),
      );
      issue.pull.frozenCommits = commits;
      await ctx.core.moveRef(ctx.repo, { ref: `refs/heads/${issue.pull.baseRef}`, before: base, after: newHead }, ctx.actor);
      issue.pull.merged = true;
      issue.pull.mergedAt = now;
      issue.pull.mergedBy = ctx.actor;
      issue.pull.mergeCommitSha = newHead;
      issue.pull.baseSha = base;
      issue.state = "closed";
      issue.closedAt = now;
      issue.updatedAt = now;
      ctx.core.emitPull(ctx.repo, issue, "closed", ctx.actor);
      ctx.core.log(`merged ${ctx.repo.fullName}#${issue.number} (${method}) -> ${newHead.slice(0, 7)}`);
      return ok({ sha: newHead, merged: true, message: "Pull Request successfully merged" });
    });
  });

  r.add("PUT", "/repos/:owner/:repo/pulls/:number/update-branch", { auth: "repo", level: "write" }, async (ctx) => {
    const issue = pullOr404(ctx);
    const b = ctx.rawBody && typeof ctx.rawBody === "object" ? body(ctx) : {};
    const expected = str(b, "expected_head_sha");
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      if (issue.state !== "open") throw validationFailed("Pull request is not open");
      const head = issue.pull.headSha;
      if (expected && expected !== head) throw validationFailed("expected head sha didn’t match current head ref.");
      const base = await baseHead(ctx.repo, issue);
      if (await isAncestor(ctx.repo.dir, base, head)) throw validationFailed("There are no new commits on the base branch.");
      const mt = await mergeTree(ctx.repo.dir, head, base);
      if (!mt.clean) throw validationFailed("merge conflict between base and head");
      const now = nowIso();
      const sha = await commitTree(
        ctx.repo.dir,
        mt.tree,
        [head, base],
        `Merge branch '${issue.pull.baseRef}' into ${issue.pull.headRef}\n`,
        ctx.core.identity(ctx.actor, now),
        ctx.core.webFlow(now),
      );
      await ctx.core.moveRef(ctx.repo, { ref: `refs/heads/${issue.pull.headRef}`, before: head, after: sha }, ctx.actor);
      return ok({ message: "Updating pull request branch.", url: `${ctx.core.urls.url}/${ctx.repo.fullName}/pull/${issue.number}` }, 202);
    });
  });

  r.add("GET", "/repos/:owner/:repo/pulls/:number/reviews", { auth: "repo", level: "read" }, (ctx) => {
    const issue = pullOr404(ctx);
    const { page, headers } = paginate(
      issue.pull.reviews.filter((x) => x.state !== "PENDING" || x.user.id === ctx.actor.id),
      ctx.query,
      ctx.selfUrl,
    );
    return ok(
      page.map((x) => reviewJson(ctx, issue, x)),
      200,
      headers,
    );
  });

  r.add("POST", "/repos/:owner/:repo/pulls/:number/reviews", { auth: "repo", level: "read" }, (ctx) => {
    const issue = pullOr404(ctx);
    const b = body(ctx);
    const event = str(b, "event");
    const states: Record<string, Review["state"]> = { APPROVE: "APPROVED", REQUEST_CHANGES: "CHANGES_REQUESTED", COMMENT: "COMMENTED" };
    if (event !== undefined && !states[event]) throw validationFailed(`Unprocessable Entity: event ${event} is not valid`);
    const text = str(b, "body") ?? "";
    if ((event === "REQUEST_CHANGES" || event === "COMMENT") && !text)
      throw validationFailed(`Unprocessable Entity: "Body is required for ${event}"`);
    if (event && event !== "COMMENT" && ctx.actor.id === issue.user.id) {
      throw validationFailed(
        `Unprocessable Entity: "Can not ${event === "APPROVE" ? "approve" : "request changes on"} your own pull request"`,
      );
    }
    const review: Review = {
      id: ctx.core.state.nextId(),
      user: ctx.actor,
      body: text,
      state: event ? states[event]! : "PENDING",
      commitId: str(b, "commit_id") ?? issue.pull.headSha,
      submittedAt: nowIso(),
    };
    issue.pull.reviews.push(review);
    return ok(reviewJson(ctx, issue, review));
  });

  r.add("GET", "/repos/:owner/:repo/pulls/:number/commits", { auth: "repo", level: "read" }, async (ctx) => {
    const issue = pullOr404(ctx);
    const shas = await pullCommits(ctx.repo, issue);
    const { page, headers } = paginate(shas, ctx.query, ctx.selfUrl);
    const items = await Promise.all(
      page.map(async (s) => commitJson(ctx.core.urls, ctx.repo, await readCommit(ctx.repo.dir, s), ctx.core.accountByEmail)),
    );
    return ok(items, 200, headers);
  });

  r.add("GET", "/repos/:owner/:repo/pulls/:number/files", { auth: "repo", level: "read" }, async (ctx) => {
    const issue = pullOr404(ctx);
    const commits = await pullCommits(ctx.repo, issue);
    let from: string | null = null;
    if (issue.pull.frozenCommits) {
      const first = commits[0] ? await readCommit(ctx.repo.dir, commits[0]) : null;
      from = first?.parents[0] ?? null;
    } else from = await mergeBase(ctx.repo.dir, await baseHead(ctx.repo, issue), issue.pull.headSha);
    const last = commits.at(-1) ?? issue.pull.headSha;
    const files = from ? await diffFiles(ctx.repo.dir, from, last) : [];
    const { page, headers } = paginate(files, ctx.query, ctx.selfUrl);
    return ok(
      page.map((f) => fileJson(ctx.core.urls, ctx.repo, last, f)),
      200,
      headers,
    );
  });
}
