import { Worker, type Job } from "bullmq";
import type { Logger } from "pino";
import type { GitHubAccess } from "../github/access.js";
import { acceptResult } from "../pipeline/results.js";
import { gpuJobSchema, repoKey } from "../queue/jobs.js";
import { GPU_QUEUE, type Queues } from "../queue/queues.js";
import type { RepoCache } from "../repo/git.js";
import { formatZodIssues } from "../results/schema.js";
import type { Ledger } from "../store/ledger.js";
import { executeGpuJob, type SuiteRunner } from "./execute.js";
import type { SuiteConfig } from "../config/schema.js";

export interface GpuWorkerOptions {
  queues: Queues;
  ledger: Ledger;
  cache: RepoCache;
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  log: Logger;
  /** Jobs this host runs at once: one per GPU. */
  slots: number;
  /** Without it, only clone URLs that need no token (local paths) can be fetched. */
  access?: GitHubAccess;
}

/**
 * `sheriff worker`: pulls GPU jobs from the shared queue. Infrastructure errors (a fetch that
 * failed) are retried by BullMQ; a crash or hang of the suite itself is a result, not an error.
 */
export function startGpuWorker(options: GpuWorkerOptions): Worker {
  const { queues, ledger, log } = options;
  const worker = new Worker(
    GPU_QUEUE,
    async (bullJob: Job) => {
      const parsed = gpuJobSchema.safeParse(bullJob.data);
      if (!parsed.success) {
        log.error({ job: bullJob.id, issues: formatZodIssues(parsed.error) }, "dropping malformed GPU job");
        return { dropped: true };
      }
      const job = parsed.data;
      const key = repoKey(job.repo);
      await ledger.setJobState(key, job.job, "running");
      const token = options.access ? (await options.access.forInstallation(job.repo.installationId)).token : undefined;
      const run = await executeGpuJob(job, { cache: options.cache, runners: options.runners, ...(token ? { auth: { token } } : {}) });
      await acceptResult(ledger, queues, job.repo, run);
      log.info({ repo: key, sha: job.job.sha, suite: job.suite.name, status: run.result.status }, "GPU job finished");
      return { status: run.result.status };
    },
    { connection: queues.store.redis, prefix: queues.store.prefix, concurrency: options.slots, stalledInterval: 30_000, maxStalledCount: 2 },
  );
  worker.on("failed", async (bullJob, err) => {
    log.error({ job: bullJob?.id, err: err.message }, "GPU job failed");
    const parsed = gpuJobSchema.safeParse(bullJob?.data);
    if (parsed.success && bullJob && bullJob.attemptsMade >= (bullJob.opts.attempts ?? 1)) {
      await ledger.setJobState(repoKey(parsed.data.repo), parsed.data.job, "failed", err.message);
    }
  });
  return worker;
}
