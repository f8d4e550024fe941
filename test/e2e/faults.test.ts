import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { appendFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type ServerResponse } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/dev/sandbox/server.js";
import { DATABASE_URL } from "../helpers/database.js";
import { ALICE } from "../helpers/gitRepo.js";
import { compiledProject } from "../runner/support.js";

/**
 * Sheriff deployed as the README deploys it: `sheriff start` and `sheriff worker` as separate
 * processes on one Redis (a private redis-server here, so it can be killed) and PostgreSQL,
 * against the GitHub stand-in. Processes are killed with SIGKILL at chosen steps of a revert's
 * flow and started again, the app's event loop is stalled, GitHub's API goes down (502s, then
 * requests left unanswered) and PostgreSQL ends the processes' sessions; every effect on GitHub must still happen exactly once, and the app
 * must still answer people afterwards.
 */

const OWNER = "gpu-team";
const REPO = "flash-kernels";
const APP_ID = 5150;
const CONFIG = `policy:
  autoRevert: on
suites:
  - name: unit
    kind: command
    command: "sleep 2; test ! -f BROKEN"
    paths: ["src/**", "BROKEN"]
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server of this test's own, persisting every write (as a deployment's should), so it can be killed and started again. */
class PrivateRedis {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  async start(): Promise<void> {
    this.proc = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    await until(
      "redis-server to answer",
      async () => {
        const probe = new Redis(this.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on("error", () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === "PONG";
        } finally {
          probe.disconnect();
        }
      },
      20_000,
    );
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  }
}

/** Between the app and the stand-in's API, as the network to GitHub is: it can answer 502 or hold requests unanswered. */
class GitHubLink {
  mode: "up" | "502" | "hang" = "up";
  private readonly held = new Set<ServerResponse>();
  private readonly server = createHttpServer((req, res) => {
    if (this.mode === "502") {
      res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
      return;
    }
    if (this.mode === "hang") {
      this.held.add(res);
      return;
    }
    const upstream = httpRequest(
      { host: "127.0.0.1", port: this.target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  constructor(private readonly target: number) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Back up: held requests are cut, as a dropped connection would be. */
  up(): void {
    this.mode = "up";
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.up();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("Sheriff's processes killed mid-flow", () => {
  let sandbox: Sandbox;
  let redis: PrivateRedis;
  let link: GitHubLink;
  let dir: string;
  let db: pg.Client;
  const schema = `t_faults_${randomBytes(4).toString("hex")}`;
  const processes = new Map<string, ChildProcess>();
  let env: NodeJS.ProcessEnv;
  let cli: string;
  let appPort: number;

  beforeAll(async () => {
    cli = join(compiledProject(), "dist/entry/cli.js");
    dir = mkdtempSync(join(tmpdir(), "sheriff-faults-"));
    const { privateKey, publicKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const secret = randomBytes(16).toString("hex");
    appPort = await freePort();
    sandbox = await startSandbox({
      dataDir: join(dir, "github"),
      app: { id: APP_ID, slug: "sheriff", name: "Sheriff", publicKey },
      webhook: { url: `http://127.0.0.1:${appPort}/api/github/webhooks`, secret },
    });
    link = new GitHubLink(Number(new URL(sandbox.url).port));
    const linkPort = await link.listen();
    redis = new PrivateRedis(await freePort(), dir);
    await redis.start();
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: secret,
      GHE_HOST: `127.0.0.1:${linkPort}`,
      GHE_PROTOCOL: "http",
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      DATABASE_URL,
      SHERIFF_DB_SCHEMA: schema,
      SHERIFF_PREFIX: "sheriff-faults",
      SHERIFF_WORK_DIR: join(dir, "work"),
      SHERIFF_GPUS: "none",
      SHERIFF_HOST: "gpu-host-1",
      PORT: String(appPort),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    };
  }, 240_000);

  afterAll(async () => {
    for (const proc of processes.values()) proc.kill("SIGKILL");
    await redis?.kill();
    await link?.close();
    await sandbox?.close();
    await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `sheriff <kind>`, its output appended to a log of its own; resolves once it says it is ready. */
  async function start(kind: "start" | "worker"): Promise<void> {
    const log = join(dir, `${kind}.log`);
    const out = createWriteStream(log, { flags: "a" });
    const proc = spawn(process.execPath, [cli, kind], { env, stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.pipe(out);
    proc.stderr!.pipe(out);
    processes.set(kind, proc);
    const ready = kind === "start" ? /Listening on/ : /GPU worker waiting|no GPU found/;
    await until(
      `sheriff ${kind} to be ready`,
      async () => proc.exitCode === null && ready.test(readFileSync(log, "utf8").split("=== ").at(-1)!),
      60_000,
    );
  }

  async function kill(kind: "start" | "worker"): Promise<void> {
    const proc = processes.get(kind)!;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
    // Marks where the next process's output starts in the shared log.
    appendFileSync(join(dir, `${kind}.log`), "=== restarted\n");
  }

  it("opens one revert PR, posts one author comment, records one revert and leaves no check run in progress", async () => {
    sandbox.addUser("alice", { permissions: { [`${OWNER}/${REPO}`]: "write" } });
    await sandbox.createRepo(OWNER, REPO, { installationId: 77, files: { ".github/sheriff.yml": CONFIG, "src/a.txt": "0\n" } });
    const github = new Octokit({ auth: sandbox.userToken("alice"), baseUrl: sandbox.apiUrl });
    const work = join(dir, "clone");
    // Asynchronous: the stand-in answering git's requests runs in this process.
    const git = async (...args: string[]) =>
      (
        await promisify(execFile)("git", args, {
          cwd: work,
          encoding: "utf8",
          env: { ...process.env, ...ALICE },
        })
      ).stdout.trim();
    await promisify(execFile)("git", ["clone", "--quiet", sandbox.cloneUrl(OWNER, REPO, sandbox.userToken("alice"), "alice"), work]);
    const land = async (file: string, text: string, title: string) => {
      writeFileSync(join(work, file), text);
      await git("add", "-A");
      await git("commit", "--quiet", "-m", title);
      await git("push", "--quiet", "origin", "HEAD:main");
      return git("rev-parse", "HEAD");
    };
    const checkRuns = async (sha: string) =>
      (await github.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: sha })).data.check_runs.map((c) => ({
        name: c.name,
        status: c.status,
      }));
    const jobState = async (sha: string) =>
      (await db.query<{ state: string }>(`SELECT state FROM ${schema}.jobs WHERE sha = $1 AND purpose = 'landed'`, [sha])).rows[0]?.state;

    await start("start");
    await start("worker");
    const good = await land("src/a.txt", "1\n", "Tidy the gather");
    await until(
      "the good commit's check run to complete",
      async () => (await checkRuns(good)).some((c) => c.status === "completed"),
      90_000,
    );

    // Redis lost and back (its appendonly file keeps the queues), between two pushes.
    await redis.kill();
    await redis.start();

    // The app's event loop stalled (SIGSTOP) for longer than a throttler's heartbeat, then going on.
    processes.get("start")!.kill("SIGSTOP");
    await sleep(12_000);
    processes.get("start")!.kill("SIGCONT");

    const bad = await land("BROKEN", "yes\n", "Break the unit suite");
    // GitHub down as the culprit lands: 502s for 20 s, then 15 s of requests left unanswered.
    link.mode = "502";
    await sleep(20_000);
    link.mode = "hang";
    await sleep(15_000);
    link.up();
    // The worker killed while the bad commit's job runs: a new worker kills what the dead one left and the job runs again.
    await until("the bad commit's job to run", async () => (await jobState(bad)) === "running", 240_000);
    // PostgreSQL ending every session of this deployment's processes, as a restart or failover would, while the job runs.
    const ended = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
      `sheriff:${schema}`,
    ]);
    expect(ended.rowCount).toBeGreaterThan(0);
    await kill("worker");
    await start("worker");

    // The app killed right after it opened the revert PR: the restarted app finishes the revert without a second PR or comment.
    const revertPr = await until(
      "the revert PR",
      async () =>
        (await github.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" })).data.find((p) =>
          p.head.ref.startsWith("sheriff/revert-"),
        ),
      240_000,
    );
    await kill("start");
    await start("start");
    const outcome = await until(
      "the revert to be recorded",
      async () => (await db.query<{ outcome: string }>(`SELECT outcome FROM ${schema}.reverts WHERE culprit = $1`, [bad])).rows[0]?.outcome,
      120_000,
    );
    const comments = async () =>
      (await github.rest.repos.listCommentsForCommit({ owner: OWNER, repo: REPO, commit_sha: bad })).data.filter((c) =>
        (c.body ?? "").includes("sheriff:revert"),
      );
    await until("the author's comment", async () => (await comments()).length > 0, 60_000);
    await until(
      "every check run to complete",
      async () => [...(await checkRuns(good)), ...(await checkRuns(bad))].every((c) => c.status === "completed"),
      60_000,
    );
    // Settled: nothing more arrives.
    await sleep(5000);

    expect(outcome).toBe("pr-opened");
    const reverts = (await github.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" })).data.filter((p) =>
      p.head.ref.startsWith("sheriff/revert-"),
    );
    expect(reverts.map((p) => p.number)).toEqual([revertPr.number]);
    expect(await comments()).toHaveLength(1);
    for (const sha of [good, bad]) {
      const runs = await checkRuns(sha);
      expect(
        runs.every((c) => c.status === "completed"),
        `${sha}: ${JSON.stringify(runs)}`,
      ).toBe(true);
      expect(new Set(runs.map((c) => c.name)).size, `${sha}: one check run per name`).toBe(runs.length);
    }
    // After the stall and the restarts the app still gets installation tokens and answers people.
    await github.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: revertPr.number, body: "@sheriff help" });
    await until(
      "Sheriff's answer to a comment",
      async () =>
        (await github.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: revertPr.number })).data.some(
          (c) => c.user?.type === "Bot" && (c.body ?? "").includes("@sheriff"),
        ),
      60_000,
    );
    const recorded = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.reverts WHERE culprit = $1`, [bad]);
    expect(Number(recorded.rows[0]!.n)).toBe(1);
  }, 600_000);
});
