// Repository routes: repo, contents, commits, compare, branches, protection, collaborators.
import { repoPermission } from "./auth.js";
import { body, commitOr, repoApi, type Ctx, type SandboxRouter } from "./ctx.js";
import {
  buildTree,
  commitTree,
  diffFiles,
  hashObject,
  listRefs,
  lsTree,
  mergeBase,
  readBlob,
  readCommit,
  revList,
  revParse,
} from "./git.js";
import { HttpError, linkHeader, notFound, ok, str } from "./http.js";
import { pullCommits, type PullIssue } from "./pulls-git.js";
import { accountJson, commitJson, fileJson, repoJson } from "./shapes.js";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";

/** GitHub lists a commit's or a comparison's changed files 300 at a time, a commit's up to 3,000. */
const FILES_PER_PAGE = 300;
const COMMIT_FILES_MAX = 3000;

async function fullCommit(ctx: Ctx, sha: string): Promise<Record<string, unknown>> {
  return commitJson(ctx.core.urls, ctx.repo, await readCommit(ctx.repo.dir, sha), ctx.core.accountByEmail);
}

function contentJson(ctx: Ctx, path: string, e: { type: string; sha: string; size?: number }, ref: string): Record<string, unknown> {
  const api = `${repoApi(ctx)}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const html = `${ctx.core.urls.url}/${ctx.repo.fullName}/${e.type === "tree" ? "tree" : "blob"}/${ref}/${path}`;
  const git = `${repoApi(ctx)}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`;
  return {
    type: e.type === "tree" ? "dir" : e.type === "commit" ? "submodule" : "file",
    size: e.size ?? 0,
    name: path.split("/").pop(),
    path,
    sha: e.sha,
    url: api,
    git_url: git,
    html_url: html,
    download_url: e.type === "blob" ? `${ctx.core.urls.url}/${ctx.repo.fullName}/raw/${ref}/${path}` : null,
    _links: { self: api, git, html },
  };
}

async function getContents(ctx: Ctx, path: string): Promise<ReturnType<typeof ok>> {
  const ref = ctx.query.get("ref") ?? ctx.repo.defaultBranch;
  const sha = await commitOr(ctx, ref);
  const clean = path.replace(/^\/+|\/+$/g, "");
  if (clean === "") {
    const entries = await lsTree(ctx.repo.dir, sha);
    return ok(entries.map((e) => contentJson(ctx, e.path, e, ref)));
  }
  const [entry] = await lsTree(ctx.repo.dir, sha, { path: clean });
  if (!entry || entry.path !== clean) throw notFound();
  if (entry.type === "tree") {
    const entries = await lsTree(ctx.repo.dir, `${sha}:${clean}`);
    return ok(entries.map((e) => contentJson(ctx, `${clean}/${e.path}`, e, ref)));
  }
  const data = await readBlob(ctx.repo.dir, entry.sha);
  const b64 = data.toString("base64").replace(/.{1,60}/g, "$&\n");
  return ok({ ...contentJson(ctx, clean, entry, ref), content: b64, encoding: "base64" });
}

export function registerRepoRoutes(r: SandboxRouter): void {
  r.add("GET", "/repos/:owner/:repo", { auth: "repo", level: "read" }, (ctx) => {
    const perm = repoPermission(ctx.auth, ctx.repo);
    const rank = { none: 0, read: 1, write: 2, admin: 3 }[perm];
    return ok({
      ...repoJson(ctx.core.urls, ctx.repo),
      permissions: { admin: rank >= 3, maintain: rank >= 3, push: rank >= 2, triage: rank >= 2, pull: rank >= 1 },
    });
  });

  r.add("GET", "/repos/:owner/:repo/contents", { auth: "repo", level: "read" }, (ctx) => getContents(ctx, ""));
  r.add("GET", "/repos/:owner/:repo/contents/*path", { auth: "repo", level: "read" }, (ctx) => getContents(ctx, ctx.params.path!));

  // Create or update a file (one commit on a branch), as the web editor / contents API does.
  r.add("PUT", "/repos/:owner/:repo/contents/*path", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const message = str(b, "message", true)!;
    const content = Buffer.from(str(b, "content", true)!, "base64");
    const branch = str(b, "branch") ?? ctx.repo.defaultBranch;
    const path = ctx.params.path!.replace(/^\/+|\/+$/g, "");
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      const head = await revParse(ctx.repo.dir, `refs/heads/${branch}`);
      if (!head) throw new HttpError(404, `Branch ${branch} not found`);
      const [existing] = await lsTree(ctx.repo.dir, head, { path });
      const given = str(b, "sha");
      if (existing && existing.path === path && given !== existing.sha) {
        throw new HttpError(409, given ? `${path} does not match ${given}` : `Invalid request.\n\n"sha" wasn't supplied.`);
      }
      const blob = await hashObject(ctx.repo.dir, content);
      const parent = await readCommit(ctx.repo.dir, head);
      const index = join(tmpdir(), `sandbox-index-${randomUUID()}`);
      let tree: string;
      try {
        tree = await buildTree(ctx.repo.dir, index, parent.tree, [{ path, mode: "100644", sha: blob, type: "blob" }]);
      } finally {
        await rm(index, { force: true });
      }
      const who = ctx.core.identity(ctx.actor);
      const sha = await commitTree(ctx.repo.dir, tree, [head], message.endsWith("\n") ? message : message + "\n", who, who);
      await ctx.core.moveRef(ctx.repo, { ref: `refs/heads/${branch}`, before: head, after: sha }, ctx.actor);
      const c = await readCommit(ctx.repo.dir, sha);
      const [entry] = await lsTree(ctx.repo.dir, sha, { path });
      return ok(
        { content: contentJson(ctx, path, entry!, branch), commit: (await fullCommit(ctx, sha)).commit ?? c },
        existing && existing.path === path ? 200 : 201,
      );
    });
  });

  r.add("GET", "/repos/:owner/:repo/commits", { auth: "repo", level: "read" }, async (ctx) => {
    const start = await commitOr(ctx, ctx.query.get("sha") ?? ctx.repo.defaultBranch);
    const perPage = Math.min(100, Math.max(1, Number(ctx.query.get("per_page") ?? 30) || 30));
    const page = Math.max(1, Number(ctx.query.get("page") ?? 1) || 1);
    const filters: string[] = [];
    if (ctx.query.get("since")) filters.push(`--since=${ctx.query.get("since")}`);
    if (ctx.query.get("until")) filters.push(`--until=${ctx.query.get("until")}`);
    const path = ctx.query.get("path");
    const pathArgs = path ? ["--", path] : [];
    const all = await revList(ctx.repo.dir, [...filters, start, ...pathArgs]);
    const shas = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const items = await Promise.all(shas.map((s) => fullCommit(ctx, s)));
    return ok(items, 200, all.length > perPage ? { link: linkHeader(ctx.selfUrl, ctx.query, page, last) } : {});
  });

  // Files against the first parent (a merge's too), 300 a page up to 3,000, the commit repeated on every page.
  r.add("GET", "/repos/:owner/:repo/commits/:ref", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await commitOr(ctx, ctx.params.ref!, 422);
    const c = await readCommit(ctx.repo.dir, sha);
    const all = (await diffFiles(ctx.repo.dir, c.parents[0] ?? null, sha)).slice(0, COMMIT_FILES_MAX);
    const page = Math.max(1, Number(ctx.query.get("page") ?? 1) || 1);
    const last = Math.max(1, Math.ceil(all.length / FILES_PER_PAGE));
    const json = commitJson(
      ctx.core.urls,
      ctx.repo,
      c,
      ctx.core.accountByEmail,
      all.slice((page - 1) * FILES_PER_PAGE, page * FILES_PER_PAGE),
    );
    const additions = all.reduce((n, f) => n + f.additions, 0);
    const deletions = all.reduce((n, f) => n + f.deletions, 0);
    json.stats = { total: additions + deletions, additions, deletions };
    return ok(json, 200, all.length > FILES_PER_PAGE ? { link: linkHeader(ctx.selfUrl, ctx.query, page, last) } : {});
  });

  r.add("GET", "/repos/:owner/:repo/commits/:sha/pulls", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await commitOr(ctx, ctx.params.sha!, 422);
    const out: Record<string, unknown>[] = [];
    for (const issue of [...ctx.repo.issues.values()].reverse()) {
      if (!issue.pull) continue;
      const p = issue.pull;
      const hit = p.mergeCommitSha === sha || p.headSha === sha || (await pullCommits(ctx.repo, issue as PullIssue)).includes(sha);
      if (hit) out.push(ctx.core.pullEventJson(ctx.repo, issue));
    }
    return ok(out);
  });

  r.add("GET", "/repos/:owner/:repo/compare/*basehead", { auth: "repo", level: "read" }, async (ctx) => {
    const spec = ctx.params.basehead!;
    const m = /^(.+?)\.{2,3}(.+)$/.exec(spec);
    if (!m) throw notFound();
    const strip = (s: string): string => s.replace(/^[^:]+:/, "");
    const base = await commitOr(ctx, strip(m[1]!));
    const head = await commitOr(ctx, strip(m[2]!));
    const mb = await mergeBase(ctx.repo.dir, base, head);
    if (!mb) throw new HttpError(404, `No common ancestor between ${strip(m[1]!)} and ${strip(m[2]!)}.`);
    const ahead = await revList(ctx.repo.dir, ["--reverse", head, `^${base}`]);
    const behindBy = (await revList(ctx.repo.dir, [base, `^${head}`])).length;
    const status =
      ahead.length === 0 && behindBy === 0 ? "identical" : behindBy === 0 ? "ahead" : ahead.length === 0 ? "behind" : "diverged";
    const commits = await Promise.all(ahead.slice(0, 250).map((s) => fullCommit(ctx, s)));
    // Up to 300 changed files for the whole comparison, as GitHub lists them.
    const files = (await diffFiles(ctx.repo.dir, mb, head)).slice(0, FILES_PER_PAGE);
    const html = `${ctx.core.urls.url}/${ctx.repo.fullName}/compare/${spec}`;
    return ok({
      url: `${repoApi(ctx)}/compare/${spec}`,
      html_url: html,
      permalink_url: `${ctx.core.urls.url}/${ctx.repo.fullName}/compare/${base}...${head}`,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      base_commit: await fullCommit(ctx, base),
      merge_base_commit: await fullCommit(ctx, mb),
      status,
      ahead_by: ahead.length,
      behind_by: behindBy,
      total_commits: ahead.length,
      commits,
      files: files.map((f) => fileJson(ctx.core.urls, ctx.repo, head, f)),
    });
  });

  r.add("GET", "/repos/:owner/:repo/branches/*branch/protection/required_status_checks", { auth: "repo", level: "read" }, async (ctx) => {
    if (!(await revParse(ctx.repo.dir, `refs/heads/${ctx.params.branch}`))) throw new HttpError(404, "Branch not found");
    if (!ctx.repo.requiredChecks.length || ctx.params.branch !== ctx.repo.defaultBranch) throw new HttpError(404, "Branch not protected");
    const url = `${repoApi(ctx)}/branches/${ctx.params.branch}/protection/required_status_checks`;
    return ok({
      url,
      strict: ctx.repo.strictChecks,
      contexts: ctx.repo.requiredChecks,
      checks: ctx.repo.requiredChecks.map((context) => ({ context, app_id: null })),
      contexts_url: `${url}/contexts`,
      enforcement_level: "non_admins",
    });
  });

  // Classic protection: required checks only (no review requirement, so no required_pull_request_reviews).
  r.add("GET", "/repos/:owner/:repo/branches/*branch/protection", { auth: "repo", level: "read" }, async (ctx) => {
    if (!(await revParse(ctx.repo.dir, `refs/heads/${ctx.params.branch}`))) throw new HttpError(404, "Branch not found");
    if (!ctx.repo.requiredChecks.length || ctx.params.branch !== ctx.repo.defaultBranch) throw new HttpError(404, "Branch not protected");
    const url = `${repoApi(ctx)}/branches/${ctx.params.branch}/protection`;
    return ok({
      url,
      required_status_checks: {
        url: `${url}/required_status_checks`,
        strict: ctx.repo.strictChecks,
        contexts: ctx.repo.requiredChecks,
        checks: ctx.repo.requiredChecks.map((context) => ({ context, app_id: null })),
        contexts_url: `${url}/required_status_checks/contexts`,
      },
      enforce_admins: { url: `${url}/enforce_admins`, enabled: false },
      required_linear_history: { enabled: false },
      allow_force_pushes: { enabled: false },
      allow_deletions: { enabled: false },
    });
  });

  // Rulesets: the stand-in has none (required checks come from classic branch protection above).
  r.add("GET", "/repos/:owner/:repo/rules/branches/*branch", { auth: "repo", level: "read" }, async (ctx) => {
    if (!(await revParse(ctx.repo.dir, `refs/heads/${ctx.params.branch}`))) throw new HttpError(404, "Branch not found");
    return ok([]);
  });

  const branchJson = async (ctx: Ctx, name: string, sha: string): Promise<Record<string, unknown>> => {
    const isProtected = name === ctx.repo.defaultBranch && ctx.repo.requiredChecks.length > 0;
    return {
      name,
      commit: await fullCommit(ctx, sha),
      protected: isProtected,
      protection: {
        enabled: isProtected,
        required_status_checks: {
          enforcement_level: isProtected ? "non_admins" : "off",
          contexts: isProtected ? ctx.repo.requiredChecks : [],
        },
      },
      protection_url: `${repoApi(ctx)}/branches/${name}/protection`,
      _links: { self: `${repoApi(ctx)}/branches/${name}`, html: `${ctx.core.urls.url}/${ctx.repo.fullName}/tree/${name}` },
    };
  };

  r.add("GET", "/repos/:owner/:repo/branches", { auth: "repo", level: "read" }, async (ctx) => {
    const out = await listRefs(ctx.repo.dir, ["refs/heads"]);
    const list = [...out].map(([ref, sha]) => ({
      name: ref.slice("refs/heads/".length),
      commit: { sha, url: `${repoApi(ctx)}/commits/${sha}` },
      protected: false,
    }));
    return ok(list);
  });

  r.add("GET", "/repos/:owner/:repo/branches/*branch", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await revParse(ctx.repo.dir, `refs/heads/${ctx.params.branch}`);
    if (!sha) throw new HttpError(404, "Branch not found");
    return ok(await branchJson(ctx, ctx.params.branch!, sha));
  });

  const permissionOf = (ctx: Ctx): { login: string; perm: "admin" | "write" | "read" | "none"; account: Record<string, unknown> } => {
    const login = ctx.params.user!;
    if (login.toLowerCase() === ctx.core.bot.login.toLowerCase()) {
      return { login, perm: ctx.repo.installationId !== null ? "write" : "none", account: accountJson(ctx.core.urls, ctx.core.bot) };
    }
    const user = ctx.core.state.user(login);
    if (!user) throw notFound();
    const perm = repoPermission({ kind: "user", user }, ctx.repo);
    return { login: user.login, perm, account: accountJson(ctx.core.urls, user) };
  };

  r.add("GET", "/repos/:owner/:repo/collaborators/:user/permission", { auth: "repo", level: "read" }, (ctx) => {
    const { perm, account } = permissionOf(ctx);
    const rank = { none: 0, read: 1, write: 2, admin: 3 }[perm];
    return ok({
      permission: perm,
      role_name: perm,
      user: {
        ...account,
        permissions: { admin: rank >= 3, maintain: rank >= 3, push: rank >= 2, triage: rank >= 2, pull: rank >= 1 },
        role_name: perm,
      },
    });
  });

  r.add("GET", "/repos/:owner/:repo/collaborators/:user", { auth: "repo", level: "read" }, (ctx) => {
    const { perm } = permissionOf(ctx);
    if (perm === "none") throw notFound();
    return { status: 204 };
  });
}
