import { Queue, type JobsOptions } from "bullmq";
import type { RedisHandle } from "../store/redis.js";
import type { ControlJob, GpuJob } from "../../model/jobs.js";
import { type RepoRef } from "../../model/repo.js";
import { jobId, type JobRequest } from "../../model/jobs.js";

export const CONTROL_QUEUE = "control";
export const GPU_QUEUE = "gpu";

const RETRY: JobsOptions = { attempts: 5, backoff: { type: "exponential", delay: 2000 }, removeOnComplete: 1000, removeOnFail: 5000 };

/** BullMQ forbids ':' in custom ids; ours are built from names and shas only. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._/-]/g, "_");
}

export function gpuJobId(repo: Pick<RepoRef, "owner" | "repo">, job: JobRequest): string {
  return safeId(`${repo.owner}/${repo.repo}.${jobId(job)}`);
}

export function controlJobId(job: ControlJob): string {
  const repo = `${job.repo.owner}/${job.repo.repo}`;
  switch (job.type) {
    case "intake":
      return safeId(`intake.${repo}.${job.before ?? "root"}.${job.after}`);
    case "revert":
      return safeId(`revert.${repo}.${job.culprit}${job.requestedBy ? `.by.${job.requestedBy}` : ""}`);
    case "actions-run":
      return safeId(`actions-run.${repo}.${job.runId}`);
    case "rerun":
      return safeId(`rerun.${repo}.${job.sha}.${job.requestId}`);
    case "analyze":
      // Analyses repeat by design (after every result); each is keyed by a fresh nonce by the caller.
      return safeId(`analyze.${repo}.${job.suite}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`);
  }
}

/** The queues a Sheriff process talks to, all under the deployment's Redis prefix. */
export class Queues {
  readonly control: Queue<ControlJob>;
  readonly gpu: Queue<GpuJob>;

  constructor(readonly store: RedisHandle) {
    const options = { connection: store.redis, prefix: store.prefix };
    this.control = new Queue<ControlJob>(CONTROL_QUEUE, options);
    this.gpu = new Queue<GpuJob>(GPU_QUEUE, options);
  }

  async addControl(job: ControlJob): Promise<void> {
    await this.control.add(job.type, job, { ...RETRY, jobId: controlJobId(job) });
  }

  /** Deterministic ids: BullMQ ignores an add whose id already exists, so no job runs twice. */
  async addGpu(job: GpuJob): Promise<void> {
    await this.gpu.add(job.suite.name, job, {
      attempts: 3,
      backoff: { type: "exponential", delay: 5000 },
      jobId: gpuJobId(job.repo, job.job),
      removeOnComplete: 1000,
      removeOnFail: 5000,
    });
  }

  /** Takes a GPU job off the queue if no worker has started it; true when it was removed. */
  async withdrawGpu(repo: Pick<RepoRef, "owner" | "repo">, job: JobRequest): Promise<boolean> {
    return (await this.gpu.remove(gpuJobId(repo, job))) === 1;
  }

  async close(): Promise<void> {
    await Promise.all([this.control.close(), this.gpu.close()]);
  }
}
