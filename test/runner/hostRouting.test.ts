import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "bullmq";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoCache } from "../../src/adapters/git/git.js";
import { gpuJobId, Queues } from "../../src/adapters/queue/queues.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { checkHostHealth } from "../../src/flows/hostHealth.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { parseConfig } from "../../src/model/configFile.js";
import { CANARY_ATTEMPT_BASE, gpuJobSchema, type GpuJob, type Placement } from "../../src/model/jobs.js";
import type { SuiteResult } from "../../src/model/result.js";
import { runConfiguredCommand } from "../../src/runner/execute.js";
import { startGpuWorker } from "../../src/runner/worker.js";
import { testDatabase } from "../helpers/database.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { testRedis } from "../helpers/redis.js";

const KEY = "gpu-team/flash-kernels";
const config = parseConfig('suites:\n  - { name: alpha, kind: command, command: "true", paths: ["alpha/**"] }\n');
const log = pino({ level: "silent" });

let repo: TestRepo;
let store: ReturnType<typeof testRedis>;
let db: Awaited<ReturnType<typeof testDatabase>>;
let queues: Queues;
let ledger: Ledger;
const workDirs: string[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  repo = new TestRepo();
  store = testRedis("host-routing");
  db = await testDatabase("host_routing");
  queues = new Queues(store);
  ledger = new Ledger(db);
});

afterAll(async () => {
  for (const w of workers) await w.close();
  for (const q of queues.all) await q.obliterate({ force: true });
  await queues.close();
  await store.cleanup();
  await db.cleanup();
  repo.remove();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

const repoRef = () => ({ owner: "gpu-team", repo: "flash-kernels", installationId: 5, cloneUrl: repo.bare, branch: "main" });

function gpuJob(sha: string, attempt: number, placement: Placement = {}): GpuJob {
  return { repo: repoRef(), job: { sha, suite: "alpha", purpose: "retry", attempt }, suite: config.suites[0]!, ...placement };
}

function worker(host: string): Worker {
  const workDir = mkdtempSync(join(tmpdir(), `sheriff-routing-${host}-`));
  workDirs.push(workDir);
  const w = startGpuWorker({ queues, ledger, cache: new RepoCache(workDir), runners: { command: runConfiguredCommand }, log, host });
  workers.push(w);
  return w;
}

async function hostThatRan(sha: string, attempt: number, ms = 60_000): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await ledger.runsAt(KEY, sha, ["alpha"])).find((r) => r.job.attempt === attempt);
    if (run) return run.result.environment.host;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("GPU jobs routed by host", () => {
  it("keeps a job off the host whose failures it checks while another can take it, runs a canary only on its host, and keeps a quarantined host to canaries", async () => {
    const sha = repo.commit("Alpha", { "alpha/a.cu": "1\n" });
    repo.push();
    try {
      await routes(sha);
    } finally {
      for (const w of workers.splice(0)) await w.close();
    }
  }, 200_000);
});

/** The routing story on one commit, with the workers it starts left to the caller to close. */
async function routes(sha: string): Promise<void> {
  const hostA = worker("gpu-a");
  await queues.addGpu(gpuJob(sha, 1, { avoidHosts: ["gpu-a"] }));
  // Only gpu-a is up: it hands the job back, again and again, and never runs it.
  expect(await hostThatRan(sha, 1, 2500)).toBeUndefined();
  const waiting = gpuJobSchema.parse((await queues.gpu.getJob(gpuJobId(repoRef(), gpuJob(sha, 1).job)))!.data);
  expect(waiting.passedOver!.times).toBeGreaterThanOrEqual(2);
  await hostA.close();
  worker("gpu-b");
  expect(await hostThatRan(sha, 1)).toBe("gpu-b");

  // A canary for gpu-a is left alone by gpu-b, however often gpu-b sees it, until gpu-a is back.
  await queues.addGpu(gpuJob(sha, CANARY_ATTEMPT_BASE, { onlyHost: "gpu-a" }));
  expect(await hostThatRan(sha, CANARY_ATTEMPT_BASE, 2000)).toBeUndefined();
  worker("gpu-a");
  expect(await hostThatRan(sha, CANARY_ATTEMPT_BASE)).toBe("gpu-a");

  // gpu-b quarantined: plain jobs go to gpu-a.
  expect(await ledger.quarantineHost(KEY, "gpu-b", { summary: "test", evidence: [] })).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(await ledger.quarantineHost(KEY, "gpu-b", { summary: "again", evidence: [] })).toBeNull();
  for (const attempt of [2, 3, 4]) await queues.addGpu(gpuJob(sha, attempt));
  expect(await Promise.all([2, 3, 4].map((a) => hostThatRan(sha, a)))).toEqual(["gpu-a", "gpu-a", "gpu-a"]);
}

describe("host health in the app", () => {
  const result = (sha: string, host: string, failing: boolean, minute: number): SuiteResult => ({
    schema: "sheriff.result/v1",
    suite: "alpha",
    commit: sha,
    status: "completed",
    startedAt: new Date(Date.UTC(2026, 11, 4, 10, minute)).toISOString(),
    finishedAt: new Date(Date.UTC(2026, 11, 4, 10, minute, 30)).toISOString(),
    tests: [
      { name: "alpha.index_reduce", outcome: failing ? "fail" : "pass", message: failing ? "max error 3e-1 > 1e-3" : undefined },
      { name: "alpha.bf16", outcome: "pass" },
    ],
    benchmarks: [],
    environment: { commit: sha, host, executor: "command" },
  });

  it("quarantines a host that fails a test other hosts pass at commit after commit, asks for its canary, and re-admits it after clean canaries", async () => {
    const repoKeyName = "gpu-team/health";
    const ref = { ...repoRef(), repo: "health" };
    const deps = { ledger, queues, log, engine: () => [], parallelism: 1 } as unknown as PipelineDeps;
    const shas = Array.from({ length: 9 }, (_, i) => `${(i + 1).toString(16)}`.repeat(40));
    let minute = 0;
    for (const sha of shas) {
      await ledger.recordRun(repoKeyName, {
        job: { sha, suite: "alpha", purpose: "landed", attempt: 0 },
        result: result(sha, "gpu-bad", true, minute++),
      });
      await ledger.recordRun(repoKeyName, {
        job: { sha, suite: "alpha", purpose: "retry", attempt: 1 },
        result: result(sha, "gpu-good", false, minute++),
      });
    }
    const again = async () => {
      await store.redis.del(store.key("host-health", repoKeyName));
      return checkHostHealth(deps, ref, config, new Date(Date.UTC(2026, 11, 4, 11, minute)));
    };
    expect((await again()).map((d) => d.type)).toEqual(["quarantine"]);
    // The next judgement, with the quarantine open, asks for its canary.
    expect((await again()).map((d) => d.type)).toEqual(["canary"]);
    const open = await ledger.hostQuarantines(repoKeyName, new Date(0));
    expect(open).toMatchObject([{ host: "gpu-bad", summary: expect.stringContaining("alpha.index_reduce") }]);
    expect(open[0]!.to).toBeUndefined();
    const canaries = (await queues.gpu.getJobs(["waiting", "prioritized", "delayed"]))
      .map((j) => gpuJobSchema.parse(j.data))
      .filter((j) => j.repo.repo === "health");
    expect(canaries).toHaveLength(1);
    expect(canaries[0]).toMatchObject({ onlyHost: "gpu-bad", job: { purpose: "retry" } });
    expect(canaries[0]!.job.attempt).toBeGreaterThanOrEqual(CANARY_ATTEMPT_BASE);
    // Judged again within the debounce: nothing is done twice.
    expect(await checkHostHealth(deps, ref, config)).toEqual([]);
    // One canary at a time: while it is queued, none more.
    expect((await again()).map((d) => d.type)).toEqual([]);

    // Three clean canaries, each at a commit gpu-good passed: re-admitted.
    await ledger.setJobState(repoKeyName, canaries[0]!.job, "done");
    for (let i = 0; i < 3; i++) {
      const sha = shas[i]!;
      // After the quarantine began (the ledger's clock).
      const at = new Date(Date.now() + 1000 * (i + 1)).toISOString();
      await ledger.recordRun(repoKeyName, {
        job: { sha, suite: "alpha", purpose: "retry", attempt: CANARY_ATTEMPT_BASE + 100 + i },
        result: { ...result(sha, "gpu-bad", false, 0), startedAt: at, finishedAt: at },
      });
    }
    expect((await again()).map((d) => d.type)).toEqual(["readmit"]);
    const closed = await ledger.hostQuarantines(repoKeyName, new Date(0));
    expect(closed[0]!.to).toBeDefined();
    expect(await ledger.isQuarantined(repoKeyName, "gpu-bad")).toBe(false);
  }, 30_000);
});
