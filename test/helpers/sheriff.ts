import { generateKeyPairSync, createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import type { Worker } from "bullmq";
import { sheriffApp } from "../../src/entry/app.js";
import { probotAccess } from "../../src/adapters/github/access.js";
import { ConfigCache } from "../../src/adapters/github/config.js";
import { startAppServices } from "../../src/entry/services.js";
import { DEFAULT_WEBHOOK_PATH, guardedWebhooks, listenForWebhooks, serverUrl } from "../../src/entry/webhookServer.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { Queues } from "../../src/adapters/queue/queues.js";
import { RepoCache } from "../../src/adapters/git/git.js";
import { runConfiguredCommand } from "../../src/runner/execute.js";
import { startGpuWorker } from "../../src/runner/worker.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { decide } from "../../src/core/verdict/engine.js";
import { testRedis } from "./redis.js";
import { testDatabase } from "./database.js";

export const WEBHOOK_SECRET = "test-webhook-secret";

/** The real app: Probot with signature checks, BullMQ queues and workers on real Redis, real git. */
export async function startSheriff(
  name: string,
  options: { baseUrl?: string; restartOn?: { prefix: string; workDir: string; schema: string } } = {},
) {
  const store = testRedis(name, options.restartOn?.prefix);
  const db = await testDatabase(name, options.restartOn?.schema);
  const workDir = options.restartOn?.workDir ?? mkdtempSync(join(tmpdir(), "sheriff-work-"));
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const probot = new Probot({
    appId: 123,
    privateKey,
    secret: WEBHOOK_SECRET,
    log,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const queues = new Queues(store);
  const ledger = new Ledger(db);
  const cache = new RepoCache(workDir);
  const deps: PipelineDeps = {
    access: probotAccess(probot, options.baseUrl),
    configs: new ConfigCache(),
    ledger,
    queues,
    cache,
    engine: decide,
    log,
    parallelism: 1,
  };
  const services = await startAppServices(deps, { landTiming: { pollIntervalMs: 200, discoverIntervalMs: 200 } });
  await probot.load(sheriffApp(deps, services.hooks));
  const workers: Worker[] = [startGpuWorker({ queues, ledger, cache, runners: { command: runConfiguredCommand }, log, slots: 1 })];
  const server = await listenForWebhooks(await guardedWebhooks(probot, { path: DEFAULT_WEBHOOK_PATH, secret: WEBHOOK_SECRET, log }), {
    port: 0,
    host: "127.0.0.1",
  });
  const webhookUrl = `${serverUrl(server)}${DEFAULT_WEBHOOK_PATH}`;
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));

  /** Delivers a webhook the way GitHub does, over HTTP: JSON body, HMAC signature, delivery id; throws unless answered 2xx. */
  async function deliver(event: string, payload: unknown, id: string = randomUUID()): Promise<void> {
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;
    const res = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": signature },
      body,
    });
    const answer = await res.text();
    if (!res.ok) throw new Error(`webhook ${event} answered ${res.status}: ${answer}`);
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 25_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** True when no job of any queue is waiting, delayed or running. */
  async function idle(): Promise<boolean> {
    const counts = await Promise.all(queues.all.map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized")));
    return counts.every((c) => Object.values(c).every((n) => n === 0));
  }

  return {
    probot,
    deps,
    store,
    db,
    workDir,
    /** Stops this process's part and keeps everything in Redis, the database and on disk, as a process exit would. */
    async stop() {
      await closeServer();
      await Promise.all([...workers.map((w) => w.close()), services.close()]);
      await queues.close();
      await store.redis.quit();
      await db.close();
    },
    ledger,
    queues,
    deliver,
    webhookUrl,
    waitFor,
    idle,
    async close() {
      await closeServer();
      await Promise.all([...workers.map((w) => w.close()), services.close()]);
      for (const queue of queues.all) await queue.obliterate({ force: true });
      await queues.close();
      await store.cleanup();
      await db.cleanup();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
