#!/usr/bin/env node
import { run } from "probot";
import { createSheriffProbot, probotEnv } from "./probot.js";
import { sheriffApp } from "./app.js";
import { repositoryReadTokens } from "../adapters/github/access.js";
import { runConfiguredCommand } from "../runner/execute.js";
import { discoverGpus } from "../runner/gpus.js";
import { createBuiltinRunner } from "../runner/harness.js";
import { startGpuWorker } from "../runner/worker.js";
import { createRuntime, defaultLogger, pipelineDeps, type Runtime } from "./runtime.js";
import { startAppServices } from "./services.js";
import { DEFAULT_WEBHOOK_PATH, guardedWebhooks, listenForWebhooks, serverUrl } from "./webhookServer.js";
import { controlConcurrency, loadRunnerSettings, loadSettings } from "./settings.js";
import { RepoCache } from "../adapters/git/git.js";
import { GpuLeases } from "../adapters/queue/gpuLeases.js";
import { startRemoteRunner } from "../runner/remote.js";
import { parseRunnerTokens, runnerApi } from "./runnerApi.js";
import { runCommandLine, usageAnswer } from "./command.js";
import { importRedisLedger } from "../adapters/store/legacyImport.js";
import { reduceOldSamples } from "../flows/retention.js";
import { appPages, combineHandlers, countingWebhooks } from "./dashboard/mount.js";

const USAGE = `usage: sheriff <command>

  start      the GitHub App: webhooks, the control flow (needs APP_ID, PRIVATE_KEY, WEBHOOK_SECRET;
             without APP_ID it serves the page that registers the app from app.yml)
  runner     a GPU host that holds nothing of Sheriff's but its runner token: leases GPU jobs from
             the app's runner API (needs SHERIFF_URL, SHERIFF_RUNNER_TOKEN), one per GPU
  worker     a GPU host inside the app's trust boundary: pulls GPU jobs from Redis directly
  run-suite  run one built-in kernel suite in a checkout (used by workflows/post-land-gpu.yml)
  migrate    bring the history database (DATABASE_URL) up to date; start and worker also do this
  import-redis-ledger
             copy the history an earlier Sheriff kept in Redis (under SHERIFF_PREFIX) into the database
  reduce-samples
             reduce raw benchmark samples of settled runs older than SHERIFF_SAMPLE_RETENTION_DAYS now
             (start does this every few hours)
  help       this text`;

function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      // Workers finish their current job before the process exits; BullMQ hands the rest to other hosts.
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** Without APP_ID, Probot's own server serves the page that registers the app from app.yml. */
async function setup(): Promise<void> {
  await run(() => undefined, { env: probotEnv(process.env) });
}

async function start(): Promise<void> {
  if (!process.env.APP_ID) return setup();
  const settings = loadSettings();
  const runtime = await createRuntime(settings);
  const probot = createSheriffProbot();
  await probot.ready();
  const deps = pipelineDeps(runtime, probot, settings);
  const services = await startAppServices(deps, { concurrency: controlConcurrency(settings) });
  await deps.queues.scheduleReconciliation(settings.SHERIFF_RECONCILE_MINUTES * 60_000);
  await probot.load(sheriffApp(deps, services.hooks));
  const webhookPath = process.env.WEBHOOK_PATH ?? DEFAULT_WEBHOOK_PATH;
  // Probot's default when none is set, so both check the same secret.
  const secret = process.env.WEBHOOK_SECRET || "development";
  const handler = await guardedWebhooks(probot, { path: webhookPath, secret, log: probot.log });
  const port = Number(process.env.PORT) || 3000;
  const host = process.env.HOST ?? "localhost";
  const pages = appPages({
    runtime,
    access: deps.access,
    appClient: () => probot.auth(),
    settings,
    publicUrl: settings.SHERIFF_PUBLIC_URL ?? `http://${host}:${port}`,
    log: probot.log,
    sessionSecret: secret,
  });
  const leases = settings.SHERIFF_RUNNER_TOKENS ? new GpuLeases(runtime.queues) : null;
  const runners = leases
    ? runnerApi(
        { leases, ledger: runtime.ledger, queues: runtime.queues, readToken: repositoryReadTokens(probot) },
        parseRunnerTokens(settings.SHERIFF_RUNNER_TOKENS!),
        probot.log,
      )
    : async () => false;
  await leases?.watchLapsed();
  const server = await listenForWebhooks(combineHandlers(runners, pages, countingWebhooks(handler, runtime.metrics, webhookPath)), {
    port,
    host,
  });
  probot.log.info(`Listening on ${serverUrl(server)}`);
  const retention = keepSamplesBounded(runtime, settings.SHERIFF_SAMPLE_RETENTION_DAYS);
  onShutdown(async () => {
    clearInterval(retention);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await leases?.close();
    await services.close();
    await runtime.close();
  });
}

const RETENTION_INTERVAL_MS = 6 * 3600 * 1000;

/** Reduces old samples now and every few hours; a failure is logged and retried at the next round. */
function keepSamplesBounded(runtime: Runtime, maxAgeDays: number): NodeJS.Timeout {
  const log = defaultLogger();
  const round = () =>
    reduceOldSamples(runtime, maxAgeDays).then(
      (runs) => runs > 0 && log.info({ runs, maxAgeDays }, "reduced the raw samples of old settled runs"),
      (err: Error) => log.warn({ err: err.message }, "sample retention failed; retrying at the next round"),
    );
  void round();
  const timer = setInterval(() => void round(), RETENTION_INTERVAL_MS);
  timer.unref();
  return timer;
}

async function worker(): Promise<void> {
  const settings = loadSettings();
  const log = defaultLogger();
  const runtime = await createRuntime(settings, log);
  const readToken = process.env.APP_ID ? repositoryReadTokens(createSheriffProbot()) : undefined;
  const gpus = await discoverGpus();
  const gpuWorker = startGpuWorker({
    queues: runtime.queues,
    ledger: runtime.ledger,
    cache: runtime.cache,
    runners: { command: runConfiguredCommand, builtin: createBuiltinRunner({ workDir: runtime.cache.workDir }) },
    log,
    gpus,
    slots: 1,
    ...(readToken ? { readToken } : {}),
    ...(settings.SHERIFF_HOST ? { host: settings.SHERIFF_HOST } : {}),
  });
  log.info(
    { prefix: settings.SHERIFF_PREFIX, gpus: gpus.map((g) => g.index) },
    gpus.length > 0 ? "GPU worker waiting for jobs, one per GPU" : "no GPU found: one job at a time on the CPU",
  );
  onShutdown(async () => {
    await gpuWorker.close();
    await runtime.close();
  });
}

/** A GPU host outside the app's trust boundary: it reaches the app over HTTP only. */
async function remoteRunner(): Promise<void> {
  const settings = loadRunnerSettings();
  const log = defaultLogger();
  const cache = new RepoCache(settings.SHERIFF_WORK_DIR);
  const gpus = await discoverGpus();
  const runner = startRemoteRunner({
    url: settings.SHERIFF_URL,
    token: settings.SHERIFF_RUNNER_TOKEN,
    cache,
    runners: { command: runConfiguredCommand, builtin: createBuiltinRunner({ workDir: cache.workDir }) },
    log,
    gpus,
  });
  log.info({ app: settings.SHERIFF_URL, gpus: gpus.map((g) => g.index) }, "GPU runner asking the app for jobs");
  onShutdown(() => runner.close());
}

/** One-off maintenance on the history database; prints what it did as JSON. */
async function maintain(command: "migrate" | "import-redis-ledger" | "reduce-samples"): Promise<number> {
  const settings = loadSettings();
  const runtime = await createRuntime(settings);
  try {
    const report =
      command === "migrate"
        ? { schema: runtime.db.schema, upToDate: true }
        : command === "import-redis-ledger"
          ? await importRedisLedger(runtime.store, runtime.db)
          : { reducedRuns: await reduceOldSamples(runtime, settings.SHERIFF_SAMPLE_RETENTION_DAYS), ...(await runtime.ledger.footprint()) };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case "start":
      await start();
      return -1;
    case "worker":
      await worker();
      return -1;
    case "runner":
      await remoteRunner();
      return -1;
    case "migrate":
    case "import-redis-ledger":
    case "reduce-samples":
      return maintain(command);
    case "run-suite":
      return (await import("../runner/suiteMain.js")).runSuiteCli(argv.slice(1));
    default:
      return usageAnswer(command, USAGE);
  }
}

runCommandLine(main);
