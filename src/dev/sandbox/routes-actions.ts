// GitHub Actions: workflow dispatch, runs, artifacts (zip download through a signed URL).
import { randomBytes } from "node:crypto";
import type { Core } from "./core.js";
import { body, commitOr, type Ctx, type SandboxRouter } from "./ctx.js";
import { lsTree, readBlob } from "./git.js";
import { HttpError, notFound, nowIso, ok, paginate, str, validationFailed } from "./http.js";
import { artifactJson, runJson } from "./shapes-ci.js";
import type { Repo, WorkflowRun } from "./state.js";
import { makeZip } from "./zip.js";

function workflowJson(core: Core, repo: Repo, id: number, path: string, name: string): Record<string, unknown> {
  return {
    id,
    node_id: Buffer.from(`Workflow:${id}`).toString("base64"),
    name,
    path,
    state: "active",
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    url: `${core.urls.apiUrl}/repos/${repo.fullName}/actions/workflows/${id}`,
    html_url: `${core.urls.url}/${repo.fullName}/blob/${repo.defaultBranch}/${path}`,
    badge_url: `${core.urls.url}/${repo.fullName}/workflows/${encodeURIComponent(name)}/badge.svg`,
  };
}

/** `run-name` with `${{ inputs.x }}` filled in, as GitHub renders a dispatched run's title. */
function runName(text: string, inputs: Record<string, unknown>): string | null {
  const line = /^run-name:\s*(.+?)\s*$/m.exec(text)?.[1];
  if (!line) return null;
  const template = /^(["'])(.*)\1$/.exec(line)?.[2] ?? line;
  return template.replace(/\$\{\{\s*(?:inputs|github\.event\.inputs)\.([\w-]+)\s*\}\}/g, (_, name: string) => String(inputs[name] ?? ""));
}

function workflowPath(ctx: Ctx, idOrFile: string): string {
  if (/^\d+$/.test(idOrFile)) {
    for (const [path, id] of ctx.repo.workflows) if (id === Number(idOrFile)) return path;
    throw notFound();
  }
  return idOrFile.includes("/") ? idOrFile : `.github/workflows/${idOrFile}`;
}

function workflowId(core: Core, repo: Repo, path: string): number {
  let id = repo.workflows.get(path);
  if (id === undefined) {
    id = core.state.nextId();
    repo.workflows.set(path, id);
  }
  return id;
}

export function emitRun(core: Core, repo: Repo, run: WorkflowRun, action: string): void {
  core.emit(repo, "workflow_run", run.actor, {
    action,
    workflow_run: runJson(core.urls, repo, run),
    workflow: workflowJson(core, repo, run.workflowId, run.workflowPath, run.name),
  });
}

export interface CompleteRunOptions {
  owner: string;
  repo: string;
  runId: number;
  conclusion?: "success" | "failure" | "cancelled" | "timed_out" | "neutral" | "skipped";
  /** Each artifact is stored as a zip of the given files. */
  artifacts?: { name: string; files: Record<string, string | Uint8Array> }[];
}

export function startRun(core: Core, owner: string, repoName: string, runId: number): WorkflowRun {
  const { repo, run } = findRun(core, owner, repoName, runId);
  if (run.status !== "queued") throw new Error(`workflow run ${runId} is ${run.status}, not queued`);
  run.status = "in_progress";
  run.updatedAt = nowIso();
  emitRun(core, repo, run, "in_progress");
  return run;
}

function findRun(core: Core, owner: string, repoName: string, runId: number): { repo: Repo; run: WorkflowRun } {
  const repo = core.state.repo(owner, repoName);
  const run = core.state.runs.get(runId);
  if (!repo || !run || run.repoId !== repo.id) throw new Error(`no workflow run ${runId} in ${owner}/${repoName}`);
  return { repo, run };
}

/** Simulates a runner finishing a dispatched workflow: stores artifacts and sends workflow_run completed. */
export function completeRun(core: Core, o: CompleteRunOptions): WorkflowRun {
  const { repo, run } = findRun(core, o.owner, o.repo, o.runId);
  if (run.status === "completed") throw new Error(`workflow run ${o.runId} already completed`);
  const now = nowIso();
  for (const a of o.artifacts ?? []) {
    const id = core.state.nextId();
    core.state.artifacts.set(id, { id, runId: run.id, name: a.name, zip: makeZip(a.files), createdAt: now });
    run.artifacts.push(id);
  }
  run.status = "completed";
  run.conclusion = o.conclusion ?? "success";
  run.updatedAt = now;
  emitRun(core, repo, run, "completed");
  return run;
}

export function registerActionRoutes(r: SandboxRouter): void {
  r.add("POST", "/repos/:owner/:repo/actions/workflows/:workflow_id/dispatches", { auth: "repo", level: "write" }, async (ctx) => {
    const b = body(ctx);
    const ref = str(b, "ref", true)!;
    const branch = ref.replace(/^refs\/(heads|tags)\//, "");
    const sha = await commitOr(ctx, branch, 422).catch(() => {
      throw validationFailed(`No ref found for: ${ref}`);
    });
    const path = workflowPath(ctx, ctx.params.workflow_id!);
    const [entry] = await lsTree(ctx.repo.dir, sha, { path });
    if (!entry || entry.path !== path || entry.type !== "blob") throw notFound();
    const text = (await readBlob(ctx.repo.dir, entry.sha)).toString("utf8");
    if (!/workflow_dispatch/.test(text)) throw validationFailed("Workflow does not have 'workflow_dispatch' trigger");
    const inputs = b.inputs && typeof b.inputs === "object" ? (b.inputs as Record<string, unknown>) : {};
    const name = /^name:\s*["']?(.+?)["']?\s*$/m.exec(text)?.[1] ?? path;
    const wfId = workflowId(ctx.core, ctx.repo, path);
    const now = nowIso();
    const run: WorkflowRun = {
      id: ctx.core.state.nextId(),
      repoId: ctx.repo.id,
      workflowId: wfId,
      workflowPath: path,
      name,
      displayTitle: runName(text, inputs) ?? name,
      runNumber: [...ctx.core.state.runs.values()].filter((x) => x.workflowId === wfId).length + 1,
      headBranch: branch,
      headSha: sha,
      event: "workflow_dispatch",
      status: "queued",
      conclusion: null,
      inputs,
      actor: ctx.actor,
      createdAt: now,
      updatedAt: now,
      artifacts: [],
    };
    ctx.core.state.runs.set(run.id, run);
    ctx.core.log(`workflow dispatch ${ctx.repo.fullName} ${path}@${branch} -> run ${run.id} inputs=${JSON.stringify(inputs)}`);
    emitRun(ctx.core, ctx.repo, run, "requested");
    return { status: 204 };
  });

  const listRuns = (ctx: Ctx, wfId: number | null): ReturnType<typeof ok> => {
    const q = ctx.query;
    let runs = [...ctx.core.state.runs.values()].filter((x) => x.repoId === ctx.repo.id && (wfId === null || x.workflowId === wfId));
    if (q.get("branch")) runs = runs.filter((x) => x.headBranch === q.get("branch"));
    if (q.get("event")) runs = runs.filter((x) => x.event === q.get("event"));
    if (q.get("head_sha")) runs = runs.filter((x) => x.headSha === q.get("head_sha"));
    const st = q.get("status");
    if (st) runs = runs.filter((x) => x.status === st || x.conclusion === st);
    runs.reverse();
    const { page, headers } = paginate(runs, q, ctx.selfUrl);
    return ok({ total_count: runs.length, workflow_runs: page.map((x) => runJson(ctx.core.urls, ctx.repo, x)) }, 200, headers);
  };

  r.add("GET", "/repos/:owner/:repo/actions/runs", { auth: "repo", level: "read" }, (ctx) => listRuns(ctx, null));
  r.add("GET", "/repos/:owner/:repo/actions/workflows/:workflow_id/runs", { auth: "repo", level: "read" }, (ctx) =>
    listRuns(ctx, workflowId(ctx.core, ctx.repo, workflowPath(ctx, ctx.params.workflow_id!))),
  );
  r.add("GET", "/repos/:owner/:repo/actions/workflows/:workflow_id", { auth: "repo", level: "read" }, async (ctx) => {
    const path = workflowPath(ctx, ctx.params.workflow_id!);
    const [entry] = await lsTree(ctx.repo.dir, `refs/heads/${ctx.repo.defaultBranch}`, { path });
    if (!entry || entry.path !== path) throw notFound();
    const text = (await readBlob(ctx.repo.dir, entry.sha)).toString("utf8");
    const name = /^name:\s*["']?(.+?)["']?\s*$/m.exec(text)?.[1] ?? path;
    return ok(workflowJson(ctx.core, ctx.repo, workflowId(ctx.core, ctx.repo, path), path, name));
  });

  const runOr404 = (ctx: Ctx): WorkflowRun => {
    const run = ctx.core.state.runs.get(Number(ctx.params.id));
    if (!run || run.repoId !== ctx.repo.id) throw notFound();
    return run;
  };

  r.add("GET", "/repos/:owner/:repo/actions/runs/:id", { auth: "repo", level: "read" }, (ctx) =>
    ok(runJson(ctx.core.urls, ctx.repo, runOr404(ctx))),
  );

  r.add("GET", "/repos/:owner/:repo/actions/runs/:id/artifacts", { auth: "repo", level: "read" }, (ctx) => {
    const run = runOr404(ctx);
    let arts = run.artifacts.map((id) => ctx.core.state.artifacts.get(id)!);
    if (ctx.query.get("name")) arts = arts.filter((a) => a.name === ctx.query.get("name"));
    const { page, headers } = paginate(arts, ctx.query, ctx.selfUrl);
    return ok({ total_count: arts.length, artifacts: page.map((a) => artifactJson(ctx.core.urls, ctx.repo, a, run)) }, 200, headers);
  });

  const artifactOr404 = (ctx: Ctx): { a: NonNullable<ReturnType<Core["state"]["artifacts"]["get"]>>; run: WorkflowRun } => {
    const a = ctx.core.state.artifacts.get(Number(ctx.params.id));
    const run = a ? ctx.core.state.runs.get(a.runId) : undefined;
    if (!a || !run || run.repoId !== ctx.repo.id) throw notFound();
    return { a, run };
  };

  r.add("GET", "/repos/:owner/:repo/actions/artifacts/:id", { auth: "repo", level: "read" }, (ctx) => {
    const { a, run } = artifactOr404(ctx);
    return ok(artifactJson(ctx.core.urls, ctx.repo, a, run));
  });

  r.add("GET", "/repos/:owner/:repo/actions/artifacts/:id/:format", { auth: "repo", level: "read" }, (ctx) => {
    if (ctx.params.format !== "zip") throw new HttpError(404, "Not Found");
    const { a } = artifactOr404(ctx);
    const token = randomBytes(16).toString("hex");
    ctx.core.state.downloadTokens.set(token, { artifactId: a.id, expiresAt: Date.now() + 60_000 });
    return { status: 302, headers: { location: `${ctx.core.urls.url}/_sandbox/artifacts/${a.id}.zip?token=${token}` } };
  });
}
