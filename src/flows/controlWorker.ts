import { DelayedError, Worker, type Job } from "bullmq";
import type { z } from "zod";
import { analyzeJobSchema, controlJobSchema, followUpJobSchema, intakeJobSchema, type AnalyzeJob, type ControlJob } from "../model/jobs.js";
import { ANALYSIS_QUEUE, CONTROL_QUEUE, FOLLOW_UP_QUEUE, INTAKE_QUEUE } from "../adapters/queue/queues.js";
import { holding, type Lease } from "../adapters/queue/lease.js";
import { analyzeSuite } from "./analyze.js";
import { refreshCheckRun } from "./checkRun.js";
import type { PipelineDeps } from "./deps.js";
import { followUpPush, preparePush, recordPush, storedFollowUp } from "./intake.js";
import { tellHostQuarantine } from "./hostHealth.js";
import { collectActionsRun } from "./actionsRun.js";
import { reconcileBranches } from "./reconcile.js";
import { rerunSuites } from "./rerun.js";
import { revertCulprit } from "./revert.js";
import { formatZodIssues } from "../model/zod.js";

/**
 * How long a push waits in its worker slot for the earlier pushes of its branch. Long: jobs are
 * fetched in queue order, so the head of a lane is normally running and the wait is one intake per
 * push ahead. Giving slots up early would let later pushes fill them while the head waits outside.
 * A push that fails leaves the lane at once, so no branch waits on a push being retried.
 */
const INTAKE_TURN_MS = 60_000;
/** When to look again at an analysis whose suite was being analyzed: by then that run has usually served it. */
const ANALYSIS_RECHECK_MS = 500;

export interface ControlConcurrency {
  /** Pushes taken in at once (different branches; one branch is one at a time in any case). */
  intake: number;
  /** Analyses at once (different suites; one suite of a branch is one at a time in any case). */
  analysis: number;
  /** Push follow-ups at once (check runs and notes; GitHub's write limits pace them in any case). */
  followUp: number;
}

function parseJob<T>(deps: PipelineDeps, schema: z.ZodType<T>, data: unknown): T | null {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  // Retrying cannot fix malformed data: log it whole and drop it rather than loop.
  deps.log.error({ issues: formatZodIssues(parsed.error), data }, "dropping malformed control job");
  return null;
}

/** Gives the worker slot back and runs the job again later; this does not count as an attempt. */
async function later(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

export async function processControlJob(deps: PipelineDeps, data: unknown): Promise<unknown> {
  const job: ControlJob | null = parseJob(deps, controlJobSchema, data);
  if (!job) return { dropped: true };
  switch (job.type) {
    case "intake":
    case "analyze":
      // Queued here by an earlier version of Sheriff: on to the queue that now runs it.
      await deps.queues.addControl(job);
      return { moved: job.type };
    case "revert":
      return revertCulprit(deps, job);
    case "actions-run":
      return collectActionsRun(deps, job);
    case "rerun":
      return rerunSuites(deps, job.repo, job.sha, job.suites);
    case "reconcile":
      return reconcileBranches(deps);
    case "host-issue":
      return tellHostQuarantine(deps, job);
  }
}

/**
 * A push: prepared (read-only) at once with the other pushes of its branch, recorded in its
 * branch's turn, once every earlier push was; its check runs and notes are left to the follow-up
 * queue. What the turn recorded is kept with the job first, so a retry after it only hands over.
 */
export async function processIntakeJob(deps: PipelineDeps, job: Job, token?: string): Promise<unknown> {
  const push = parseJob(deps, intakeJobSchema, job.data);
  if (!push) return { dropped: true };
  const id = job.id!;
  let followUp = storedFollowUp(job.data);
  if (!followUp) {
    try {
      const prepared = await preparePush(deps, push);
      if (prepared.kind === "done") {
        await deps.queues.intakeDone(push, id);
        return prepared.outcome;
      }
      if (!(await deps.queues.intakeTurn(push, id, INTAKE_TURN_MS))) return later(job, token, 1000);
      followUp = await recordPush(deps, push, prepared);
      await job.updateData({ ...push, followUp });
    } catch (err) {
      // The branch's later pushes go ahead meanwhile: each is measured against the ledger's tip, so
      // the first of them records this push's commits too, and this one, retried, finds them there.
      if (!(err instanceof DelayedError)) await deps.queues.intakeDone(push, id);
      throw err;
    }
  }
  await deps.queues.intakeDone(push, id);
  const { notes, queued, uncovered, supersede, landed } = followUp;
  if (notes.length + queued.length + uncovered.length + supersede.length + (landed?.length ?? 0) > 0) {
    await deps.queues.addFollowUp(
      { type: "follow-up", repo: push.repo, after: push.after, notes, queued, uncovered, supersede, ...(landed ? { landed } : {}) },
      id,
    );
  }
  return followUp.outcome;
}

export async function processFollowUpJob(deps: PipelineDeps, data: unknown): Promise<unknown> {
  const job = parseJob(deps, followUpJobSchema, data);
  if (!job) return { dropped: true };
  await followUpPush(deps, job.repo, job);
  return { checkRuns: job.queued.length + job.uncovered.length, notes: job.notes.length };
}

/**
 * One analysis of a suite standing for every request of it made so far: the engine recomputes
 * from the ledger, so the newest request (its config sha) decides; the other results' commits
 * get their check runs refreshed. Repeats while requests arrive during the run.
 */
async function analyzeWhileRequested(deps: PipelineDeps, job: AnalyzeJob, lease: Lease): Promise<string[]> {
  const decisions: string[] = [];
  do {
    const pending = await deps.queues.pendingAnalyses(job);
    const requests = pending.flatMap((p) => (p.job ? [p.job] : []));
    const newest = requests.at(-1) ?? job;
    decisions.push(...(await analyzeSuite(deps, newest)).map((d) => d.type));
    const refreshed = new Set([newest.sha]);
    for (const { sha } of requests) {
      if (sha && !refreshed.has(sha)) await refreshCheckRun(deps, job.repo, sha);
      refreshed.add(sha);
    }
    await deps.queues.analysesServed(
      job,
      pending.map((p) => p.id),
    );
  } while (await deps.queues.analyzeAgain(job, lease));
  return decisions;
}

export async function processAnalysisJob(deps: PipelineDeps, job: Job, token?: string): Promise<unknown> {
  const request = parseJob(deps, analyzeJobSchema, job.data);
  if (!request) return { dropped: true };
  const entry = await deps.queues.enterAnalysis(request, job.id!);
  if (entry.kind === "served") return { coalesced: true };
  if (entry.kind === "busy") return later(job, token, ANALYSIS_RECHECK_MS);
  return holding(entry.lease, () => analyzeWhileRequested(deps, request, entry.lease));
}

export interface ControlWorkers {
  control: Worker;
  intake: Worker;
  analysis: Worker;
  followUp: Worker;
  close(): Promise<void>;
}

/**
 * The app side of the flow, one worker per queue: pushes are taken in while analyses run, and
 * analyses of different suites run side by side. Ordering lives in Redis (lanes and leases),
 * so any number of app processes can share the queues.
 */
export function startControlWorkers(deps: PipelineDeps, concurrency: ControlConcurrency): ControlWorkers {
  const options = { connection: deps.queues.store.redis, prefix: deps.queues.store.prefix };
  const start = (name: string, processor: (job: Job, token?: string) => Promise<unknown>, n: number) => {
    const worker = new Worker(name, processor, { ...options, concurrency: n });
    worker.on("failed", (job, err) => deps.log.error({ queue: name, job: job?.id, err: err.message }, "control job failed"));
    // A lost Redis connection is reported here; BullMQ reconnects, and without a listener Node would end the process.
    worker.on("error", (err) => deps.log.error({ queue: name, err: err.message }, "control worker error"));
    return worker;
  };
  const workers = {
    control: start(CONTROL_QUEUE, (job) => processControlJob(deps, job.data), 1),
    intake: start(INTAKE_QUEUE, (job, token) => processIntakeJob(deps, job, token), concurrency.intake),
    analysis: start(ANALYSIS_QUEUE, (job, token) => processAnalysisJob(deps, job, token), concurrency.analysis),
    followUp: start(FOLLOW_UP_QUEUE, (job) => processFollowUpJob(deps, job.data), concurrency.followUp),
  };
  return {
    ...workers,
    async close() {
      await Promise.all(Object.values(workers).map((w) => w.close()));
    },
  };
}
