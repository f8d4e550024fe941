// Git smart HTTP through the real `git http-backend` CGI, with GitHub-style basic auth and push webhooks.
import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { authenticateToken, repoPermission, type Auth } from "./auth.js";
import { ZERO_SHA, type Core, type RefChange } from "./core.js";
import { GIT_ENV, listRefs } from "./git.js";
import { requestStream } from "./http.js";
import { PERMISSION_RANK } from "./state.js";

function deny(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    ...(status === 401 ? { "www-authenticate": 'Basic realm="GitHub"' } : {}),
  });
  res.end(text + "\n");
}

function basicAuth(core: Core, header: string | undefined): Auth | null {
  if (!header) return { kind: "anonymous" };
  const m = /^basic\s+(.+)$/i.exec(header.trim());
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const password = decoded.slice(decoded.indexOf(":") + 1);
  try {
    return authenticateToken(password, core.state);
  } catch {
    return null;
  }
}

/** Handles /{owner}/{repo}.git/{rest}. */
export async function handleGitHttp(
  core: Core,
  req: IncomingMessage,
  res: ServerResponse,
  owner: string,
  name: string,
  rest: string,
  query: URLSearchParams,
): Promise<void> {
  const repo = core.state.repo(owner, name);
  if (!repo) return deny(res, 404, "Repository not found.");
  const service = rest === "info/refs" ? query.get("service") : rest;
  if (service !== "git-upload-pack" && service !== "git-receive-pack") {
    return deny(res, 403, `sandbox git http: unsupported path /${rest}`);
  }
  const write = service === "git-receive-pack";
  const auth = basicAuth(core, req.headers.authorization);
  if (!auth) return deny(res, 401, "Invalid username or token. Password authentication is not supported for Git operations.");
  const perm = repoPermission(auth, repo);
  if (PERMISSION_RANK[perm] < PERMISSION_RANK[write ? "write" : "read"]) {
    if (auth.kind === "anonymous") return deny(res, 401, "Authentication required.");
    if (perm === "none") return deny(res, 404, "Repository not found.");
    return deny(res, 403, `Permission to ${repo.fullName}.git denied to ${core.actor(auth).login}.`);
  }
  const actor = core.actor(auth);
  const run = (): Promise<void> => runBackend(core, req, res, repo.owner.login, repo.name, rest, query, actor.login);
  if (!write || rest === "info/refs") return run();

  await core.mutex.run(repo.fullName, async () => {
    const before = await listRefs(repo.dir);
    await runBackend(core, req, res, repo.owner.login, repo.name, rest, query, actor.login, async () => {
      const after = await listRefs(repo.dir);
      const changes: RefChange[] = [];
      for (const [ref, sha] of after) if (before.get(ref) !== sha) changes.push({ ref, before: before.get(ref) ?? ZERO_SHA, after: sha });
      for (const [ref, sha] of before) if (!after.has(ref)) changes.push({ ref, before: sha, after: ZERO_SHA });
      if (changes.length) {
        core.log(
          `git push ${repo.fullName} by ${actor.login}: ${changes.map((c) => `${c.ref} ${c.before.slice(0, 7)}..${c.after.slice(0, 7)}`).join(", ")}`,
        );
        await core.refsChanged(repo, changes, actor);
      }
    });
  });
}

function runBackend(
  core: Core,
  req: IncomingMessage,
  res: ServerResponse,
  owner: string,
  name: string,
  rest: string,
  query: URLSearchParams,
  remoteUser: string,
  afterExit?: () => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...GIT_ENV,
      GIT_PROJECT_ROOT: join(core.dataDir, "repos"),
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: `/${owner}/${name}.git/${rest}`,
      REMOTE_USER: remoteUser,
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      REQUEST_METHOD: req.method ?? "GET",
      QUERY_STRING: query.toString(),
      CONTENT_TYPE: String(req.headers["content-type"] ?? ""),
    };
    if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);
    const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // The request body (inflated if gzip) goes to the CGI until EOF; CONTENT_LENGTH is unset on purpose.
    const body = requestStream(req);
    body.on("error", () => child.stdin.destroy());
    child.stdin.on("error", () => undefined);
    body.pipe(child.stdin);

    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf("\r\n\r\n");
      let sepLen = 4;
      if (sep < 0) {
        sep = head.indexOf("\n\n");
        sepLen = 2;
      }
      if (sep < 0) return;
      const headerText = head.subarray(0, sep).toString("latin1");
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of headerText.split(/\r?\n/)) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      const remainder = head.subarray(sep + sepLen);
      if (remainder.length) res.write(remainder);
    });
    child.on("error", (e) => {
      core.log(`git http-backend failed to start: ${e.message}`);
      if (!headersSent) deny(res, 500, "git http-backend failed");
      resolve();
    });
    child.on("close", (code) => {
      void (async () => {
        if (code !== 0) core.log(`git http-backend ${rest} exited ${code}: ${stderr.trim()}`);
        try {
          if (afterExit) await afterExit();
        } catch (e) {
          core.log(`post-push processing failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (!headersSent) deny(res, 500, stderr || "git http-backend produced no response");
        else res.end();
        resolve();
      })();
    });
  });
}
