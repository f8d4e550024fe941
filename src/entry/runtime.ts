import { resolve } from "node:path";
import { pino, type Logger } from "pino";
import type { Probot } from "probot";
import { probotAccess } from "../adapters/github/access.js";
import { ConfigCache } from "../adapters/github/config.js";
import type { PipelineDeps } from "../flows/deps.js";
import { Queues } from "../adapters/queue/queues.js";
import { RepoCache } from "../adapters/git/git.js";
import { apiBaseUrl, type Settings } from "./settings.js";
import { Ledger } from "../adapters/store/ledger.js";
import { connectRedis, type RedisHandle } from "../adapters/store/redis.js";
import { connectDatabase, migrate, type Database } from "../adapters/store/database.js";
import { decide } from "../core/verdict/engine.js";
import { Metrics } from "../adapters/metrics.js";
import { DashboardStore } from "../adapters/store/dashboard.js";
import { decorateClient } from "./dashboard/decorate.js";

/** The long-lived pieces one Sheriff process shares across handlers and workers. */
export interface Runtime {
  store: RedisHandle;
  db: Database;
  ledger: Ledger;
  queues: Queues;
  cache: RepoCache;
  metrics: Metrics;
  close(): Promise<void>;
}

/** Connects to Redis and the history database, bringing the database's schema up to date first. */
export async function createRuntime(settings: Settings, log: Logger = defaultLogger()): Promise<Runtime> {
  const db = connectDatabase(settings.DATABASE_URL, {
    schema: settings.SHERIFF_DB_SCHEMA,
    // Which deployment a session belongs to, in pg_stat_activity: several can share one server.
    applicationName: `sheriff:${settings.SHERIFF_DB_SCHEMA}`,
    onIdleError: (err) => log.warn({ err: err.message }, "database connection lost; queries reconnect"),
  });
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw new Error(`cannot prepare the history database at DATABASE_URL: ${(err as Error).message}`);
  }
  const store = connectRedis(settings.REDIS_URL, settings.SHERIFF_PREFIX);
  const queues = new Queues(store);
  return {
    store,
    db,
    ledger: new Ledger(db),
    queues,
    cache: new RepoCache(resolve(settings.SHERIFF_WORK_DIR)),
    metrics: new Metrics({ queues: queues.all, history: new DashboardStore(db) }),
    async close() {
      await queues.close();
      await store.redis.quit();
      await db.close();
    },
  };
}

export function pipelineDeps(runtime: Runtime, probot: Probot, settings: Settings, log: Logger = probot.log): PipelineDeps {
  return {
    access: probotAccess(probot, apiBaseUrl(settings), {
      decorate: (octokit) => decorateClient(octokit, runtime.metrics, settings.SHERIFF_PUBLIC_URL),
    }),
    configs: new ConfigCache(),
    ledger: runtime.ledger,
    queues: runtime.queues,
    cache: runtime.cache,
    engine: decide,
    log,
    parallelism: settings.SHERIFF_PARALLEL_PROBES,
  };
}

export function defaultLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? "info" });
}
