import { createHash } from "node:crypto";
import { Queue, type JobsOptions } from "bullmq";
import type { RedisHandle } from "../store/redis.js";
import type { LandJobData } from "../../model/land.js";

export function sanitize(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]+/g, "_");
}

/**
 * `land.<owner>.<repo>.<branch>.<hash>` (BullMQ forbids ':'); lowercased owner/repo as GitHub
 * treats them, the branch kept as is; the hash keeps `feature/x` and `feature_x` apart.
 */
export function landQueueName(owner: string, repo: string, branch: string): string {
  const o = owner.toLowerCase();
  const r = repo.toLowerCase();
  const hash = createHash("sha256").update(`${o}/${r}#${branch}`).digest("hex").slice(0, 8);
  return `land.${sanitize(o)}.${sanitize(r)}.${sanitize(branch)}.${hash}`;
}

/** Deterministic, so racing commands and redelivered webhooks enqueue a PR once. */
export function landJobId(owner: string, repo: string, pr: number): string {
  return `land.${sanitize(owner.toLowerCase())}.${sanitize(repo.toLowerCase())}.${pr}`;
}

/** Keys Sheriff's land code keeps besides BullMQ's own (all under the handle's prefix). */
export const landKeys = {
  /** Set of queue names, so workers in any process find every branch's queue. */
  queues: (h: RedisHandle) => h.key("land", "queues"),
  /** Job id -> queue name, so `cancel` finds a PR's job without asking GitHub for its base. */
  jobQueue: (h: RedisHandle, jobId: string) => h.key("land", "job", jobId),
  /** Set while a cancel is pending for a job the worker holds. */
  cancel: (h: RedisHandle, jobId: string) => h.key("land", "cancel", jobId),
};

export const LAND_JOB_NAME = "land";

export const LAND_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  // Unexpected errors (GitHub 5xx, Redis hiccups) are retried; policy outcomes never throw.
  attempts: 3,
  backoff: { type: "exponential", delay: 5_000 },
};

/** Opens (and caches) BullMQ queues for branches, all sharing the handle's connection and prefix. */
export class LandQueues {
  private readonly queues = new Map<string, Queue<LandJobData>>();
  constructor(private readonly handle: RedisHandle) {}

  async get(name: string): Promise<Queue<LandJobData>> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<LandJobData>(name, { connection: this.handle.redis, prefix: this.handle.prefix });
      this.queues.set(name, queue);
      // Strictly one land at a time per branch, whatever the number of worker processes.
      await queue.setGlobalConcurrency(1);
    }
    return queue;
  }

  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close()));
  }
}
