// The scale benchmark's parts that need no process of their own: a year-sized history written
// straight into the migrated schema by bulk SQL, and the per-event costs measured on it.
// Every function takes the Sheriff modules it uses as `api`, so run.mjs passes the compiled
// dist/ and test/bench/scale.test.ts passes src/ (the test then needs no build).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const GPU_JOBS = new URL("../gpu-jobs/2026-11-25-h100/", import.meta.url);
const BUILTINS = ["varlen-attention", "index-reduce", "half-precision", "cuda-events"];

/** Ten suites, each timing and checking like one of the four built-in kernel suites whose real H100 results serve as templates. */
export const SUITES = [
  "varlen-attention",
  "index-reduce",
  "half-precision",
  "cuda-events",
  "paged-decode",
  "index-reduce-hot",
  "conversions-unaligned",
  "cuda-events-sync",
  "varlen-attention-d256",
  "gqa-decode",
].map((name, i) => ({ name, builtin: BUILTINS[i % BUILTINS.length] }));

export const REPO = {
  owner: "bench",
  repo: "kernels",
  installationId: 4243,
  cloneUrl: "http://127.0.0.1:1/bench/kernels.git",
  branch: "main",
};
export const REPO_KEY = `${REPO.owner}/${REPO.repo}`;
const BRANCH = REPO.branch;
/** Landing rate of the histories: the middle of 100-300 commits a day. */
export const COMMITS_PER_DAY = 200;

const THRESHOLDS = { slowdown: 0.05, pValue: 0.01, retries: 1, flakeRisk: 0.00001 };

/** The parsed config of the benchmark repository (what parseConfig gives for sheriffYaml()). */
export function benchConfig(suites = SUITES) {
  return {
    branches: [],
    runner: { mode: "queue", workflow: "post-land-gpu.yml" },
    policy: { autoRevert: "shadow", maxAutoRevertsPerDay: 3 },
    suites: suites.map((s) => ({
      name: s.name,
      kind: "builtin",
      builtin: s.builtin,
      paths: [`kernels/${s.name}/**`],
      timeoutSeconds: 1800,
      thresholds: { ...THRESHOLDS },
    })),
  };
}

/** The same config as .github/sheriff.yml text. */
export function sheriffYaml(suites = SUITES) {
  const lines = ["policy:", "  autoRevert: shadow", "  maxAutoRevertsPerDay: 3", "suites:"];
  for (const s of suites)
    lines.push(`  - name: ${s.name}`, "    kind: builtin", `    builtin: ${s.builtin}`, `    paths: ["kernels/${s.name}/**"]`);
  return `${lines.join("\n")}\n`;
}

function readTemplate(name) {
  return JSON.parse(readFileSync(new URL(name, GPU_JOBS), "utf8"));
}

/** The committed real GPU results, one passing template per built-in suite and the failing half-precision one. */
export function loadTemplates() {
  const pass = Object.fromEntries(BUILTINS.map((b) => [b, readTemplate(`head-a2149c5-${b}.json`)]));
  const failing = readTemplate("bf16-truncation-0b44979-half-precision.json");
  return { pass, failing };
}

/** mulberry32: the histories are the same for the same seed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shaFrom(rng) {
  let s = "";
  for (let i = 0; i < 5; i++) s += ((rng() * 2 ** 32) >>> 0).toString(16).padStart(8, "0");
  return s;
}

const jitter = (rng, x, spread) => Math.fround(x * (1 - spread + 2 * spread * rng()));

/**
 * A result of `suite` at `sha` shaped like the template (same tests, benchmarks and raw CUDA-event
 * sample counts), its numbers varied: timings by ±2%, errors under tolerance, durations by ±10%.
 */
export function makeResult(templates, suite, sha, at, rng, failing = false) {
  const tpl = templates.pass[suite.builtin];
  const started = new Date(at.getTime() - 60_000 - Math.floor(rng() * 240_000));
  const failAt = failing ? Math.floor(rng() * tpl.tests.length) : -1;
  const failure = templates.failing.tests.find((t) => t.outcome === "fail");
  const tests = tpl.tests.map((t, i) => {
    const out = { ...t };
    if (typeof t.maxError === "number" && t.maxError > 0) out.maxError = jitter(rng, t.maxError, 0.2);
    if (typeof t.durationMs === "number") out.durationMs = t.durationMs * (0.9 + 0.2 * rng());
    if (i === failAt) {
      out.outcome = "fail";
      out.maxError = failure.maxError ?? 1;
      out.message = failure.message;
    }
    return out;
  });
  const benchmarks = tpl.benchmarks.map((b) => ({
    ...b,
    samples: b.samples.map((s) => jitter(rng, s, 0.02)),
    ...(b.reference ? { reference: { ...b.reference, samples: b.reference.samples.map((s) => jitter(rng, s, 0.02)) } } : {}),
  }));
  const { runner, ...env } = tpl.environment;
  return {
    schema: tpl.schema,
    suite: suite.name,
    commit: sha,
    status: "completed",
    startedAt: started.toISOString(),
    finishedAt: at.toISOString(),
    tests,
    benchmarks,
    environment: { ...env, commit: sha, executor: runner ?? "cuda", gpuIndex: Math.floor(rng() * 8) },
    ...(tpl.log ? { log: tpl.log } : {}),
  };
}

const AUTHORS = ["alice", "bob", "carol", "dmitri", "eun-ji", "farah", "gustavo", "hana", "ivan", "jun", "kofi", "lena", "mateo", "nadia"];
const VERBS = ["Vectorise", "Fuse", "Tune", "Fix", "Split", "Unroll", "Pipeline", "Cache", "Inline", "Refactor"];

/**
 * Writes a history of `commits` landed commits into the (migrated, empty) schema of `db` by
 * multi-row INSERT ... SELECT FROM jsonb_to_recordset in batches, as the app would have recorded
 * it: per landed commit a `landed` job and run for each suite it touches (10% touch none, then 1, 2
 * or 3 suites), its timeline notes (landed, job queued, result) and check run; 1.5% of landed runs
 * fail once, get a retry at the commit, and are flaky (70%: flaky verdict) or a regression (retry at
 * the last good commit, two bisect runs, a regression verdict, a shadow-mode revert record, and a
 * revert commit landing next); a comment command every 150 commits, a rebaseline every 2,500.
 * Returns what the measurements need (the landed shas with suites, the culprits) and counts.
 */
export async function buildHistory(api, db, options) {
  const { commits: total, seed = 1, batch = 1000, runBatch = 400 } = options;
  const suites = options.suites ?? SUITES;
  const templates = loadTemplates();
  const rng = prng(seed);
  const q = (text, values) => db.pool.query(text, values);
  const started = performance.now();
  const end = options.end ?? new Date();
  const step = 86_400_000 / COMMITS_PER_DAY;
  const t0 = end.getTime() - total * step;

  const buf = { commits: [], jobs: [], runs: [], timeline: [], checks: [], verdicts: [], reverts: [], commands: [], rebaselines: [] };
  const counts = { commits: 0, jobs: 0, runs: 0, timeline: 0, check_runs: 0, verdicts: 0, reverts: 0, commands: 0, rebaselines: 0 };
  const revertDays = new Map();
  let pending = Promise.resolve();

  const insert = (table, columns, rows) => {
    if (rows.length === 0) return;
    counts[table] += rows.length;
    const names = columns.map((c) => c.split(" ")[0]);
    const payload = JSON.stringify(rows);
    pending = pending.then(() =>
      q(
        `INSERT INTO ${table} (repo, ${names.join(", ")}) SELECT $1, ${names.join(", ")} FROM jsonb_to_recordset($2::jsonb) AS r(${columns.join(", ")})`,
        [REPO_KEY, payload],
      ),
    );
  };
  const COLUMNS = {
    commits: [
      "branch text",
      "seq bigint",
      "sha text",
      "parent text",
      "title text",
      "author text",
      "suites text[]",
      "is_revert boolean",
      "landed_at timestamptz",
    ],
    jobs: [
      "id text",
      "sha text",
      "suite text",
      "purpose text",
      "job jsonb",
      "state text",
      "enqueued_at timestamptz",
      "updated_at timestamptz",
    ],
    runs: ["job_id text", "suite text", "sha text", "purpose text", "job jsonb", "result jsonb", "recorded_at timestamptz"],
    timeline: ["at timestamptz", "kind text", "text text", "sha text", "suite text"],
    check_runs: ["sha text", "check_run_id bigint"],
    verdicts: ["type text", "suite text", "sha text", "decision jsonb", "at timestamptz"],
    reverts: ["culprit text", "suite text", "outcome text", "original_pr integer", "revert_pr integer", "record jsonb", "at timestamptz"],
    commands: [
      "comment_id bigint",
      "position integer",
      "pr integer",
      "name text",
      "requested_by text",
      "status text",
      "reply text",
      "at timestamptz",
    ],
    rebaselines: ["suite text", "sha text", "reason text", "by_login text", "at timestamptz"],
  };
  const flush = async (force) => {
    // Order matters within a table only (ord is arrival order); jobs before runs keeps it like the app.
    if (force || buf.commits.length >= batch) {
      insert("commits", COLUMNS.commits, buf.commits.splice(0));
      insert("check_runs", COLUMNS.check_runs, buf.checks.splice(0));
    }
    if (force || buf.jobs.length >= batch) insert("jobs", COLUMNS.jobs, buf.jobs.splice(0));
    if (force || buf.runs.length >= runBatch) {
      insert("runs", COLUMNS.runs, buf.runs.splice(0));
      // One batch in flight at a time while the next is generated: bounded memory, both cores busy.
      await pending;
    }
    if (force || buf.timeline.length >= batch * 4) insert("timeline", COLUMNS.timeline, buf.timeline.splice(0));
    if (force) {
      insert("verdicts", COLUMNS.verdicts, buf.verdicts.splice(0));
      insert("reverts", COLUMNS.reverts, buf.reverts.splice(0));
      insert("commands", COLUMNS.commands, buf.commands.splice(0));
      insert("rebaselines", COLUMNS.rebaselines, buf.rebaselines.splice(0));
      await pending;
    }
  };

  const at = (ms) => new Date(ms);
  const iso = (ms) => new Date(ms).toISOString();
  const lastLanded = new Map(); // suite -> sha of its newest landed run
  const landed = []; // { sha, suites, pr }
  const culprits = [];
  let parent = shaFrom(rng);
  let seq = 0;
  let checkRunId = 9_000_000;
  let commentId = 5_000_000;
  let revertNext = null; // { culprit, title, suite }

  const attempts = new Map();
  const addJob = (sha, suite, purpose, firstAttempt, whenMs, failing = false) => {
    const key = `${sha}.${suite.name}.${purpose}`;
    const attempt = Math.max(firstAttempt, attempts.get(key) ?? 0);
    attempts.set(key, attempt + 1);
    const job = { sha, suite: suite.name, purpose, attempt };
    const id = api.jobId(job);
    const doneMs = whenMs + 15 * 60_000 + Math.floor(rng() * 30 * 60_000);
    buf.jobs.push({ id, sha, suite: suite.name, purpose, job, state: "done", enqueued_at: iso(whenMs), updated_at: iso(doneMs) });
    buf.timeline.push({ at: iso(whenMs), kind: "job", text: `queued ${purpose} job ${id}`, sha, suite: suite.name });
    const result = makeResult(templates, suite, sha, at(doneMs), rng, failing);
    buf.runs.push({ job_id: id, suite: suite.name, sha, purpose, job, result, recorded_at: iso(doneMs) });
    const bad = result.tests.filter((t) => t.outcome !== "pass" && t.outcome !== "skip").length;
    buf.timeline.push({
      at: iso(doneMs),
      kind: "result",
      text: `${purpose} #${attempt}: completed, ${bad} failing of ${result.tests.length}`,
      sha,
      suite: suite.name,
    });
    return { result, doneMs };
  };

  for (let i = 0; i < total; i++) {
    const whenMs = t0 + i * step + Math.floor(rng() * step * 0.5);
    const sha = shaFrom(rng);
    const pr = 1000 + i;
    let touched;
    let title;
    let isRevert = false;
    if (revertNext) {
      touched = [revertNext.suite];
      title = `Revert "${revertNext.title}"`;
      isRevert = true;
      revertNext = null;
    } else {
      const r = rng();
      const n = r < 0.1 ? 0 : r < 0.55 ? 1 : r < 0.85 ? 2 : 3;
      const picked = new Set();
      while (picked.size < n) picked.add(suites[Math.floor(rng() * suites.length)]);
      touched = [...picked];
      title = `${VERBS[Math.floor(rng() * VERBS.length)]} ${touched[0]?.name ?? "docs"} (#${pr})`;
    }
    const author = AUTHORS[Math.floor(rng() * AUTHORS.length)];
    buf.commits.push({
      branch: BRANCH,
      seq: seq++,
      sha,
      parent,
      title,
      author,
      suites: touched.map((s) => s.name),
      is_revert: isRevert,
      landed_at: iso(whenMs),
    });
    buf.timeline.push({
      at: iso(whenMs),
      kind: "landed",
      text: `${title} (suites: ${touched.map((s) => s.name).join(", ") || "none"})`,
      sha,
      suite: null,
    });
    if (touched.length > 0) buf.checks.push({ sha, check_run_id: checkRunId++ });
    landed.push({ sha, suites: touched.map((s) => s.name), pr });

    for (const suite of touched) {
      const lastGood = lastLanded.get(suite.name);
      const failing = !isRevert && lastGood !== undefined && rng() < 0.015;
      const { doneMs } = addJob(sha, suite, "landed", 0, whenMs + 1000, failing);
      lastLanded.set(suite.name, sha);
      if (!failing) continue;
      const failed = buf.runs.at(-1).result.tests.find((t) => t.outcome === "fail");
      // At most one regression per commit: its revert record is keyed by the culprit.
      const regression = rng() < 0.3 && revertNext === null;
      // As the engine asks: a retry at the commit and at the last good one.
      addJob(sha, suite, "retry", 1, doneMs + 1000, regression);
      addJob(lastGood, suite, "retry", 1, doneMs + 1000);
      const decidedMs = doneMs + 3_600_000;
      if (!regression) {
        const decision = {
          type: "flaky",
          suite: suite.name,
          sha,
          tests: [failed.name],
          summary: `${failed.name} failed once and passed on retry at ${sha.slice(0, 7)}`,
        };
        buf.verdicts.push({ type: "flaky", suite: suite.name, sha, decision, at: iso(decidedMs) });
        buf.timeline.push({ at: iso(decidedMs), kind: "flaky", text: decision.summary, sha, suite: suite.name });
        continue;
      }
      const earlier = landed
        .slice(-8, -1)
        .filter((c) => c.suites.includes(suite.name))
        .slice(-2);
      for (const c of earlier) addJob(c.sha, suite, "bisect", 1, doneMs + 2000);
      const summary = `\`${failed.name}\` fails at ${sha.slice(0, 7)} (passes at ${lastGood.slice(0, 7)}): ${failed.message}`;
      const decision = {
        type: "regression",
        suite: suite.name,
        kind: "correctness",
        culprit: sha,
        lastGood,
        failingTests: [{ name: failed.name, message: failed.message }],
        benchmarks: [],
        summary,
        investigation: `${suite.name}.${sha.slice(0, 12)}`,
        range: { from: lastGood, to: sha, suspects: 1 },
      };
      buf.verdicts.push({ type: "regression", suite: suite.name, sha, decision, at: iso(decidedMs) });
      buf.timeline.push({ at: iso(decidedMs), kind: "regression", text: summary, sha, suite: suite.name });
      const record = {
        culprit: sha,
        suite: suite.name,
        outcome: "commented",
        reason: "shadow mode: autoRevert is shadow",
        summary,
        at: iso(decidedMs),
        originalPr: pr,
      };
      buf.reverts.push({
        culprit: sha,
        suite: suite.name,
        outcome: "commented",
        original_pr: pr,
        revert_pr: null,
        record,
        at: iso(decidedMs),
      });
      buf.timeline.push({ at: iso(decidedMs), kind: "revert", text: `commented: ${record.reason}`, sha, suite: suite.name });
      const day = iso(decidedMs).slice(0, 10);
      revertDays.set(day, (revertDays.get(day) ?? 0) + 1);
      culprits.push(sha);
      revertNext = { culprit: sha, title, suite };
    }
    if (i % 150 === 75) {
      const name = rng() < 0.5 ? "explain" : "rerun";
      buf.commands.push({
        comment_id: commentId++,
        position: 0,
        pr,
        name,
        requested_by: author,
        status: "replied",
        reply: `${name} handled`,
        at: iso(whenMs + 600_000),
      });
    }
    if (i % 2500 === 1250 && touched.length > 0) {
      buf.rebaselines.push({ suite: touched[0].name, sha, reason: "new GPU driver", by_login: author, at: iso(whenMs + 900_000) });
    }
    parent = sha;
    await flush(false);
  }
  await flush(true);
  if (revertDays.size > 0) {
    await q(
      "INSERT INTO revert_days (repo, day, count) SELECT $1, day, count FROM jsonb_to_recordset($2::jsonb) AS r(day date, count integer)",
      [REPO_KEY, JSON.stringify([...revertDays].map(([day, count]) => ({ day, count })))],
    );
  }
  await q("INSERT INTO branches (repo, branch, head, next_seq) VALUES ($1, $2, $3, $4)", [REPO_KEY, BRANCH, parent, seq]);
  const insertSeconds = (performance.now() - started) / 1000;
  // Autovacuum would have analysed tables this size long ago; without it the planner guesses.
  await q("ANALYZE");
  return {
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    insertSeconds: +insertSeconds.toFixed(1),
    rows: { ...counts, revert_days: revertDays.size },
    head: parent,
    landed,
    culprits,
  };
}

/** A Database whose pool and pooled clients count every query (BEGIN and COMMIT included): one round trip each. */
export function countingDatabase(db) {
  const counter = { queries: 0, ms: 0 };
  const timed = (target, args) => {
    counter.queries++;
    const t = performance.now();
    const done = () => (counter.ms += performance.now() - t);
    const answer = target.query(...args);
    answer?.then?.(done, done);
    return answer;
  };
  const wrapClient = (client) =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === "query") return (...args) => timed(target, args);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const pool = new Proxy(db.pool, {
    get(target, prop) {
      if (prop === "query") return (...args) => timed(target, args);
      if (prop === "connect") return async () => wrapClient(await target.connect());
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: { ...db, pool }, counter };
}

/** What engineInput needs of PipelineDeps; the parts it must not touch throw, so a change that needs more shows up here. */
export function engineDeps(api, ledger, log) {
  const untouched = (name) =>
    new Proxy(
      {},
      {
        get(_, prop) {
          if (prop === "then") return undefined;
          throw new Error(`the benchmark's PipelineDeps has no ${name}.${String(prop)}; engineInput now needs it`);
        },
      },
    );
  return {
    ledger,
    parallelism: 1,
    engine: api.decide,
    log,
    configs: new api.ConfigCache(),
    access: untouched("access"),
    queues: untouched("queues"),
    cache: untouched("cache"),
  };
}

export function quantile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const r3 = (x) => +x.toFixed(3);

/** Median and p95 of each numeric field of the samples. */
export function summarize(samples) {
  const keys = Object.keys(samples[0] ?? {}).filter((k) => typeof samples[0][k] === "number");
  return Object.fromEntries(
    keys.map((k) => {
      const values = samples.map((s) => s[k]);
      return [
        k,
        { median: r3(quantile(values, 0.5)), p95: r3(quantile(values, 0.95)), min: r3(Math.min(...values)), max: r3(Math.max(...values)) },
      ];
    }),
  );
}

function cpuMs(usage) {
  return (usage.user + usage.system) / 1000;
}

/** Measures `work` (CPU of this process, wall time, database round trips), returning its value too. */
async function measured(counter, work) {
  counter.queries = 0;
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await work();
  return { value, cpuMs: cpuMs(process.cpuUsage(cpu)), wallMs: performance.now() - t, roundTrips: counter.queries };
}

/**
 * One analysed result, as the app handles it: `recordRun` of a new `landed` run at a freshly landed
 * commit (its landing and job are recorded first, not measured: that is intake's work), then the
 * engine input load for its suite and `decide`. `warmup` repetitions run first and are not kept.
 */
export async function measurePerResult(api, ctx, { repetitions, warmup = SUITES.length, seed = 99 }) {
  const { ledger, counter, deps, templates, config } = ctx;
  const rng = prng(seed);
  const samples = [];
  const shapes = [];
  let head = ctx.head;
  // Steady state first: every suite's open work done, as GPUs would have done it, and its window folded.
  for (const suite of SUITES) await settleSuite(api, ctx, suite, rng);
  for (let i = 0; i < warmup + repetitions; i++) {
    const suite = SUITES[i % SUITES.length];
    const sha = shaFrom(rng);
    await ledger.recordCommits(REPO_KEY, BRANCH, [
      { sha, parent: head, title: `Bench commit ${i}`, author: "bench", suites: [suite.name], isRevert: false },
    ]);
    head = sha;
    const job = { sha, suite: suite.name, purpose: "landed", attempt: 0 };
    await ledger.recordJobQueued(REPO_KEY, job);
    const run = { job, result: makeResult(templates, suite, sha, new Date(), rng) };
    const record = await measured(counter, () => ledger.recordRun(REPO_KEY, run));
    const load = await measured(counter, () => api.engineInput(deps, REPO, config, suite.name));
    const input = load.value.input;
    const decide = await measured(counter, async () => api.decide(input));
    // What analyzeSuite does after carrying out the decisions: fold what is settled into the suite's window.
    const advance = await measured(counter, () => api.advanceSuiteWindow(deps, REPO, suite.name, load.value));
    await carryOut(ctx, suite, decide.value, rng);
    if (i < warmup) continue;
    samples.push({
      cpuMs: record.cpuMs + load.cpuMs + decide.cpuMs + advance.cpuMs,
      wallMs: record.wallMs + load.wallMs + decide.wallMs + advance.wallMs,
      roundTrips: record.roundTrips + load.roundTrips + decide.roundTrips + advance.roundTrips,
      recordRunCpuMs: record.cpuMs,
      recordRunRoundTrips: record.roundTrips,
      loadCpuMs: load.cpuMs,
      loadWallMs: load.wallMs,
      loadRoundTrips: load.roundTrips,
      decideCpuMs: decide.cpuMs,
      advanceCpuMs: advance.cpuMs,
      advanceRoundTrips: advance.roundTrips,
      commitsInInput: input.commits.length,
      runsInInput: input.runs.length,
      // The app records each flaky/regression decision (a transaction, ON CONFLICT DO NOTHING) and dispatches each run: more round trips after decide.
      decisions: decide.value.length,
      verdictDecisions: decide.value.filter((d) => d.type !== "run").length,
    });
    shapes.push({
      suite: suite.name,
      decisions: decide.value.map((d) => d.type),
      carry: input.carry !== undefined,
      windowed: load.value.window !== undefined,
    });
  }
  ctx.head = head;
  return {
    summary: summarize(samples),
    decisions: countBy(shapes.flatMap((s) => s.decisions)),
    inputHasCarry: shapes.some((s) => s.carry),
    windowWired: shapes.some((s) => s.windowed),
    samples,
  };
}

/**
 * Carries out decisions as the app and its GPUs would: each `run` job runs and passes (a healthy
 * commit, like most of the history), each verdict is recorded. Not measured: it is the GPU side's
 * and the verdict step's work.
 */
async function carryOut(ctx, suite, decisions, rng) {
  for (const d of decisions) {
    if (d.type === "report") {
      // What analyzeSuite does with a report: a timeline note, kept once per commit, kind and text.
      await ctx.ledger.noteAll(REPO_KEY, [{ kind: `report:${d.kind}`, sha: d.sha, suite: d.suite, text: d.summary }]);
      continue;
    }
    if (d.type !== "run") {
      // What analyzeSuite records for a verdict (a regression is then declared and not decided again).
      await ctx.ledger.recordVerdict(REPO_KEY, d);
      continue;
    }
    await ctx.ledger.recordJobQueued(REPO_KEY, d.job);
    const result = makeResult(ctx.templates, suite, d.job.sha, new Date(), rng);
    const baseline = d.job.baselineSha ? { baselineResult: makeResult(ctx.templates, suite, d.job.baselineSha, new Date(), rng) } : {};
    await ctx.ledger.recordRun(REPO_KEY, { job: d.job, result, ...baseline });
  }
  return decisions.some((d) => d.type === "run");
}

/** Analyses one suite as the app does after each result until it asks for nothing more, advancing its window each time. */
async function settleSuite(api, ctx, suite, rng) {
  for (let round = 0; round < 30; round++) {
    const read = await api.engineInput(ctx.deps, REPO, ctx.config, suite.name);
    const decisions = api.decide(read.input);
    await api.advanceSuiteWindow(ctx.deps, REPO, suite.name, read);
    if (!(await carryOut(ctx, suite, decisions, rng))) return;
  }
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** refreshCheckRun without the GitHub call: jobsAt and verdictsAt together, runsAt, then commitCheckRun, for landed commits of the history. */
export async function measureCheckRun(api, ctx, { repetitions, warmup = 2, seed = 7 }) {
  const { ledger, counter } = ctx;
  const rng = prng(seed);
  const covered = ctx.landed.filter((c) => c.suites.length > 0);
  const samples = [];
  for (let i = 0; i < warmup + repetitions; i++) {
    // Every fourth one a culprit, so the verdict rows are read too.
    const sha =
      i % 4 === 3 && ctx.culprits.length > 0
        ? ctx.culprits[Math.floor(rng() * ctx.culprits.length)]
        : covered[Math.floor(rng() * covered.length)].sha;
    const m = await measured(counter, async () => {
      const [jobs, verdicts] = await Promise.all([ledger.jobsAt(REPO_KEY, sha), ledger.verdictsAt(REPO_KEY, sha)]);
      const runs = await ledger.runsAt(REPO_KEY, sha, api.suitesWithJobsAt(sha, jobs));
      return api.commitCheckRun(sha, jobs, runs, verdicts);
    });
    if (i >= warmup) samples.push({ cpuMs: m.cpuMs, wallMs: m.wallMs, roundTrips: m.roundTrips, textChars: m.value.summary.text.length });
  }
  return { summary: summarize(samples) };
}

/** The explain command's ledger reads (timelineAt and revertsOf together) and explainReply, for landed PRs of the history. */
export async function measureExplain(api, ctx, { repetitions, warmup = 2, seed = 11 }) {
  const { ledger, counter } = ctx;
  const rng = prng(seed);
  const samples = [];
  for (let i = 0; i < warmup + repetitions; i++) {
    // Every fourth one a culprit's PR, so a revert record is read too.
    const culprit = i % 4 === 3 && ctx.culprits.length > 0 ? ctx.culprits[Math.floor(rng() * ctx.culprits.length)] : null;
    const commit = culprit ? ctx.landed.find((c) => c.sha === culprit) : ctx.landed[Math.floor(rng() * ctx.landed.length)];
    const pull = { headSha: shaFrom(rng), mergeSha: commit.sha };
    const m = await measured(counter, async () => {
      const shas = [pull.headSha, pull.mergeSha];
      const [timeline, reverts] = await Promise.all([ledger.timelineAt(REPO_KEY, shas), ledger.revertsOf(REPO_KEY, shas)]);
      return api.explainReply(commit.pr, pull, timeline, reverts);
    });
    if (i >= warmup) samples.push({ cpuMs: m.cpuMs, wallMs: m.wallMs, roundTrips: m.roundTrips, replyChars: m.value.length });
  }
  return { summary: summarize(samples) };
}

/** pg_total_relation_size (heap, TOAST, indexes) of every table of the schema, in total and per landed commit. */
export async function measureBytes(db, landedCommits) {
  const rows = await db.pool.query(
    `SELECT c.relname AS table, pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap,
            pg_indexes_size(c.oid) AS indexes, coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> 'pgmigrations' ORDER BY pg_total_relation_size(c.oid) DESC`,
    [db.schema],
  );
  const tables = {};
  let total = 0;
  for (const r of rows.rows) {
    total += Number(r.total);
    tables[r.table] = {
      bytes: Number(r.total),
      heap: Number(r.heap),
      toast: Number(r.toast),
      indexes: Number(r.indexes),
      perCommit: Math.round(Number(r.total) / landedCommits),
    };
  }
  return { totalBytes: total, perCommit: Math.round(total / landedCommits), tables };
}

/** A history of `commits` in its own migrated schema of `databaseUrl`, with the counting ledger and deps the measurements use. */
export async function prepareHistory(api, { databaseUrl, schema, commits, seed = 1, log }) {
  const db = api.connectDatabase(databaseUrl, { schema, max: 5 });
  await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await api.migrate(db);
  const built = await buildHistory(api, db, { commits, seed });
  const { db: counted, counter } = countingDatabase(db);
  const ledger = new api.Ledger(counted);
  return {
    db,
    schema,
    built,
    ledger,
    counter,
    deps: engineDeps(api, ledger, log),
    templates: loadTemplates(),
    config: benchConfig(),
    head: built.head,
    landed: built.landed,
    culprits: built.culprits,
    async drop() {
      await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}
