import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import type { RedisHandle } from "../adapters/store/redis.js";
import { LAND_JOB_NAME, LAND_JOB_OPTIONS, LandQueues, landJobId, landKeys, landQueueName } from "../adapters/queue/land.js";
import { renderRevertHistory } from "../core/land/history.js";
import type { LandJobData, LandService, RevertHistory } from "../model/land.js";

export interface LandQueueOptions {
  redis: RedisHandle;
  /** Earlier reverts of what a PR re-applies, shown when it is queued. */
  history?: RevertHistory;
}

/**
 * The producer side of the merge queue: what `@sheriff land` and `@sheriff cancel` call.
 * Workers (`createLandWorker`) may run in this process or others.
 */
export function createLandQueue({ redis, history }: LandQueueOptions): LandService {
  const queues = new LandQueues(redis);

  async function positionOf(queue: Queue<LandJobData>, jobId: string): Promise<number> {
    const active = await queue.getJobs(["active"], 0, -1, true);
    const waiting = await queue.getJobs(["waiting", "prioritized", "delayed"], 0, -1, true);
    const ids = [...active, ...waiting].map((j) => j?.id);
    const index = ids.indexOf(jobId);
    return index < 0 ? 0 : index;
  }

  return {
    async enqueue(octokit, request) {
      const { owner, repo, pr } = request;
      const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr });
      if (pull.merged) return `#${pr} is already merged.`;
      if (pull.state !== "open") return `#${pr} is closed, so it cannot land.`;
      const branch = pull.base.ref;
      const name = landQueueName(owner, repo, branch);
      const queue = await queues.get(name);
      const jobId = landJobId(owner, repo, pr);
      const requestId = randomUUID();
      await redis.redis.sadd(landKeys.queues(redis), name);
      await redis.redis.set(landKeys.jobQueue(redis, jobId), name);
      // A new `land` takes back an earlier `cancel` that the worker has not seen yet.
      await redis.redis.del(landKeys.cancel(redis, jobId));
      const data: LandJobData = { ...request, branch, requestId, enqueuedAt: Date.now() };
      // Same job id: BullMQ adds it once, however many commands race.
      await queue.add(LAND_JOB_NAME, data, { ...LAND_JOB_OPTIONS, jobId });
      const job = await queue.getJob(jobId);
      // BullMQ returns our data even when the id existed; the stored job tells who created it.
      const created = !job || job.data.requestId === requestId;
      const ahead = await positionOf(queue, jobId);
      const where = ahead === 0 ? "it is next" : `${ahead} ${ahead === 1 ? "PR is" : "PRs are"} ahead of it`;
      const method = job?.data.method ?? request.method;
      const lines = [
        created
          ? `Queued #${pr} to land on \`${branch}\` (${method}); ${where}. It lands once approved, mergeable and its required checks are green; @${pull.user?.login ?? request.requestedBy} will be told how it went.`
          : `#${pr} is already in the \`${branch}\` land queue (${method}); ${where}.`,
      ];
      if (history) {
        const records = await history.historyFor(owner, repo, pr, pull.title, pull.body ?? "");
        if (records.length) lines.push("", renderRevertHistory(records));
      }
      return lines.join("\n");
    },

    async cancel({ owner, repo, pr, requestedBy }) {
      const jobId = landJobId(owner, repo, pr);
      const name = await redis.redis.get(landKeys.jobQueue(redis, jobId));
      if (!name) return null;
      const queue = await queues.get(name);
      const job = await queue.getJob(jobId);
      if (!job) {
        await redis.redis.del(landKeys.jobQueue(redis, jobId));
        return null;
      }
      const state = await job.getState();
      if (state === "active") {
        // The worker holds it: it checks this flag before every step and before merging.
        await redis.redis.set(landKeys.cancel(redis, jobId), requestedBy, "EX", 24 * 3600);
        return `#${pr} is being checked for landing right now; it will stop before merging (cancelled by @${requestedBy}).`;
      }
      try {
        await job.remove();
      } catch {
        // Taken by a worker between getState and remove.
        await redis.redis.set(landKeys.cancel(redis, jobId), requestedBy, "EX", 24 * 3600);
        return `#${pr} is being checked for landing right now; it will stop before merging (cancelled by @${requestedBy}).`;
      }
      await redis.redis.del(landKeys.jobQueue(redis, jobId), landKeys.cancel(redis, jobId));
      return `Removed #${pr} from the land queue (cancelled by @${requestedBy}).`;
    },

    close: () => queues.close(),
  };
}
