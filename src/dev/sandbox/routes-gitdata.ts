// Git data routes: refs, commits, trees, blobs.
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZERO_SHA } from "./core.js";
import { body, repoApi, type Ctx, type SandboxRouter } from "./ctx.js";
import {
  buildTree,
  commitTree,
  hashObject,
  isAncestor,
  listRefs,
  lsTree,
  objectType,
  readBlob,
  readCommit,
  revParse,
  type Identity,
} from "./git.js";
import { notFound, nowIso, ok, str, validationFailed } from "./http.js";
import { gitCommitJson } from "./shapes.js";

function refJson(ctx: Ctx, ref: string, sha: string, type = "commit"): Record<string, unknown> {
  return {
    ref,
    node_id: Buffer.from(`Ref:${ctx.repo.id}:${ref}`).toString("base64"),
    url: `${repoApi(ctx)}/git/${ref}`,
    object: { sha, type, url: `${repoApi(ctx)}/git/${type}s/${sha}` },
  };
}

const fullRef = (ref: string): string => (ref.startsWith("refs/") ? ref : `refs/${ref}`);

function identityFrom(v: unknown, fallback: Identity): Identity {
  if (!v || typeof v !== "object") return fallback;
  const o = v as Record<string, unknown>;
  return {
    name: typeof o.name === "string" ? o.name : fallback.name,
    email: typeof o.email === "string" ? o.email : fallback.email,
    date: typeof o.date === "string" ? o.date : fallback.date,
  };
}

export function registerGitDataRoutes(r: SandboxRouter): void {
  r.add("GET", "/repos/:owner/:repo/git/ref/*ref", { auth: "repo", level: "read" }, async (ctx) => {
    const ref = fullRef(ctx.params.ref!);
    const sha = (await listRefs(ctx.repo.dir, [ref])).get(ref);
    if (!sha) throw notFound();
    return ok(refJson(ctx, ref, sha, (await objectType(ctx.repo.dir, sha)) ?? "commit"));
  });

  const matching = async (ctx: Ctx, prefix: string): Promise<ReturnType<typeof ok>> => {
    const refs = await listRefs(ctx.repo.dir, ["refs/heads", "refs/tags", "refs/pull"]);
    const out = [...refs].filter(([ref]) => ref.startsWith(prefix)).map(([ref, sha]) => refJson(ctx, ref, sha));
    return ok(out);
  };
  r.add("GET", "/repos/:owner/:repo/git/matching-refs/*ref", { auth: "repo", level: "read" }, (ctx) =>
    matching(ctx, fullRef(ctx.params.ref!)),
  );
  r.add("GET", "/repos/:owner/:repo/git/matching-refs", { auth: "repo", level: "read" }, (ctx) => matching(ctx, "refs/"));

  r.add("POST", "/repos/:owner/:repo/git/refs", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const ref = str(b, "ref", true)!;
    const sha = str(b, "sha", true)!;
    if (!/^refs\/.+\/.+/.test(ref)) throw validationFailed("Reference name must start with 'refs/' and have at least two slashes.");
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      if (!/^[0-9a-f]{40}$/.test(sha) || !(await objectType(ctx.repo.dir, sha))) throw validationFailed("Object does not exist");
      if ((await listRefs(ctx.repo.dir, [ref])).has(ref)) throw validationFailed("Reference already exists");
      await ctx.core.moveRef(ctx.repo, { ref, before: ZERO_SHA, after: sha }, ctx.actor);
      return ok(refJson(ctx, ref, sha), 201);
    });
  });

  r.add("PATCH", "/repos/:owner/:repo/git/refs/*ref", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const ref = fullRef(ctx.params.ref!);
    const sha = str(b, "sha", true)!;
    const force = b.force === true;
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      const current = (await listRefs(ctx.repo.dir, [ref])).get(ref);
      if (!current) throw validationFailed("Reference does not exist");
      if (!/^[0-9a-f]{40}$/.test(sha) || !(await objectType(ctx.repo.dir, sha))) throw validationFailed("Object does not exist");
      if (!force && !(await isAncestor(ctx.repo.dir, current, sha))) throw validationFailed("Update is not a fast forward");
      if (current !== sha) await ctx.core.moveRef(ctx.repo, { ref, before: current, after: sha }, ctx.actor);
      return ok(refJson(ctx, ref, sha));
    });
  });

  r.add("DELETE", "/repos/:owner/:repo/git/refs/*ref", { auth: "repo", level: "write" }, async (ctx) => {
    const ref = fullRef(ctx.params.ref!);
    return ctx.core.mutex.run(ctx.repo.fullName, async () => {
      const current = (await listRefs(ctx.repo.dir, [ref])).get(ref);
      if (!current) throw validationFailed("Reference does not exist");
      await ctx.core.moveRef(ctx.repo, { ref, before: current, after: ZERO_SHA }, ctx.actor);
      return { status: 204 };
    });
  });

  r.add("GET", "/repos/:owner/:repo/git/commits/:sha", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await revParse(ctx.repo.dir, ctx.params.sha!);
    if (!sha || (await objectType(ctx.repo.dir, ctx.params.sha!)) !== "commit") throw notFound();
    return ok(gitCommitJson(ctx.core.urls, ctx.repo, await readCommit(ctx.repo.dir, sha)));
  });

  r.add("POST", "/repos/:owner/:repo/git/commits", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const message = str(b, "message", true)!;
    const tree = str(b, "tree", true)!;
    const parents = Array.isArray(b.parents) ? b.parents.map(String) : [];
    if ((await objectType(ctx.repo.dir, tree)) !== "tree") throw validationFailed("Tree SHA does not exist");
    for (const p of parents)
      if ((await objectType(ctx.repo.dir, p)) !== "commit") throw validationFailed("Parent SHA does not exist or is not a commit object");
    const me = ctx.core.identity(ctx.actor, nowIso());
    const author = identityFrom(b.author, me);
    const committer = identityFrom(b.committer, b.author ? author : me);
    const sha = await commitTree(ctx.repo.dir, tree, parents, message, author, committer);
    return ok(gitCommitJson(ctx.core.urls, ctx.repo, await readCommit(ctx.repo.dir, sha)), 201);
  });

  r.add("GET", "/repos/:owner/:repo/git/trees/*sha", { auth: "repo", level: "read" }, async (ctx) => {
    const sha = await revParse(ctx.repo.dir, ctx.params.sha!, "tree");
    if (!sha) throw notFound();
    const recursive = ["1", "true"].includes(ctx.query.get("recursive") ?? "");
    const entries = await lsTree(ctx.repo.dir, sha, { recursive });
    return ok({
      sha,
      url: `${repoApi(ctx)}/git/trees/${sha}`,
      tree: entries.map((e) => ({
        path: e.path,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(e.size !== undefined ? { size: e.size } : {}),
        url: `${repoApi(ctx)}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`,
      })),
      truncated: false,
    });
  });

  r.add("POST", "/repos/:owner/:repo/git/trees", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const baseTree = str(b, "base_tree") ?? null;
    if (!Array.isArray(b.tree)) throw validationFailed("Invalid tree info", [{ resource: "Tree", field: "tree", code: "missing_field" }]);
    if (baseTree && !(await revParse(ctx.repo.dir, baseTree, "tree"))) throw validationFailed("base_tree is not a valid tree oid");
    const edits: { path: string; mode: string; sha: string | null; type: string }[] = [];
    for (const raw of b.tree as Record<string, unknown>[]) {
      const path = String(raw.path ?? "");
      const mode = String(raw.mode ?? "100644");
      const type = String(raw.type ?? "blob");
      if (!path) throw validationFailed("Must supply a valid tree.path");
      if (typeof raw.content === "string") {
        edits.push({ path, mode, type: "blob", sha: await hashObject(ctx.repo.dir, Buffer.from(raw.content, "utf8")) });
      } else if (raw.sha === null) {
        edits.push({ path, mode, type, sha: null });
      } else if (typeof raw.sha === "string") {
        if (!(await objectType(ctx.repo.dir, raw.sha))) throw validationFailed(`Invalid tree info: ${raw.sha} is not a valid object`);
        edits.push({ path, mode, type, sha: raw.sha });
      } else throw validationFailed("Must supply either tree.sha or tree.content");
    }
    const index = join(tmpdir(), `sandbox-index-${randomUUID()}`);
    try {
      const sha = await buildTree(ctx.repo.dir, index, baseTree, edits);
      const entries = await lsTree(ctx.repo.dir, sha);
      return ok(
        {
          sha,
          url: `${repoApi(ctx)}/git/trees/${sha}`,
          tree: entries.map((e) => ({
            path: e.path,
            mode: e.mode,
            type: e.type,
            sha: e.sha,
            size: e.size,
            url: `${repoApi(ctx)}/git/${e.type}s/${e.sha}`,
          })),
          truncated: false,
        },
        201,
      );
    } finally {
      await rm(index, { force: true });
    }
  });

  r.add("POST", "/repos/:owner/:repo/git/blobs", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const content = str(b, "content", true)!;
    const encoding = str(b, "encoding") ?? "utf-8";
    if (encoding !== "utf-8" && encoding !== "utf8" && encoding !== "base64") throw validationFailed(`encoding must be utf-8 or base64`);
    const sha = await hashObject(ctx.repo.dir, Buffer.from(content, encoding === "base64" ? "base64" : "utf8"));
    return ok({ sha, url: `${repoApi(ctx)}/git/blobs/${sha}` }, 201);
  });

  r.add("GET", "/repos/:owner/:repo/git/blobs/:sha", { auth: "repo", level: "read" }, async (ctx) => {
    if ((await objectType(ctx.repo.dir, ctx.params.sha!)) !== "blob") throw notFound();
    const data = await readBlob(ctx.repo.dir, ctx.params.sha!);
    return ok({
      sha: ctx.params.sha,
      node_id: "",
      size: data.length,
      url: `${repoApi(ctx)}/git/blobs/${ctx.params.sha}`,
      content: data.toString("base64").replace(/.{1,60}/g, "$&\n"),
      encoding: "base64",
    });
  });
}
