// Push webhook -> GPU job queued, with one app process wired as in production (Probot verifying
// signatures, BullMQ on Redis, the control worker, git fetches and API calls over HTTP to the GitHub
// stand-in of src/dev/sandbox, which runs in a process of its own as GitHub would), its ledger on a pre-built history schema: the pushes land on the
// same repository and branch as the history, so intake appends to a long chain.
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { execFileSync, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { Probot, ProbotOctokit } from "probot";
import { sheriffApp } from "../../dist/entry/app.js";
import { startAppServices } from "../../dist/entry/services.js";
import { probotAccess } from "../../dist/adapters/github/access.js";
import { ConfigCache } from "../../dist/adapters/github/config.js";
import { Queues, GPU_QUEUE } from "../../dist/adapters/queue/queues.js";
import { RepoCache } from "../../dist/adapters/git/git.js";
import { Ledger } from "../../dist/adapters/store/ledger.js";
import { connectDatabase } from "../../dist/adapters/store/database.js";
import { connectRedis } from "../../dist/adapters/store/redis.js";
import { decide } from "../../dist/core/verdict/engine.js";
import { shaTag } from "../../dist/model/sha.js";
import { REPO, SUITES, countingDatabase, prng, quantile, sheriffYaml } from "./lib.mjs";

const APP_ID = 4244;
const SECRET = "bench-scale-webhook-secret";
const DATABASE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

const git = (cwd, args, input) => execFileSync("git", args, { cwd, encoding: "utf8", input, maxBuffer: 64 * 2 ** 20 }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r1 = (x) => +x.toFixed(1);

/** `count` commits after `from` in the bare repository, each changing one file of 1-3 suites, by one git fast-import; their shas in order. */
function makeCommits(dir, from, count, seed) {
  const rng = prng(seed);
  const chunks = [];
  const t = Math.floor(Date.now() / 1000);
  for (let i = 1; i <= count; i++) {
    const n = 1 + Math.floor(rng() * 3);
    const picked = new Set();
    while (picked.size < n) picked.add(SUITES[Math.floor(rng() * SUITES.length)].name);
    const msg = `Tune ${[...picked].join(", ")} (#${90000 + i})\n`;
    chunks.push(
      `commit refs/bench/tip\nmark :${i}\ncommitter Bench <bench@example.com> ${t + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`,
    );
    if (i === 1) chunks.push(`from ${from}\n`);
    for (const suite of picked) {
      const body = `// ${suite} revision ${i}\n`;
      chunks.push(`M 100644 inline kernels/${suite}/kernel.cu\ndata ${Buffer.byteLength(body)}\n${body}`);
    }
    chunks.push("\n");
  }
  const marks = join(dir, "bench-marks");
  git(dir, ["fast-import", "--quiet", `--export-marks=${marks}`], chunks.join(""));
  const bySeq = new Map(
    readFileSync(marks, "utf8")
      .trim()
      .split("\n")
      .map((line) => {
        const [mark, sha] = line.split(" ");
        return [Number(mark.slice(1)), sha];
      }),
  );
  rmSync(marks);
  return Array.from({ length: count }, (_, i) => bySeq.get(i + 1));
}

/** The GitHub stand-in in a child process (standin.mjs), with the one repository the pushes land on. */
async function startStandIn(options) {
  const child = fork(new URL("./standin.mjs", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the GitHub stand-in exited (${code}) before it was ready`)));
    child.send(options);
  });
  return {
    ...ready,
    async close() {
      child.send("close");
      await exited;
    },
  };
}

function summary(latencies) {
  return {
    n: latencies.length,
    p50Ms: r1(quantile(latencies, 0.5)),
    p95Ms: r1(quantile(latencies, 0.95)),
    p99Ms: r1(quantile(latencies, 0.99)),
    maxMs: r1(Math.max(...latencies)),
  };
}

/**
 * Steady: `steady` pushes of one commit each, one per second; burst: `burst` pushes delivered back
 * to back. Latency is from the start of the signed delivery to BullMQ's "added" event of the push's
 * first GPU job (a QueueEvents listener on its own connection); the in-process time after
 * Queues.addGpu resolved is kept as a cross-check.
 */
export async function measureWebhook({ ctx, redisUrl, steady, burst, log }) {
  const dataDir = mkdtempSync(join(tmpdir(), "sheriff-bench-webhook-"));
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const files = { ".github/sheriff.yml": sheriffYaml() };
  for (const s of SUITES) files[`kernels/${s.name}/kernel.cu`] = `// ${s.name}\n`;
  const sandbox = await startStandIn({
    dataDir: join(dataDir, "github"),
    app: { id: APP_ID, slug: "sheriff", name: "Sheriff", publicKey },
    repo: { owner: REPO.owner, name: REPO.repo, options: { installationId: REPO.installationId, files } },
  });
  const { repo } = sandbox;
  // One warm-up push first (the app's first fetch clones its mirror), then the measured ones.
  const shas = makeCommits(repo.dir, repo.headSha, 1 + steady + burst, 5);

  const prefix = `sheriff-bench-scale-${randomBytes(4).toString("hex")}`;
  const store = connectRedis(redisUrl, prefix);
  const queues = new Queues(store);
  const appDb = connectDatabase(DATABASE_URL, { schema: ctx.schema });
  const { db, counter } = countingDatabase(appDb);
  const probot = new Probot({
    appId: APP_ID,
    privateKey,
    secret: SECRET,
    baseUrl: sandbox.apiUrl,
    log,
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const added = new Map(); // sha tag -> ms of the first "added" GPU job at that commit
  const enqueued = new Map(); // the same, seen in-process after Queues.addGpu resolved
  const addGpu = queues.addGpu.bind(queues);
  queues.addGpu = async (job) => {
    await addGpu(job);
    const tag = shaTag(job.job.sha);
    if (!enqueued.has(tag)) enqueued.set(tag, performance.now());
  };
  // Where an intake's time goes: git fetches of the mirror, and database round trips.
  const cache = new RepoCache(join(dataDir, "work"));
  const fetch = { ms: 0, calls: 0 };
  for (const name of ["sync", "syncBranch"]) {
    const original = cache[name].bind(cache);
    cache[name] = async (...args) => {
      const t = performance.now();
      try {
        return await original(...args);
      } finally {
        fetch.ms += performance.now() - t;
        fetch.calls++;
      }
    };
  }
  // And requests to GitHub (Octokit calls the global fetch at request time).
  const github = { ms: 0, calls: 0, spans: [] };
  const fetchFromGitHub = globalThis.fetch;
  globalThis.fetch = async (...args) => {
    const t = performance.now();
    try {
      return await fetchFromGitHub(...args);
    } finally {
      const end = performance.now();
      github.ms += end - t;
      github.calls++;
      github.spans.push([t, end]);
    }
  };
  /** How much of [from, to] the app spent waiting on GitHub (union of the request spans inside it). */
  const waitedOnGitHub = (from, to) => {
    let total = 0;
    let reach = from;
    for (const [a, b] of github.spans.filter(([, b]) => b > from).sort((x, y) => x[0] - y[0])) {
      const start = Math.max(a, reach);
      const end = Math.min(b, to);
      if (end > start) total += end - start;
      reach = Math.max(reach, Math.min(b, to));
    }
    return total;
  };
  const deps = {
    access: probotAccess(probot, sandbox.apiUrl),
    configs: new ConfigCache(),
    ledger: new Ledger(db),
    queues,
    cache,
    engine: decide,
    log,
    parallelism: 1,
  };
  const services = await startAppServices(deps, { landTiming: { pollIntervalMs: 500, discoverIntervalMs: 500 } });
  await probot.load(sheriffApp(deps, services.hooks));
  const eventsConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const events = new QueueEvents(GPU_QUEUE, { connection: eventsConnection, prefix });
  events.on("added", ({ jobId }) => {
    const at = performance.now();
    const tag = /\.([0-9a-f]{12})\.landed\./.exec(jobId)?.[1];
    if (tag && !added.has(tag)) added.set(tag, at);
  });
  await events.waitUntilReady();

  const payload = (before, after) => ({
    ref: `refs/heads/${REPO.branch}`,
    before,
    after,
    created: false,
    deleted: false,
    forced: false,
    repository: {
      id: repo.id,
      name: repo.name,
      full_name: repo.fullName,
      owner: { login: repo.owner },
      default_branch: repo.defaultBranch,
      clone_url: repo.cloneUrl,
    },
    installation: { id: REPO.installationId },
    sender: { login: "alice" },
    head_commit: { id: after },
  });
  const deliver = async (before, after) => {
    const body = JSON.stringify(payload(before, after));
    const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    await probot.webhooks.verifyAndReceive({ id: randomUUID(), name: "push", payload: body, signature });
  };
  const moveBranch = (sha) => git(repo.dir, ["update-ref", `refs/heads/${REPO.branch}`, sha]);
  const waitAll = async (list, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (list.some((sha) => !added.has(shaTag(sha)))) {
      if (Date.now() > deadline)
        throw new Error(`timed out: ${list.filter((sha) => !added.has(shaTag(sha))).length} pushes without a queued GPU job`);
      await sleep(5);
    }
  };
  // Pushes finish on the intake queue (check runs after the GPU job is queued); analyses and the rest on theirs.
  const controlIdle = async () => {
    for (;;) {
      const counts = await Promise.all(
        [queues.intake, queues.analysis, queues.control].map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized")),
      );
      if (counts.every((c) => Object.values(c).every((n) => n === 0))) return;
      await sleep(20);
    }
  };
  const chainBefore = await deps.ledger.seqOf(REPO.owner + "/" + REPO.repo, REPO.branch, ctx.head);

  try {
    // Steady: one push per second; the branch moves just before each delivery, as on GitHub.
    const steadyLatency = [];
    const steadyInProcess = [];
    // The latency less the time spent waiting on GitHub's answers: what the app itself takes.
    const steadyOwn = [];
    let before = repo.headSha;
    moveBranch(shas[0]);
    await deliver(before, shas[0]);
    await waitAll([shas[0]], 60_000);
    await controlIdle();
    before = shas[0];
    const steadyShas = shas.slice(1, 1 + steady);
    fetch.ms = 0;
    fetch.calls = 0;
    github.ms = 0;
    github.calls = 0;
    counter.queries = 0;
    counter.ms = 0;
    let tick = performance.now();
    for (const sha of steadyShas) {
      moveBranch(sha);
      const t0 = performance.now();
      await deliver(before, sha);
      await waitAll([sha], 30_000);
      // The in-process mark is set once the add's reply is back, which can come after the event.
      while (!enqueued.has(shaTag(sha))) await sleep(1);
      steadyLatency.push(added.get(shaTag(sha)) - t0);
      steadyOwn.push(added.get(shaTag(sha)) - t0 - waitedOnGitHub(t0, added.get(shaTag(sha))));
      github.spans = [];
      steadyInProcess.push(enqueued.get(shaTag(sha)) - t0);
      before = sha;
      tick += 1000;
      await sleep(Math.max(0, tick - performance.now()));
    }
    await controlIdle();
    // Summed over everything the app did meanwhile (follow-ups and analyses too), so an upper bound on a push's share.
    const steadyCost = {
      gitFetchMsPerPush: r1(fetch.ms / steady),
      roundTripsPerPush: r1(counter.queries / steady),
      databaseMsPerPush: r1(counter.ms / steady),
      githubRequestsPerPush: r1(github.calls / steady),
      githubMsPerPush: r1(github.ms / steady),
    };

    // Burst: every push arrives at once (the branch already at the last one); drained when each has its GPU job.
    const burstShas = shas.slice(1 + steady);
    moveBranch(burstShas.at(-1));
    const starts = new Map();
    const burstStart = performance.now();
    for (const sha of burstShas) {
      starts.set(sha, performance.now());
      await deliver(before, sha);
      before = sha;
    }
    const deliveredMs = performance.now() - burstStart;
    await waitAll(burstShas, 600_000);
    const drainedMs = Math.max(...burstShas.map((sha) => added.get(shaTag(sha)))) - burstStart;
    await controlIdle();
    const chainAfter = await deps.ledger.seqOf(REPO.owner + "/" + REPO.repo, REPO.branch, burstShas.at(-1));
    return {
      chainLength: {
        beforePushes: chainBefore === null ? null : chainBefore + 1,
        afterPushes: chainAfter === null ? null : chainAfter + 1,
      },
      steady: { pushes: steady, ratePerSecond: 1, ...summary(steadyLatency), inProcess: summary(steadyInProcess), withoutGitHubWaits: summary(steadyOwn), ...steadyCost },
      burst: {
        pushes: burst,
        deliveredInMs: r1(deliveredMs),
        drainedInMs: r1(drainedMs),
        pushesPerSecond: r1((burst * 1000) / drainedMs),
        ...summary(burstShas.map((sha) => added.get(shaTag(sha)) - starts.get(sha))),
      },
    };
  } finally {
    globalThis.fetch = fetchFromGitHub;
    await events.close();
    await eventsConnection.quit();
    await services.close();
    await queues.control.obliterate({ force: true });
    await queues.gpu.obliterate({ force: true });
    await queues.close();
    const keys = await store.redis.keys(`${prefix}:*`);
    if (keys.length > 0) await store.redis.del(...keys);
    await store.redis.quit();
    await appDb.close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
