import { Worker, type Job } from "bullmq";
import { controlJobSchema, type ControlJob } from "../model/jobs.js";
import { CONTROL_QUEUE } from "../adapters/queue/queues.js";
import { analyzeSuite } from "./analyze.js";
import type { PipelineDeps } from "./deps.js";
import { intakePush } from "./intake.js";
import { collectActionsRun } from "./actionsRun.js";
import { rerunSuites } from "./rerun.js";
import { revertCulprit } from "./revert.js";
import { formatZodIssues } from "../model/zod.js";

export async function processControlJob(deps: PipelineDeps, data: unknown): Promise<unknown> {
  const parsed = controlJobSchema.safeParse(data);
  if (!parsed.success) {
    // Retrying cannot fix malformed data: log it whole and drop it rather than loop.
    deps.log.error({ issues: formatZodIssues(parsed.error), data }, "dropping malformed control job");
    return { dropped: true };
  }
  const job: ControlJob = parsed.data;
  switch (job.type) {
    case "intake":
      return intakePush(deps, job);
    case "analyze":
      return (await analyzeSuite(deps, job)).map((d) => d.type);
    case "revert":
      return revertCulprit(deps, job);
    case "actions-run":
      return collectActionsRun(deps, job);
    case "rerun":
      return rerunSuites(deps, job.repo, job.sha, job.suites);
  }
}

/**
 * The app side of the flow. Concurrency 1 keeps analyses of one repository in order;
 * scale out by running more app processes, each still one at a time.
 */
export function startControlWorker(deps: PipelineDeps): Worker {
  const worker = new Worker(CONTROL_QUEUE, (job: Job) => processControlJob(deps, job.data), {
    connection: deps.queues.store.redis,
    prefix: deps.queues.store.prefix,
    concurrency: 1,
  });
  worker.on("failed", (job, err) => deps.log.error({ job: job?.id, err: err.message }, "control job failed"));
  return worker;
}
