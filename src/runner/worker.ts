import { hostname } from "node:os";
import { DelayedError, Worker, type Job } from "bullmq";
import type { Logger } from "pino";
import type { ReadToken } from "../adapters/github/access.js";
import { acceptResult } from "../flows/results.js";
import { gpuJobSchema } from "../model/jobs.js";
import { GPU_QUEUE, type Queues } from "../adapters/queue/queues.js";
import type { RepoCache } from "../adapters/git/git.js";
import type { Ledger } from "../adapters/store/ledger.js";
import { killLeftovers } from "./contain.js";
import { executeGpuJob, type SuiteRunner } from "./execute.js";
import type { SuiteConfig } from "../model/config.js";
import { GpuSlots, withGpuIndex, type GpuSlot } from "./gpus.js";
import { withHost } from "../model/result.js";
import { routeTakenJob } from "../flows/routing.js";
import { repoKey } from "../model/repo.js";
import { formatZodIssues } from "../model/zod.js";

/** How long past a handed-back job's delay its host keeps out of the queue. */
const HAND_BACK_PAUSE_MS = 500;

export interface GpuWorkerOptions {
  queues: Queues;
  ledger: Ledger;
  cache: RepoCache;
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  log: Logger;
  /**
   * The GPUs of this host (`discoverGpus()`): one job per GPU at a time, each job's child
   * process pinned to its GPU (CUDA_VISIBLE_DEVICES) and `environment.gpuIndex` set in its result.
   */
  gpus?: GpuSlot[];
  /** Jobs at once when `gpus` is empty or absent (a CPU-only worker); default 1. */
  slots?: number;
  /** Read-only tokens for the repository of each job; without it, only clone URLs that need no token (local paths) can be fetched. */
  readToken?: ReadToken;
  /** This host's name in results and routing (SHERIFF_HOST); default the machine's hostname. */
  host?: string;
}

/**
 * `sheriff worker`: pulls GPU jobs from the shared queue. Infrastructure errors (a fetch that
 * failed) are retried by BullMQ; a crash or hang of the suite itself is a result, not an error.
 */
export function startGpuWorker(options: GpuWorkerOptions): Worker {
  const { queues, ledger, log } = options;
  const pool = new GpuSlots(options.gpus ?? [], options.slots ?? 1);
  const host = options.host ?? hostname();
  // A worker killed mid-job (kill -9, OOM) left its suites running: end them before taking jobs.
  const swept = killLeftovers().then(
    (killed) => {
      if (killed > 0) log.warn({ killed }, "killed processes left by jobs of a worker that died");
    },
    (err: Error) => log.error({ err: err.message }, "could not look for processes left by a dead worker"),
  );
  const worker = new Worker(
    GPU_QUEUE,
    async (bullJob: Job, lockToken?: string) => {
      await swept;
      const parsed = gpuJobSchema.safeParse(bullJob.data);
      if (!parsed.success) {
        log.error({ job: bullJob.id, issues: formatZodIssues(parsed.error) }, "dropping malformed GPU job");
        return { dropped: true };
      }
      const job = parsed.data;
      const key = repoKey(job.repo);
      const routing = await routeTakenJob(ledger, job, host);
      if (routing.kind === "drop") {
        log.warn({ job: bullJob.id, reason: routing.reason }, "dropping GPU job");
        await ledger.setJobState(key, job.job, "failed", routing.reason);
        return { dropped: true, reason: routing.reason };
      }
      if (routing.kind === "pass") {
        await bullJob.updateData({ ...job, passedOver: routing.passedOver });
        await bullJob.moveToDelayed(Date.now() + routing.delayMs, lockToken);
        // Sit out until just after it is due again, so another host takes it rather than this one again.
        await new Promise((r) => setTimeout(r, routing.delayMs + HAND_BACK_PAUSE_MS));
        throw new DelayedError(routing.reason);
      }
      await ledger.setJobState(key, job.job, "running");
      const token = options.readToken ? await options.readToken(job.repo) : undefined;
      // Hold one GPU for the whole job (both sides of an A/B job run on the same GPU).
      const { run, gpu } = await pool.run(async (slot) => {
        const record = await executeGpuJob(job, { cache: options.cache, runners: options.runners, ...(token ? { auth: { token } } : {}) });
        return {
          gpu: slot?.index,
          run: {
            ...record,
            result: withHost(withGpuIndex(record.result, slot), host),
            ...(record.baselineResult ? { baselineResult: withHost(withGpuIndex(record.baselineResult, slot), host) } : {}),
          },
        };
      });
      await acceptResult(ledger, queues, job.repo, run);
      log.info({ repo: key, sha: job.job.sha, suite: job.suite.name, status: run.result.status, gpu }, "GPU job finished");
      return { status: run.result.status };
    },
    { connection: queues.store.redis, prefix: queues.store.prefix, concurrency: pool.size, stalledInterval: 30_000, maxStalledCount: 2 },
  );
  // A lost Redis connection is reported here; BullMQ reconnects, and without a listener Node would end the process.
  worker.on("error", (err) => log.error({ err: err.message }, "GPU worker error"));
  worker.on("failed", async (bullJob, err) => {
    log.error({ job: bullJob?.id, err: err.message }, "GPU job failed");
    const parsed = gpuJobSchema.safeParse(bullJob?.data);
    if (parsed.success && bullJob && bullJob.attemptsMade >= (bullJob.opts.attempts ?? 1)) {
      await ledger.setJobState(repoKey(parsed.data.repo), parsed.data.job, "failed", err.message);
    }
  });
  return worker;
}
