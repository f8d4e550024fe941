import { createHash, randomUUID } from "node:crypto";
import type { Octokit } from "@octokit/rest";
import { Queue, type JobsOptions } from "bullmq";
import type { RedisHandle } from "../store/redis.js";
import type { MergeMethod } from "../commands/types.js";

/** One earlier revert of the change a PR re-applies. The lead's ledger implements the lookup. */
export interface RevertRecord {
  /** The PR that was reverted. */
  pr: number;
  title?: string;
  /** The commit it landed as. */
  sha: string;
  /** The revert PR and the commit it landed as, when known. */
  revertPr?: number;
  revertSha?: string;
  reason: string;
  category?: string;
  /** Who asked for the revert (a login, or the app for an automatic one). */
  by: string;
  /** ISO timestamp of the revert. */
  at: string;
}

export interface RevertHistory {
  /** Earlier reverts of what PR `prNumber` re-applies (from its title/body, "Reland #12" say); [] when it is no re-land. */
  historyFor(owner: string, repo: string, prNumber: number, title: string, body: string): Promise<RevertRecord[]>;
}

export interface LandRequest {
  owner: string;
  repo: string;
  pr: number;
  method: MergeMethod;
  requestedBy: string;
  installationId: number;
}

/** What a land job carries in BullMQ; the progress fields are updated as it goes. */
export interface LandJobData extends LandRequest {
  branch: string;
  /** Tells which of two racing `land` commands created the job. */
  requestId: string;
  enqueuedAt: number;
  /** Set when the worker first looks at the job: the deadline counts from here. */
  firstCheckAt?: number;
  checks?: number;
  updates?: number;
  mergeAttempts?: number;
  /** The head sha the last update-branch was asked for, so a repeat is not sent for the same head. */
  updatedFrom?: string;
}

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

export interface LandCancelRequest {
  owner: string;
  repo: string;
  pr: number;
  requestedBy: string;
}

export interface LandService {
  /** Queues the PR for landing; returns the Markdown reply (queued / already queued / cannot). */
  enqueue(octokit: Octokit, request: LandRequest): Promise<string>;
  /** Takes the PR out of the queue; returns the reply, or null when it was not queued. */
  cancel(request: LandCancelRequest): Promise<string | null>;
  close(): Promise<void>;
}

export interface LandQueueOptions {
  redis: RedisHandle;
  /** Earlier reverts of what a PR re-applies, shown when it is queued. */
  history?: RevertHistory;
}

function mention(login: string): string {
  return `@${login}`;
}

export function renderRevertHistory(records: RevertRecord[]): string {
  if (!records.length) return "";
  const rows = records.map((r) => {
    const revert = r.revertPr ? `#${r.revertPr}` : r.revertSha ? `\`${r.revertSha.slice(0, 12)}\`` : "—";
    const reason = r.reason.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return `| #${r.pr} (\`${r.sha.slice(0, 12)}\`) | ${revert} | ${r.at.slice(0, 10)} | ${r.by} | ${reason}${r.category ? ` (${r.category})` : ""} |`;
  });
  return [
    `This PR re-lands a change that was reverted ${records.length === 1 ? "once" : `${records.length} times`}:`,
    "",
    "| Reverted | Revert | When | By | Why |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
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
          ? `Queued #${pr} to land on \`${branch}\` (${method}); ${where}. It lands once approved, mergeable and its required checks are green; ${mention(pull.user?.login ?? request.requestedBy)} will be told how it went.`
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
