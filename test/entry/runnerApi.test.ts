import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepoCache } from "../../src/adapters/git/git.js";
import { GpuLeases } from "../../src/adapters/queue/gpuLeases.js";
import { gpuJobId, Queues } from "../../src/adapters/queue/queues.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { parseRunnerTokens, runnerApi, runnerFor } from "../../src/entry/runnerApi.js";
import { listenForWebhooks, serverUrl } from "../../src/entry/webhookServer.js";
import { parseConfig } from "../../src/model/configFile.js";
import type { GpuJob } from "../../src/model/jobs.js";
import type { RepoRef } from "../../src/model/repo.js";
import { runConfiguredCommand } from "../../src/runner/execute.js";
import { startRemoteRunner } from "../../src/runner/remote.js";
import { testDatabase } from "../helpers/database.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { testRedis } from "../helpers/redis.js";

const SECRET = "r".repeat(40);
const KEY = "gpu-team/flash-kernels";

let repo: TestRepo;
let queues: Queues;
let leases: GpuLeases;
let ledger: Ledger;
let server: Server;
let url: string;
let marks: string;
const readTokens: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  repo = new TestRepo();
  const store = testRedis("runner-api");
  const db = await testDatabase("runner_api");
  queues = new Queues(store);
  leases = new GpuLeases(queues, 1000);
  await leases.watchLapsed();
  ledger = new Ledger(db);
  marks = mkdtempSync(join(tmpdir(), "sheriff-runner-marks-"));
  const readToken = async (r: Pick<RepoRef, "repo">) => {
    readTokens.push(r.repo);
    return `ghs_read_${r.repo}`;
  };
  server = await listenForWebhooks(
    runnerApi({ leases, ledger, queues, readToken }, parseRunnerTokens(`gpu-host-1=${SECRET}`), pino({ level: "silent" })),
    {
      port: 0,
      host: "127.0.0.1",
    },
  );
  url = serverUrl(server);
  cleanups.push(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await leases.close();
    for (const q of queues.all) await q.obliterate({ force: true });
    await queues.close();
    await store.cleanup();
    await db.cleanup();
    repo.remove();
    rmSync(marks, { recursive: true, force: true });
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
  readTokens.length = 0;
});

function gpuJob(sha: string, command: string): GpuJob {
  const config = parseConfig(`suites:\n  - { name: alpha, kind: command, command: ${JSON.stringify(command)}, paths: ["alpha/**"] }\n`);
  return {
    repo: { owner: "gpu-team", repo: "flash-kernels", installationId: 5, cloneUrl: repo.bare, branch: "main" },
    job: { sha, suite: "alpha", purpose: "landed", attempt: 0 },
    suite: config.suites[0]!,
  };
}

const idOf = (sha: string) => gpuJobId(gpuJob(sha, "true").repo, gpuJob(sha, "true").job);

const post = (path: string, body: unknown, token = SECRET) =>
  fetch(`${url}/sheriff/runner/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const passing = (sha: string) => ({
  schema: "sheriff.result/v1",
  suite: "alpha",
  commit: sha,
  status: "completed",
  startedAt: "2026-12-03T10:00:00.000Z",
  finishedAt: "2026-12-03T10:00:05.000Z",
  tests: [{ name: "alpha.test", outcome: "pass", durationMs: 5 }],
  benchmarks: [],
  environment: { commit: sha, host: "gpu-host-1", executor: "command" },
});

async function until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("runner API", () => {
  it("refuses calls without a runner's token, and tokens that are too short to configure", async () => {
    expect((await post("lease", {}, "x".repeat(40))).status).toBe(401);
    expect((await fetch(`${url}/sheriff/runner/lease`, { method: "POST" })).status).toBe(401);
    expect((await post("lease", {})).status).toBe(204);
    expect(() => parseRunnerTokens("host=short")).toThrow(/32 characters/);
    expect(runnerFor(parseRunnerTokens(`a=${SECRET},b=${"s".repeat(32)}`), `Bearer ${"s".repeat(32)}`)).toBe("b");
  });

  it("runs a job on a remote runner that holds only its token: a read token for the one repository, the result in the ledger", async () => {
    const sha = repo.commit("Alpha", { "alpha/a.cu": "1\n" });
    repo.push();
    const envFile = join(marks, "env.txt");
    await queues.addGpu(gpuJob(sha, `env > ${envFile}`));
    const workDir = mkdtempSync(join(tmpdir(), "sheriff-runner-work-"));
    const runner = startRemoteRunner({
      url,
      token: SECRET,
      cache: new RepoCache(workDir),
      runners: { command: runConfiguredCommand },
      log: pino({ level: "silent" }),
      idleMs: 50,
      renewMs: 200,
    });
    try {
      await until("the result recorded", async () => (await ledger.latestRun(KEY, "alpha", sha)) !== undefined);
      await until("the job completed", async () => (await queues.gpu.getJobState(idOf(sha))) === "completed");
    } finally {
      await runner.close();
      rmSync(workDir, { recursive: true, force: true });
    }
    expect((await ledger.latestRun(KEY, "alpha", sha))!.result.status).toBe("completed");
    expect(readTokens).toEqual(["flash-kernels"]);
    const env = readFileSync(envFile, "utf8");
    for (const name of ["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "REDIS_URL", "DATABASE_URL", "SHERIFF_RUNNER_TOKEN"])
      expect(env).not.toMatch(new RegExp(`^${name}=`, "m"));
    expect(env).not.toContain(SECRET);
    expect(env).not.toContain("ghs_read_");
  });

  it("refuses a report for another commit or suite than the leased job's, and keeps the lease for the true one", async () => {
    const sha = repo.commit("Alpha", { "alpha/a.cu": "1\n" });
    repo.push();
    await queues.addGpu(gpuJob(sha, "true"));
    const assignment = (await (await post("lease", {})).json()) as { lease: unknown; job: GpuJob; token: string };
    expect(assignment.job.job.sha).toBe(sha);
    expect(assignment.token).toBe("ghs_read_flash-kernels");
    const other = "f".repeat(40);
    const forged = await post("report", { lease: assignment.lease, result: passing(other) });
    expect(forged.status).toBe(422);
    expect(((await forged.json()) as { error: string }).error).toMatch(/commit/);
    expect((await post("report", { lease: assignment.lease, result: { ...passing(sha), suite: "beta" } })).status).toBe(422);
    expect((await post("report", { lease: assignment.lease, result: "{not json" })).status).toBe(422);
    expect(await ledger.latestRun(KEY, "alpha", sha)).toBeUndefined();
    expect((await post("report", { lease: { jobId: "x", token: "nope" }, result: passing(sha) })).status).toBe(400);
    const accepted = await post("report", { lease: assignment.lease, result: passing(sha) });
    expect(await accepted.text()).toMatch(/completed/);
    expect(accepted.status).toBe(200);
    expect((await ledger.latestRun(KEY, "alpha", sha))!.job.sha).toBe(sha);
    // Reported once: the lease is spent.
    expect((await post("report", { lease: assignment.lease, result: passing(sha) })).status).toBe(409);
  });

  it("puts a job whose runner went silent back in the queue, and refuses the silent runner's late report", async () => {
    const sha = repo.commit("Alpha", { "alpha/a.cu": "1\n" });
    repo.push();
    await queues.addGpu(gpuJob(sha, "true"));
    const first = (await (await post("lease", {})).json()) as { lease: unknown };
    expect((await post("lease", {})).status).toBe(204);
    // No renewal: the one-second lease lapses and the stalled check returns the job.
    let second: { lease: unknown } | null = null;
    await until("the job leased again", async () => {
      const response = await post("lease", {});
      if (response.status === 200) second = (await response.json()) as { lease: unknown };
      return second !== null;
    });
    expect((await post("renew", { lease: first.lease })).status).toBe(409);
    expect((await post("report", { lease: first.lease, result: passing(sha) })).status).toBe(409);
    expect((await post("renew", { lease: second!.lease })).status).toBe(204);
    expect((await post("fail", { lease: second!.lease, reason: "CUDA error: no device" })).status).toBe(200);
    expect(await queues.gpu.getJobState(idOf(sha))).toBe("delayed");
  });
});
