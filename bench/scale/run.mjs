// Sheriff at a year of landed commits: per-result, check-run and explain cost, database bytes per
// commit, and push webhook -> GPU job queued latency, at 1k, 10k and 50k landed commits over 10 suites.
//   npm run build && node bench/scale/run.mjs [--sizes 1000,10000,50000] [--reps 20] [--webhook-sizes 1000,50000]
//       [--steady 60] [--burst 200] [--keep] [--no-webhook] [--json bench/scale/results-<date>.json]
// Needs PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test) and Redis
// (REDIS_URL, default redis://127.0.0.1:6379). Each size gets its own schema bench_scale_<size>_<run id>,
// dropped at the end unless --keep. See README.md for what each figure means and the targets.
import os from "node:os";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { Redis } from "ioredis";
import { connectDatabase, migrate } from "../../dist/adapters/store/database.js";
import { Ledger } from "../../dist/adapters/store/ledger.js";
import { advanceSuiteWindow, engineInput } from "../../dist/flows/analyze.js";
import { decide } from "../../dist/core/verdict/engine.js";
import { commitCheckRun, suitesWithJobsAt } from "../../dist/core/summary.js";
import { explainReply } from "../../dist/core/revert/messages.js";
import { jobId } from "../../dist/model/jobs.js";
import { ConfigCache } from "../../dist/adapters/github/config.js";
import { measureBytes, measureCheckRun, measureExplain, measurePerResult, prepareHistory } from "./lib.mjs";

const api = {
  connectDatabase,
  migrate,
  Ledger,
  engineInput,
  decide,
  advanceSuiteWindow,
  commitCheckRun,
  suitesWithJobsAt,
  explainReply,
  jobId,
  ConfigCache,
};

function flag(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const has = (name) => process.argv.includes(`--${name}`);

const DATABASE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const day = new Date().toISOString().slice(0, 10);
const here = new URL(".", import.meta.url).pathname;
const sizes = flag("sizes", "1000,10000,50000").split(",").map(Number);
const reps = Number(flag("reps", "20"));
const webhookSizes = has("no-webhook") ? [] : flag("webhook-sizes", "1000,50000").split(",").map(Number);
const steady = Number(flag("steady", "60"));
const burst = Number(flag("burst", "200"));
const out = flag("json", `${here}results-${day}.json`);
const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const runId = randomBytes(3).toString("hex");

async function environment() {
  const db = connectDatabase(DATABASE_URL, { max: 1 });
  const pgVersion = (await db.pool.query("SHOW server_version")).rows[0].server_version;
  await db.close();
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1];
  await redis.quit();
  // BENCH_COMMIT names the commit when running from an export of it (no .git there, nothing uncommitted).
  const git = (args) => {
    try {
      return execFileSync("git", args, { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  return {
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()}`,
    },
    node: process.version,
    postgres: pgVersion,
    redis: redisVersion,
    date: new Date().toISOString(),
    argv: process.argv.slice(2),
    commit: process.env.BENCH_COMMIT ?? git(["rev-parse", "HEAD"]),
    commitSubject: git(["log", "-1", "--format=%s"]).slice(0, 160),
    // dist/ is built from the working tree, which may hold others' uncommitted edits.
    uncommittedSrc: git(["status", "--porcelain", "--", "../../src", "../../migrations"]).split("\n").filter(Boolean),
    note: "2 CPU cores shared by PostgreSQL, Redis and this process; other work may have run on the machine at the same time.",
  };
}

const report = { environment: await environment(), sizes: {}, webhook: {} };
const save = () => writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report.environment));

const histories = new Map();
for (const commits of sizes) {
  // A suffix per run: two runs at once (other sessions share the database) must not share a schema.
  const schema = `bench_scale_${commits >= 1000 && commits % 1000 === 0 ? `${commits / 1000}k` : commits}_${runId}`;
  const ctx = await prepareHistory(api, { databaseUrl: DATABASE_URL, schema, commits, log });
  console.log(
    JSON.stringify({
      commits,
      schema,
      build: { seconds: ctx.built.seconds, insertSeconds: ctx.built.insertSeconds, rows: ctx.built.rows },
    }),
  );
  const bytes = await measureBytes(ctx.db, commits);
  console.log(JSON.stringify({ commits, bytesPerCommit: bytes.perCommit, totalMiB: +(bytes.totalBytes / 2 ** 20).toFixed(1) }));
  const t = performance.now();
  const perResult = await measurePerResult(api, ctx, { repetitions: reps });
  console.log(
    JSON.stringify({
      commits,
      perResult: perResult.summary,
      decisions: perResult.decisions,
      seconds: +((performance.now() - t) / 1000).toFixed(1),
    }),
  );
  const checkRun = await measureCheckRun(api, ctx, { repetitions: reps });
  console.log(JSON.stringify({ commits, checkRun: checkRun.summary }));
  const explain = await measureExplain(api, ctx, { repetitions: reps });
  console.log(JSON.stringify({ commits, explain: explain.summary }));
  report.sizes[commits] = {
    schema,
    loadAverageAfter: os.loadavg().map((x) => +x.toFixed(2)),
    build: { seconds: ctx.built.seconds, insertSeconds: ctx.built.insertSeconds, rows: ctx.built.rows },
    perResult: {
      ...perResult.summary,
      decisionTypes: perResult.decisions,
      inputHasCarry: perResult.inputHasCarry,
      windowWired: perResult.windowWired,
      repetitions: reps,
    },
    checkRun: { ...checkRun.summary, repetitions: reps },
    explain: { ...explain.summary, repetitions: reps },
    bytes,
  };
  save();
  histories.set(commits, ctx);
}

if (webhookSizes.length > 0) {
  const { measureWebhook } = await import("./webhook.mjs");
  for (const commits of webhookSizes) {
    const ctx = histories.get(commits);
    if (!ctx) throw new Error(`--webhook-sizes ${commits} needs that size in --sizes`);
    const loadBefore = os.loadavg().map((x) => +x.toFixed(2));
    const figures = await measureWebhook({ ctx, redisUrl: REDIS_URL, steady, burst, log });
    // Other processes on the 2 cores (load average over 1, 5, 15 minutes) stretch these latencies.
    report.webhook[commits] = { loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg().map((x) => +x.toFixed(2)), ...figures };
    console.log(JSON.stringify({ commits, webhook: report.webhook[commits] }));
    save();
  }
}

report.targets = targets(report);
save();
console.log(JSON.stringify({ targets: report.targets }));
for (const ctx of histories.values()) {
  if (!has("keep")) await ctx.drop();
  await ctx.db.close();
}
console.log(`wrote ${out}`);

function targets(r) {
  const rows = [];
  const small = r.sizes[Math.min(...Object.keys(r.sizes).map(Number))];
  const large = r.sizes[Math.max(...Object.keys(r.sizes).map(Number))];
  if (small && large && small !== large) {
    const ratio = large.perResult.cpuMs.median / small.perResult.cpuMs.median;
    rows.push({
      target: "per-result CPU at the largest history within 1.5x of the smallest",
      value: +ratio.toFixed(2),
      pass: ratio <= 1.5,
    });
    const trips = large.perResult.roundTrips.median / small.perResult.roundTrips.median;
    rows.push({
      target: "per-result round trips at the largest history within 1.5x of the smallest",
      value: +trips.toFixed(2),
      pass: trips <= 1.5,
    });
  }
  for (const [commits, w] of Object.entries(r.webhook)) {
    rows.push({
      target: `${commits} commits: steady push -> GPU job queued p99 < 100 ms`,
      value: w.steady.p99Ms,
      pass: w.steady.p99Ms < 100,
    });
    rows.push({
      target: `${commits} commits: burst of ${w.burst.pushes} pushes drained >= 10 pushes/s`,
      value: w.burst.pushesPerSecond,
      pass: w.burst.pushesPerSecond >= 10,
    });
  }
  return rows;
}
