// A local stand-in for GitHub (REST under /api/v3, git smart HTTP, signed webhooks) for demos and e2e tests.
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { authenticate, issueInstallationToken, randomToken, requireRepoAccess, type Auth } from "./auth.js";
import { Core } from "./core.js";
import type { Ctx } from "./ctx.js";
import { buildTree, commitTree, git, hashObject, updateRef } from "./git.js";
import { handleGitHttp } from "./githttp.js";
import { errorBody, HttpError, nowIso, parseJsonBody, readBody, Router, sendJson } from "./http.js";
import { completeRun, startRun, type CompleteRunOptions } from "./routes-actions.js";
import { registerActionRoutes } from "./routes-actions.js";
import { registerAppRoutes } from "./routes-app.js";
import { registerCheckRoutes } from "./routes-checks.js";
import { registerCommitCommentRoutes } from "./routes-commit-comments.js";
import { registerGitDataRoutes } from "./routes-gitdata.js";
import { registerIssueRoutes } from "./routes-issues.js";
import { registerPullRoutes } from "./routes-pulls.js";
import { registerRepoRoutes } from "./routes-repos.js";
import { OAuthStandIn, type OAuthClientCredentials } from "./routes-oauth.js";
import { runJson } from "./shapes-ci.js";
import type { Account, Permission, Repo, User, WorkflowRun } from "./state.js";
import { WebhookDispatcher, type Delivery } from "./webhooks.js";

export type { Delivery } from "./webhooks.js";
export type { Permission } from "./state.js";
export type { CompleteRunOptions } from "./routes-actions.js";

export interface SandboxOptions {
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  app: { id: number; slug: string; name?: string; publicKey: string };
  webhook?: { url: string; secret: string; timeoutMs?: number };
  log?: (line: string) => void;
}

export interface CreateRepoOptions {
  defaultBranch?: string;
  files?: Record<string, string>;
  /** Installs the app on this repository under this installation id (created on first use). */
  installationId?: number;
  private?: boolean;
  /** Required status checks on the default branch (check run names or status contexts). */
  requiredChecks?: string[];
  /** Require branches to be up to date before merging ("strict"). */
  strictRequiredChecks?: boolean;
}

export interface SandboxRepo {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  cloneUrl: string;
  dir: string;
  headSha: string;
}

export interface AddUserOptions {
  /** Permission per repository, keyed "owner/name". */
  permissions?: Record<string, Permission>;
  type?: "User" | "Bot";
  name?: string;
  email?: string;
}

export interface Sandbox {
  url: string;
  apiUrl: string;
  close(): Promise<void>;
  createRepo(owner: string, name: string, options?: CreateRepoOptions): Promise<SandboxRepo>;
  addUser(login: string, options?: AddUserOptions): { login: string; id: number; token: string };
  setPermission(login: string, fullName: string, permission: Permission): void;
  userToken(login: string): string;
  /** An installation token, as POST /app/installations/{id}/access_tokens would issue (for demos). */
  installationToken(installationId: number): string;
  repoDir(owner: string, name: string): string;
  /** An authenticated clone URL (token in the userinfo). */
  cloneUrl(owner: string, name: string, token: string, login?: string): string;
  deliveries(): Delivery[];
  waitForIdle(): Promise<void>;
  /** Workflow runs of a repository (REST-shaped, plus the dispatch `inputs` a runner receives), newest last. */
  workflowRuns(owner: string, name: string): Record<string, unknown>[];
  startWorkflowRun(owner: string, name: string, runId: number): void;
  completeWorkflowRun(options: CompleteRunOptions): Record<string, unknown>;
  /** The app's OAuth client, for its user authorization flow on /login/oauth/*. */
  oauthClient: OAuthClientCredentials;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? (() => undefined);
  const app = { id: options.app.id, slug: options.app.slug, name: options.app.name ?? options.app.slug, publicKey: options.app.publicKey };
  const hooks = new WebhookDispatcher(options.webhook, app.id, log);
  const core = new Core(options.dataDir, app, hooks, log);
  await mkdir(join(options.dataDir, "repos"), { recursive: true });

  const router = new Router<Ctx>();
  registerAppRoutes(router);
  registerRepoRoutes(router);
  registerGitDataRoutes(router);
  registerPullRoutes(router);
  registerIssueRoutes(router);
  registerCommitCommentRoutes(router);
  registerCheckRoutes(router);
  registerActionRoutes(router);
  const oauth = new OAuthStandIn(core);

  const server = createServer((req, res) => {
    handle(core, router, oauth, req, res).catch((e: unknown) => {
      log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody(500, `sandbox internal error: ${e instanceof Error ? e.message : String(e)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const owner: Account = { login: "sandbox-owner", id: 1, type: "Organization" };
  core.urls = { url, apiUrl: `${url}/api/v3`, app: { id: app.id, slug: app.slug, name: app.name, owner } };
  log(`sandbox listening on ${url} (api ${url}/api/v3)`);

  const ownerAccount = (login: string): Account => {
    const u = core.state.user(login);
    if (u) return { login: u.login, id: u.id, type: u.type };
    for (const r of core.state.repos.values()) if (r.owner.login.toLowerCase() === login.toLowerCase()) return r.owner;
    return { login, id: core.state.nextId(), type: "Organization" };
  };

  const repoOrThrow = (o: string, n: string): Repo => {
    const r = core.state.repo(o, n);
    if (!r) throw new Error(`sandbox: no repository ${o}/${n}`);
    return r;
  };

  const sandbox: Sandbox = {
    url,
    apiUrl: core.urls.apiUrl,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async createRepo(o, name, ro = {}) {
      if (core.state.repo(o, name)) throw new Error(`sandbox: repository ${o}/${name} exists`);
      if (!/^[A-Za-z0-9_.-]+$/.test(o) || !/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error("sandbox: invalid owner or repository name");
      const defaultBranch = ro.defaultBranch ?? "main";
      const account = ownerAccount(o);
      const dir = join(options.dataDir, "repos", account.login, `${name}.git`);
      await mkdir(dir, { recursive: true });
      await git(dir, ["init", "--bare", "--quiet", `--initial-branch=${defaultBranch}`]);
      await git(dir, ["config", "http.receivepack", "true"]);
      await git(dir, ["config", "uploadpack.allowReachableSHA1InWant", "true"]);
      const edits = [];
      for (const [path, content] of Object.entries(ro.files ?? {})) {
        edits.push({ path, mode: "100644", type: "blob", sha: await hashObject(dir, Buffer.from(content, "utf8")) });
      }
      const index = join(options.dataDir, `index-${randomUUID()}`);
      const tree = await buildTree(dir, index, null, edits);
      await rm(index, { force: true });
      const who = core.identity(account);
      const sha = await commitTree(dir, tree, [], "Initial commit\n", who, who);
      await updateRef(dir, `refs/heads/${defaultBranch}`, sha);
      const now = nowIso();
      const repo: Repo = {
        id: core.state.nextId(),
        owner: account,
        name,
        fullName: `${account.login}/${name}`,
        dir,
        defaultBranch,
        private: ro.private ?? true,
        installationId: ro.installationId ?? null,
        requiredChecks: ro.requiredChecks ?? [],
        strictChecks: ro.strictRequiredChecks ?? false,
        labels: new Map(),
        issues: new Map(),
        nextNumber: 1,
        workflows: new Map(),
        createdAt: now,
        pushedAt: now,
      };
      core.state.repos.set(repo.fullName.toLowerCase(), repo);
      if (ro.installationId !== undefined) {
        let inst = core.state.installations.get(ro.installationId);
        if (!inst) {
          inst = { id: ro.installationId, account, repoIds: new Set(), createdAt: now };
          core.state.installations.set(inst.id, inst);
        }
        inst.repoIds.add(repo.id);
      }
      log(`created repo ${repo.fullName} (${defaultBranch} at ${sha.slice(0, 7)})`);
      return {
        id: repo.id,
        owner: account.login,
        name,
        fullName: repo.fullName,
        defaultBranch,
        cloneUrl: `${url}/${repo.fullName}.git`,
        dir,
        headSha: sha,
      };
    },
    addUser(login, uo = {}) {
      if (core.state.user(login)) throw new Error(`sandbox: user ${login} exists`);
      const id = core.state.nextId();
      const user: User = {
        login,
        id,
        type: uo.type ?? "User",
        name: uo.name ?? login,
        email: uo.email ?? `${id}+${login}@users.noreply.github.com`,
        token: randomToken("ghp_"),
        permissions: new Map(Object.entries(uo.permissions ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      };
      core.state.users.set(login.toLowerCase(), user);
      core.state.tokens.set(user.token, user);
      return { login, id, token: user.token };
    },
    setPermission(login, fullName, permission) {
      const u = core.state.user(login);
      if (!u) throw new Error(`sandbox: no user ${login}`);
      u.permissions.set(fullName.toLowerCase(), permission);
    },
    userToken(login) {
      const u = core.state.user(login);
      if (!u) throw new Error(`sandbox: no user ${login}`);
      return u.token;
    },
    installationToken(id) {
      const inst = core.state.installations.get(id);
      if (!inst) throw new Error(`sandbox: no installation ${id}`);
      return issueInstallationToken(core.state, inst).token;
    },
    repoDir: (o, n) => repoOrThrow(o, n).dir,
    cloneUrl(o, n, token, login = "x-access-token") {
      const r = repoOrThrow(o, n);
      return `http://${encodeURIComponent(login)}:${encodeURIComponent(token)}@127.0.0.1:${port}/${r.fullName}.git`;
    },
    deliveries: () => hooks.deliveries(),
    waitForIdle: () => hooks.waitForIdle(),
    workflowRuns(o, n) {
      const r = repoOrThrow(o, n);
      return [...core.state.runs.values()]
        .filter((x: WorkflowRun) => x.repoId === r.id)
        .map((x) => ({ ...runJson(core.urls, r, x), inputs: x.inputs }));
    },
    startWorkflowRun(o, n, runId) {
      startRun(core, o, n, runId);
    },
    completeWorkflowRun(o) {
      const run = completeRun(core, o);
      return runJson(core.urls, repoOrThrow(o.owner, o.repo), run);
    },
    oauthClient: oauth.client,
  };
  return sandbox;
}

async function handle(core: Core, router: Router<Ctx>, oauth: OAuthStandIn, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const u = new URL(req.url ?? "/", "http://sandbox");
  const method = (req.method ?? "GET").toUpperCase();
  const path = u.pathname;
  if (path.startsWith("/login/oauth/") && (await oauth.handle(req, res, u))) return;

  const git = /^\/([^/]+)\/([^/]+?)\.git\/(.+)$/.exec(path);
  if (git) return handleGitHttp(core, req, res, decodeURIComponent(git[1]!), decodeURIComponent(git[2]!), git[3]!, u.searchParams);

  const art = /^\/_sandbox\/artifacts\/(\d+)\.zip$/.exec(path);
  if (art && method === "GET") {
    const t = core.state.downloadTokens.get(u.searchParams.get("token") ?? "");
    const a = core.state.artifacts.get(Number(art[1]));
    if (!t || !a || t.artifactId !== a.id || t.expiresAt < Date.now()) {
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("AuthenticationFailed: signed URL is invalid or expired\n");
      return;
    }
    res.writeHead(200, {
      "content-type": "application/zip",
      "content-length": a.zip.length,
      "content-disposition": `attachment; filename=${a.name}.zip`,
    });
    res.end(a.zip);
    return;
  }

  const requestId = randomUUID().toUpperCase();
  const apiPath = path.startsWith("/api/v3/") || path === "/api/v3" ? path.slice("/api/v3".length) || "/" : null;
  const unsupported = (): void => {
    core.log(`501 sandbox does not implement ${method} ${path}`);
    req.resume();
    sendJson(res, 501, errorBody(501, `sandbox does not implement ${method} ${path}`), { "x-github-request-id": requestId });
  };
  if (apiPath === null) return unsupported();
  const match = router.match(method, apiPath);
  if (!match) return unsupported();

  try {
    const auth: Auth = authenticate(req.headers.authorization, core.state, core.app);
    const { meta } = match.route;
    const ctx: Ctx = {
      core,
      auth,
      actor: core.actor(auth),
      params: match.params,
      query: u.searchParams,
      rawBody: undefined,
      selfUrl: `${core.urls.apiUrl}${apiPath}`,
      repo: undefined as unknown as Repo,
    };
    if (meta.auth === "app" && auth.kind !== "app") {
      throw new HttpError(401, auth.kind === "anonymous" ? "Requires authentication" : "A JSON web token could not be decoded");
    }
    if (meta.auth === "installation" && auth.kind !== "installation") {
      throw new HttpError(
        auth.kind === "anonymous" ? 401 : 403,
        auth.kind === "anonymous" ? "Requires authentication" : "Resource not accessible by integration",
      );
    }
    if (meta.auth === "any" && auth.kind === "anonymous") throw new HttpError(401, "Requires authentication");
    if (meta.auth === "repo") {
      const repo = core.state.repo(match.params.owner!, match.params.repo!);
      if (!repo) throw new HttpError(404, "Not Found");
      requireRepoAccess(auth, repo, meta.level ?? "read");
      ctx.repo = repo;
    }
    if (method !== "GET" && method !== "HEAD") ctx.rawBody = parseJsonBody(await readBody(req));
    else req.resume();
    const result = await match.route.handler(ctx);
    const headers = { "x-github-request-id": requestId, ...(result.headers ?? {}) };
    if (result.raw) {
      res.writeHead(result.status, headers);
      res.end(result.raw);
    } else sendJson(res, result.status, result.body, headers);
    core.log(`${method} ${path} -> ${result.status}`);
  } catch (e) {
    if (e instanceof HttpError) {
      core.log(`${method} ${path} -> ${e.status} ${e.message}`);
      req.resume();
      sendJson(res, e.status, errorBody(e.status, e.message, e.extra), { "x-github-request-id": requestId, ...e.headers });
      return;
    }
    throw e;
  }
}
