import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "bullmq";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { sheriffApp } from "../../entry/app.js";
import type { SuiteConfig } from "../../model/config.js";
import type { PipelineDeps } from "../../flows/deps.js";
import type { SuiteRunner } from "../../runner/execute.js";
import { startGpuWorker } from "../../runner/worker.js";
import { repositoryReadTokens } from "../../adapters/github/access.js";
import { createRuntime, pipelineDeps, type Runtime } from "../../entry/runtime.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { startAppServices, type AppServices } from "../../entry/services.js";
import { loadSettings } from "../../entry/settings.js";
import { DEFAULT_WEBHOOK_PATH, guardedWebhooks } from "../../entry/webhookServer.js";
import { DASHBOARD_PREFIX } from "../../core/dashboard/links.js";
import { appPages, combineHandlers, countingWebhooks } from "../../entry/dashboard/mount.js";

export const DEMO_APP_ID = 4242;
const WEBHOOK_PATH = DEFAULT_WEBHOOK_PATH;

export interface World {
  sandbox: Sandbox;
  /** The GPU worker's suite runners; mutable so runners that need the world's dirs can be added. */
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  deps: PipelineDeps;
  runtime: Runtime;
  services: AppServices;
  gpuWorker: Worker;
  dataDir: string;
  /** The dashboard, served by Sheriff's HTTP server beside its webhooks. */
  dashboardUrl: string;
  /** True when no webhook is in flight and no control, GPU or land job is waiting or running. */
  settled(): Promise<boolean>;
  close(): Promise<void>;
}

export interface WorldOptions {
  redisUrl: string;
  /** The history database; the world's tables live in a schema of their own, dropped on close. */
  databaseUrl: string;
  log: Logger;
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  /** Extra environment for suite processes (the demo's flaky test keeps its state there). */
  dataDir?: string;
}

/**
 * Sheriff and its GitHub stand-in in one process, wired exactly as in production: Probot
 * verifies the stand-in's signed webhooks, and every API call and git fetch goes over HTTP.
 */
export async function startWorld(options: WorldOptions): Promise<World> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "sheriff-demo-")));
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const secret = randomBytes(16).toString("hex");

  // The webhook receiver must exist before the stand-in that sends to it.
  const receiver: Server = createServer();
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const appUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const receiverUrl = `${appUrl}${WEBHOOK_PATH}`;

  const sandbox = await startSandbox({
    dataDir: join(dataDir, "github"),
    app: { id: DEMO_APP_ID, slug: "sheriff", name: "Sheriff", publicKey },
    webhook: { url: receiverUrl, secret },
  });
  const runId = randomBytes(4).toString("hex");
  const settings = loadSettings({
    REDIS_URL: options.redisUrl,
    DATABASE_URL: options.databaseUrl,
    SHERIFF_DB_SCHEMA: `sheriff_demo_${runId}`,
    SHERIFF_PREFIX: `sheriff-demo-${runId}`,
    SHERIFF_WORK_DIR: join(dataDir, "work"),
    GHE_HOST: sandbox.url.replace(/^http:\/\//, ""),
    GHE_PROTOCOL: "http",
    SHERIFF_PUBLIC_URL: appUrl,
    GITHUB_CLIENT_ID: sandbox.oauthClient.clientId,
    GITHUB_CLIENT_SECRET: sandbox.oauthClient.clientSecret,
    SHERIFF_SESSION_SECRET: randomBytes(24).toString("hex"),
  });
  const probot = new Probot({
    appId: DEMO_APP_ID,
    privateKey,
    secret,
    baseUrl: sandbox.apiUrl,
    log: options.log,
    Octokit: ProbotOctokit.defaults({ throttle: { enabled: false } }),
  });
  const runtime = await createRuntime(settings, options.log);
  const deps = pipelineDeps(runtime, probot, settings, options.log);
  const services = await startAppServices(deps, { landTiming: { pollIntervalMs: 500, discoverIntervalMs: 300 } });
  await probot.load(sheriffApp(deps, services.hooks));
  const webhooks = await guardedWebhooks(probot, { path: WEBHOOK_PATH, secret, log: options.log });
  const pages = appPages({
    runtime,
    access: deps.access,
    appClient: () => probot.auth(),
    settings,
    publicUrl: appUrl,
    log: options.log,
    sessionSecret: secret,
  });
  const handler = combineHandlers(pages, countingWebhooks(webhooks, runtime.metrics, WEBHOOK_PATH));
  receiver.on("request", (req, res) => {
    void handler(req, res).then((handled) => handled || res.writeHead(404).end());
  });
  const runners = { ...options.runners };
  const gpuWorker = startGpuWorker({
    queues: runtime.queues,
    ledger: runtime.ledger,
    cache: runtime.cache,
    runners,
    log: options.log,
    slots: 1,
    readToken: repositoryReadTokens(probot),
  });

  // A worker's connection error (its Redis closing under it as the world shuts down) is logged, never a crash.
  const { control, intake, analysis, followUp } = services.controlWorkers;
  for (const worker of [gpuWorker, control, intake, analysis, followUp]) {
    worker.on("error", (err) => options.log.warn({ err: err.message, queue: worker.name }, "worker connection error"));
  }

  const busy = async () => {
    const counts = await Promise.all(
      runtime.queues.all.map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized", "paused")),
    );
    // A land job still running (merged, its comment not yet posted) counts as busy too.
    const lands = [
      ...(await runtime.store.redis.keys(`${runtime.store.prefix}:land*:wait`)),
      ...(await runtime.store.redis.keys(`${runtime.store.prefix}:land*:active`)),
    ];
    const landWaiting = await Promise.all(lands.map((k) => runtime.store.redis.llen(k)));
    return [...counts.flatMap((c) => Object.values(c)), ...landWaiting].some((n) => n > 0);
  };

  return {
    sandbox,
    runners,
    deps,
    runtime,
    services,
    gpuWorker,
    dataDir,
    dashboardUrl: `${appUrl}${DASHBOARD_PREFIX}`,
    async settled() {
      await sandbox.waitForIdle();
      if (await busy()) return false;
      await new Promise((r) => setTimeout(r, 300));
      await sandbox.waitForIdle();
      return !(await busy());
    },
    async close() {
      // What the world made is removed even when stopping its parts fails (an interrupted story).
      try {
        await gpuWorker.close();
        await services.close();
        await runtime.queues.close();
      } finally {
        try {
          // Last, so nothing recreates a key after the sweep.
          const keys = await runtime.store.redis.keys(`${runtime.store.prefix}:*`);
          if (keys.length > 0) await runtime.store.redis.del(...keys);
          await runtime.store.redis.quit();
          await runtime.db.pool.query(`DROP SCHEMA IF EXISTS ${runtime.db.schema} CASCADE`);
          await runtime.db.close();
        } finally {
          await sandbox.close();
          await new Promise<void>((resolve) => receiver.close(() => resolve()));
          // Retried: an interrupted story may still have a git process writing into the stand-in's repositories.
          if (!options.dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
        }
      }
    },
  };
}
