import { UnrecoverableError, Worker } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ANALYSIS_QUEUE,
  CONTROL_QUEUE,
  GPU_QUEUE,
  INTAKE_QUEUE,
  Queues,
  controlJobId,
  gpuJobId,
} from "../../../src/adapters/queue/queues.js";
import { suiteConfigSchema } from "../../../src/model/config.js";
import { jobId, type AnalyzeJob, type ControlJob, type GpuJob, type IntakeJob, type JobRequest } from "../../../src/model/jobs.js";
import type { RepoRef } from "../../../src/model/repo.js";
import { keysUnder, sha, testRedis } from "../support.js";

const REPO: RepoRef = {
  owner: "gpu-team",
  repo: "flash-kernels",
  installationId: 2311213,
  cloneUrl: "https://github.com/gpu-team/flash-kernels.git",
  branch: "main",
};
const SUITE = suiteConfigSchema.parse({ name: "varlen-attention", kind: "builtin", builtin: "varlen-attention", paths: ["kernels/**"] });

const request = (overrides: Partial<JobRequest> = {}): JobRequest => ({
  sha: sha("c1"),
  suite: "varlen-attention",
  purpose: "landed",
  attempt: 0,
  ...overrides,
});
const gpuJob = (overrides: Partial<JobRequest> = {}): GpuJob => ({ repo: REPO, job: request(overrides), suite: SUITE });
const intake = (overrides: Partial<IntakeJob> = {}): IntakeJob => ({
  type: "intake",
  repo: REPO,
  repoId: 35129377,
  defaultBranch: "main",
  before: sha("c0"),
  after: sha("c1"),
  forced: false,
  deliveryId: "d0a1b2c3-0000-4000-8000-000000000001",
  ...overrides,
});

let store: ReturnType<typeof testRedis>;
let queues: Queues;

beforeEach(() => {
  store = testRedis("queues");
  queues = new Queues(store);
});

afterEach(async () => {
  for (const queue of queues.all) await queue.obliterate({ force: true });
  await queues.close();
  const prefix = store.prefix;
  await store.cleanup();
  expect(await keysUnder(prefix)).toEqual([]);
});

describe("GPU jobs", () => {
  it("are keyed by repository and job id, so adding the same job twice queues it once", async () => {
    await queues.addGpu(gpuJob());
    await queues.addGpu(gpuJob());
    expect(await queues.gpu.getWaitingCount()).toBe(1);
    const id = gpuJobId(REPO, request());
    expect(id).toBe(`gpu-team/flash-kernels.${jobId(request())}`);
    const job = await queues.gpu.getJob(id);
    expect(job?.name).toBe("varlen-attention");
    expect(job?.data).toEqual(gpuJob());
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: "exponential", delay: 5000 } });
    // The queue lives under the handle's prefix.
    expect(queues.gpu.name).toBe(GPU_QUEUE);
    expect(await keysUnder(store.prefix)).toContain(`${store.prefix}:${GPU_QUEUE}:${id}`);
  });

  it("gives another attempt, purpose or cherry-picked state its own job", async () => {
    await queues.addGpu(gpuJob());
    await queues.addGpu(gpuJob({ attempt: 1 }));
    await queues.addGpu(gpuJob({ purpose: "bisect" }));
    await queues.addGpu(gpuJob({ cherryPicks: [sha("revert-a"), sha("revert-b")] }));
    expect(await queues.gpu.getWaitingCount()).toBe(4);
  });

  it("builds ids of the characters BullMQ accepts only", () => {
    const id = gpuJobId(REPO, request({ cherryPicks: [sha("revert-a"), sha("revert-b")] }));
    expect(id).toMatch(/^[A-Za-z0-9._/-]+$/);
    expect(id).toContain(`.with.${sha("revert-a").slice(0, 12)}_${sha("revert-b").slice(0, 12)}.`);
  });

  it("withdraws a waiting job and only that one", async () => {
    await queues.addGpu(gpuJob());
    await queues.addGpu(gpuJob({ attempt: 1 }));
    expect(await queues.withdrawGpu(REPO, request())).toBe(true);
    expect(await queues.gpu.getJob(gpuJobId(REPO, request()))).toBeUndefined();
    expect(await queues.gpu.getWaitingCount()).toBe(1);
    expect(await queues.gpu.getJob(gpuJobId(REPO, request({ attempt: 1 })))).toBeDefined();
    // Withdrawn means gone: adding it again queues it anew.
    await queues.addGpu(gpuJob());
    expect(await queues.gpu.getWaitingCount()).toBe(2);
  });

  it("does not withdraw a job a worker has started", async () => {
    await queues.addGpu(gpuJob());
    const worker = new Worker(GPU_QUEUE, null, { connection: store.redis, prefix: store.prefix });
    try {
      const started = await worker.getNextJob("gpu-host-1", { block: false });
      expect(started?.id).toBe(gpuJobId(REPO, request()));
      expect(await queues.withdrawGpu(REPO, request())).toBe(false);
      expect(await queues.gpu.getActiveCount()).toBe(1);
    } finally {
      await worker.close(true);
    }
  });
});

describe("control jobs", () => {
  it("queue a push's intake once, whatever delivery brought it, on the intake queue", async () => {
    await queues.addControl(intake());
    await queues.addControl(intake({ deliveryId: "d0a1b2c3-0000-4000-8000-000000000002" }));
    expect(await queues.intake.getWaitingCount()).toBe(1);
    expect(await queues.control.getWaitingCount()).toBe(0);
    const job = await queues.intake.getJob(controlJobId(intake()));
    expect(job?.name).toBe("intake");
    expect(job?.data).toEqual(intake());
    expect(job?.opts).toMatchObject({ attempts: 12, backoff: { type: "exponential", delay: 2000 } });
    expect(queues.intake.name).toBe(INTAKE_QUEUE);
  });

  it("keep reverts, Actions runs and reruns on the control queue", async () => {
    await queues.addControl({ type: "revert", repo: REPO, suite: "varlen-attention", culprit: sha("c2"), configSha: sha("c3") });
    await queues.addControl({ type: "actions-run", repo: REPO, runId: 7, headSha: sha("c1") });
    await queues.addControl({ type: "rerun", repo: REPO, sha: sha("c1"), suites: [], requestId: "check:12" });
    expect(await queues.control.getWaitingCount()).toBe(3);
    expect(queues.control.name).toBe(CONTROL_QUEUE);
  });

  it("run a job asked for again once it failed for good, and ignore one that completed", async () => {
    const run: ControlJob = { type: "actions-run", repo: REPO, runId: 7, headSha: sha("c1") };
    const rerun: ControlJob = { type: "rerun", repo: REPO, sha: sha("c1"), suites: [], requestId: "check:12" };
    await queues.addControl(run);
    await queues.addControl(rerun);
    const worker = new Worker(
      CONTROL_QUEUE,
      async (job) => {
        if (job.data.type === "actions-run") throw new UnrecoverableError("GitHub answered 502");
        return "done";
      },
      { connection: store.redis, prefix: store.prefix },
    );
    const settled = () => queues.control.getJobCounts("failed", "completed");
    const finished = async () => Object.values(await settled()).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 200 && (await finished()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await worker.close();
    expect(await settled()).toEqual({ failed: 1, completed: 1 });

    await queues.addControl(run);
    await queues.addControl(rerun);
    expect(await queues.control.getJobState(controlJobId(run))).toBe("waiting");
    expect(await queues.control.getJobState(controlJobId(rerun))).toBe("completed");
    expect((await queues.control.getJob(controlJobId(run)))!.attemptsMade).toBe(0);
  });

  it("keep one reconciliation schedule however many processes ask for it, its first round queued at once", async () => {
    await queues.scheduleReconciliation(600_000);
    await queues.scheduleReconciliation(600_000);
    const schedulers = await queues.control.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every])).toEqual([["reconcile", 600_000]]);
    const waiting = await queues.control.getJobs(["waiting", "delayed"]);
    expect(waiting.map((j) => j.data)).toEqual([{ type: "reconcile" }]);
  });

  it("name each kind of job after what it is for", () => {
    const tag = `gpu-team/flash-kernels`;
    expect(controlJobId(intake())).toBe(`intake.${tag}.${sha("c0")}.${sha("c1")}`);
    expect(controlJobId(intake({ before: null }))).toBe(`intake.${tag}.root.${sha("c1")}`);
    const revert: ControlJob = { type: "revert", repo: REPO, suite: "varlen-attention", culprit: sha("c2"), configSha: sha("c3") };
    expect(controlJobId(revert)).toBe(`revert.${tag}.${sha("c2")}`);
    expect(controlJobId({ ...revert, requestedBy: "alice" })).toBe(`revert.${tag}.${sha("c2")}.by.alice`);
    expect(controlJobId({ type: "actions-run", repo: REPO, runId: 9_876_543_210, headSha: sha("c1") })).toBe(
      `actions-run.${tag}.9876543210.1`,
    );
    expect(controlJobId({ type: "actions-run", repo: REPO, runId: 9_876_543_210, runAttempt: 2, headSha: sha("c1") })).toBe(
      `actions-run.${tag}.9876543210.2`,
    );
    expect(controlJobId({ type: "rerun", repo: REPO, sha: sha("c1"), suites: [], requestId: "check:12" })).toBe(
      `rerun.${tag}.${sha("c1")}.check_12`,
    );
  });

  it("queue every analysis, since each follows a new result, and record it as pending for its suite", async () => {
    const analyze: AnalyzeJob = { type: "analyze", repo: REPO, suite: "varlen-attention", configSha: sha("c1") };
    await queues.addControl(analyze);
    await queues.addControl({ ...analyze, sha: sha("c2") });
    expect(await queues.analysis.getWaitingCount()).toBe(2);
    expect(queues.analysis.name).toBe(ANALYSIS_QUEUE);
    const pending = await queues.pendingAnalyses(analyze);
    expect(pending.map((p) => p.job)).toEqual([analyze, { ...analyze, sha: sha("c2") }]);
    expect(await queues.pendingAnalyses({ ...analyze, suite: "index-reduce" })).toEqual([]);
  });
});
