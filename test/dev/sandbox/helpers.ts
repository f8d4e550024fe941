import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHmac, generateKeyPairSync, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Octokit } from "@octokit/rest";
import { createAppAuth } from "@octokit/auth-app";
import { startSandbox, type Sandbox } from "../../../src/dev/sandbox/server.js";

export const APP_ID = 4242;
export const SECRET = "s3cret-webhook";
const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
export const PRIVATE_KEY = keys.privateKey;
export const PUBLIC_KEY = keys.publicKey;

export interface Received {
  event: string;
  delivery: string;
  signatureValid: boolean;
  userAgent: string;
  payload: Record<string, any>;
}

export interface Harness {
  sb: Sandbox;
  dir: string;
  received: Received[];
  /** Octokit authenticated as the app installation through the real JWT -> token flow. */
  app: Octokit;
  appJwt: Octokit;
  user(token: string): Octokit;
  /** Async on purpose: the sandbox serves from this same process. */
  git(cwd: string, ...args: string[]): Promise<string>;
  clone(owner: string, repo: string, token: string, login?: string): Promise<string>;
  write(cwd: string, path: string, content: string): void;
  events(name: string, action?: string): Received[];
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "sandbox-test-"));
  const received: Received[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from("sha256=" + createHmac("sha256", SECRET).update(body).digest("hex"));
      const got = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
      received.push({
        event: String(req.headers["x-github-event"]),
        delivery: String(req.headers["x-github-delivery"]),
        signatureValid: got.length === expected.length && timingSafeEqual(got, expected),
        userAgent: String(req.headers["user-agent"]),
        payload: JSON.parse(body.toString("utf8")),
      });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/github/webhooks`;
  const sb = await startSandbox({
    dataDir: join(dir, "data"),
    port: 0,
    app: { id: APP_ID, slug: "sheriff-test", publicKey: PUBLIC_KEY },
    webhook: { url: hookUrl, secret: SECRET },
    log: process.env.SANDBOX_LOG ? (l) => console.log(l) : undefined,
  });
  const gitEnv = {
    ...process.env,
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Alice",
    GIT_AUTHOR_EMAIL: "alice@example.com",
    GIT_COMMITTER_NAME: "Alice",
    GIT_COMMITTER_EMAIL: "alice@example.com",
  };
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const run = promisify(execFile);
  const git = async (cwd: string, ...args: string[]): Promise<string> =>
    (await run("git", args, { cwd, env: gitEnv, encoding: "utf8" })).stdout;
  let n = 0;
  const h: Harness = {
    sb,
    dir,
    received,
    app: new Octokit({
      baseUrl: sb.apiUrl,
      authStrategy: createAppAuth,
      auth: { appId: APP_ID, privateKey: PRIVATE_KEY, installationId: 7 },
      log: quiet,
    }),
    appJwt: new Octokit({ baseUrl: sb.apiUrl, authStrategy: createAppAuth, auth: { appId: APP_ID, privateKey: PRIVATE_KEY }, log: quiet }),
    user: (token) => new Octokit({ baseUrl: sb.apiUrl, auth: token, log: quiet }),
    git,
    async clone(owner, repo, token, login) {
      const wd = join(dir, `wc${n++}`);
      await git(dir, "clone", "--quiet", sb.cloneUrl(owner, repo, token, login), wd);
      return wd;
    },
    write(cwd, path, content) {
      mkdirSync(dirname(join(cwd, path)), { recursive: true });
      writeFileSync(join(cwd, path), content);
    },
    events: (name, action) => received.filter((r) => r.event === name && (action === undefined || r.payload.action === action)),
    async close() {
      await sb.waitForIdle();
      await sb.close();
      await new Promise<void>((r) => receiver.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
