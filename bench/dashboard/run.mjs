// The dashboard's grid on a year of history: 50k landed commits over 10 suites (bench/scale's history),
// a page of 200 commits × 10 suites rendered by the app's own handler, over HTTP, newest and deep in the
// year, filtered by suite, author and path; and a commit page and a benchmark page.
//   npm run build && node bench/dashboard/run.mjs [--commits 50000] [--reps 20] [--json bench/dashboard/results-<date>.json]
// Needs PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test); the history lives in a
// schema bench_dashboard_<run id>, dropped at the end unless --keep.
import os from "node:os";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { connectDatabase, migrate } from "../../dist/adapters/store/database.js";
import { Ledger } from "../../dist/adapters/store/ledger.js";
import { DashboardStore } from "../../dist/adapters/store/dashboard.js";
import { dashboardHandler } from "../../dist/entry/dashboard/routes.js";
import { SessionCodec } from "../../dist/entry/dashboard/session.js";
import { jobId } from "../../dist/model/jobs.js";
import { benchConfig, buildHistory, quantile, REPO } from "../scale/lib.mjs";

function flag(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const DATABASE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const commits = Number(flag("commits", "50000"));
const reps = Number(flag("reps", "20"));
const here = new URL(".", import.meta.url).pathname;
const day = new Date().toISOString().slice(0, 10);
const out = flag("json", `${here}results-${day}.json`);
const schema = `bench_dashboard_${randomBytes(3).toString("hex")}`;
const r1 = (x) => Math.round(x * 10) / 10;

const db = connectDatabase(DATABASE_URL, { schema, max: 10 });
await migrate(db);
const built = performance.now();
const history = await buildHistory({ jobId }, db, { commits });
const buildSeconds = (performance.now() - built) / 1000;
await db.pool.query("ANALYZE");

// A public repository whose config opens its pages: the figures are the history's reads and the rendering.
const config = { ...benchConfig(), dashboard: { public: true } };
const github = {
  repoFacts: async () => ({ private: false, config }),
  canRead: async () => true,
  userLogin: async () => "bench",
};
const handler = dashboardHandler({
  store: new DashboardStore(db),
  ledger: new Ledger(db),
  github,
  publicUrl: "http://127.0.0.1",
  oauth: null,
  sessions: new SessionCodec("bench-dashboard-session-secret"),
  log: { warn: () => undefined, error: (e) => console.error(e) },
});
const server = createServer((req, res) => void handler(req, res).then((handled) => handled || res.writeHead(404).end()));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/sheriff/${REPO.owner}/${REPO.repo}`;

async function timePage(path) {
  const samples = [];
  let bytes = 0;
  let rows = 0;
  for (let i = 0; i < reps + 2; i++) {
    const t = performance.now();
    const response = await fetch(`${base}${path}`);
    const text = await response.text();
    const ms = performance.now() - t;
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    bytes = text.length;
    rows = (text.match(/<tr data-sha=/g) ?? []).length;
    if (i >= 2) samples.push(ms);
  }
  return { path, rows, bytes, medianMs: r1(quantile(samples, 0.5)), p95Ms: r1(quantile(samples, 0.95)), maxMs: r1(Math.max(...samples)) };
}

const mid = Math.floor(commits / 2);
const culprit = history.culprits[Math.floor(history.culprits.length / 2)];
const pages = {
  newest: await timePage("?limit=200"),
  midYear: await timePage(`?limit=200&before=${mid}`),
  oldest: await timePage("?limit=200&before=200"),
  bySuite: await timePage("?limit=200&suite=half-precision"),
  byAuthor: await timePage("?limit=200&author=carol"),
  byPath: await timePage("?limit=200&path=kernels/index-reduce/scatter.cu"),
  commitPageOfCulprit: await timePage(`/commit/${culprit}`),
  benchmarkPage: await timePage("/bench/half-precision"),
};
server.close();

const git = (args) => {
  try {
    return execFileSync("git", args, { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
};
const pg = (await db.pool.query("SHOW server_version")).rows[0].server_version;
const results = {
  date: new Date().toISOString(),
  commit: process.env.BENCH_COMMIT ?? git(["rev-parse", "--short", "HEAD"]),
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()}`,
    // Other work on the machine while measuring (1, 5 and 15 minute load averages at the end).
    loadAverage: os.loadavg().map(r1), node: process.version, postgres: pg },
  history: { commits, suites: 10, rows: history.rows, buildSeconds: r1(buildSeconds) },
  repetitions: reps,
  target: "a grid page of 200 commits × 10 suites under 1000 ms",
  pages,
};
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
if (!process.argv.includes("--keep")) await db.pool.query(`DROP SCHEMA ${schema} CASCADE`);
await db.close();
