import { Queue, type JobsOptions } from "bullmq";
import type { RedisHandle } from "../store/redis.js";
import {
  analyzeJobSchema,
  jobId,
  type AnalyzeJob,
  type ControlJob,
  type FollowUpJob,
  type GpuJob,
  type IntakeJob,
  type JobRequest,
} from "../../model/jobs.js";
import { repoKey, type RepoRef } from "../../model/repo.js";
import { Coalescer, type Entry } from "./coalesce.js";
import { Lanes } from "./lanes.js";
import type { Lease } from "./lease.js";

/** Reverts, Actions runs and reruns: rare, and one at a time keeps the daily revert cap exact. */
export const CONTROL_QUEUE = "control";
/** Pushes, never behind analyses; one lane per repository and branch keeps each branch's pushes in order. */
export const INTAKE_QUEUE = "intake";
/** Analyses: several suites at once, each suite of a branch one at a time (see `Coalescer`). */
export const ANALYSIS_QUEUE = "analysis";
/** GitHub work after a push is recorded (check runs, notes): throttled writes wait here, not in a push's way. */
export const FOLLOW_UP_QUEUE = "follow-up";
export const GPU_QUEUE = "gpu";

/**
 * Control work outlasts a GitHub or database outage: twelve attempts from 2 s apart doubling to about
 * an hour apart, some two and a quarter hours in all, before a job fails for good (and even then a
 * redelivery or the next reconciliation asks for it again). Every flow is safe to run again.
 */
const RETRY: JobsOptions = { attempts: 12, backoff: { type: "exponential", delay: 2000 }, removeOnComplete: 1000, removeOnFail: 5000 };

/** BullMQ forbids ':' in custom ids; ours are built from names and shas only. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._/-]/g, "_");
}

export function gpuJobId(repo: Pick<RepoRef, "owner" | "repo">, job: JobRequest): string {
  return safeId(`${repo.owner}/${repo.repo}.${jobId(job)}`);
}

export function controlJobId(job: ControlJob): string {
  if (job.type === "reconcile") return "reconcile";
  const repo = `${job.repo.owner}/${job.repo.repo}`;
  switch (job.type) {
    case "intake":
      return safeId(`intake.${repo}.${job.before ?? "root"}.${job.after}`);
    case "revert":
      return safeId(`revert.${repo}.${job.culprit}${job.requestedBy ? `.by.${job.requestedBy}` : ""}`);
    case "actions-run":
      return safeId(`actions-run.${repo}.${job.runId}.${job.runAttempt ?? 1}`);
    case "rerun":
      return safeId(`rerun.${repo}.${job.sha}.${job.requestId}`);
    case "host-issue":
      return safeId(`host-issue.${repo}.${job.host}.${job.from}.${job.action}`);
    case "analyze":
      // Analyses repeat by design (after every result); each is keyed by a fresh nonce by the caller.
      return safeId(`analyze.${repo}.${job.suite}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`);
  }
}

/** The lane of a push: its repository and branch. */
export function intakeLane(repo: Pick<RepoRef, "owner" | "repo" | "branch">): string {
  return `${repoKey(repo)}:${repo.branch}`;
}

/** What runs one at a time: the analyses of one suite on one branch. */
export function analysisKey(job: Pick<AnalyzeJob, "repo" | "suite">): string {
  return `${repoKey(job.repo)}:${job.repo.branch}:${job.suite}`;
}

/** An analysis request still waiting for a run; `job` is null when what was stored does not parse. */
export interface PendingAnalysis {
  id: string;
  job: AnalyzeJob | null;
}

const FINISHED = new Set(["completed", "failed", "unknown"]);

/**
 * Adds a job under its deterministic id. BullMQ ignores an add whose id it still holds, which keeps
 * a redelivered webhook from doing its work twice; but a job that failed for good is asked for
 * again (a redelivery, a re-run), so it is replaced and runs once more rather than staying lost.
 */
async function addAgainIfFailed(queue: Queue, job: ControlJob, id: string): Promise<void> {
  const existing = await queue.getJob(id);
  if (existing && (await existing.isFailed())) await existing.remove();
  await queue.add(job.type, job, { ...RETRY, jobId: id });
}

/** The queues a Sheriff process talks to, all under the deployment's Redis prefix. */
export class Queues {
  readonly control: Queue<ControlJob>;
  readonly intake: Queue<IntakeJob>;
  readonly analysis: Queue<AnalyzeJob>;
  readonly followUp: Queue<FollowUpJob>;
  readonly gpu: Queue<GpuJob>;
  private readonly lanes: Lanes;
  private readonly analyses: Coalescer;

  constructor(readonly store: RedisHandle) {
    const options = { connection: store.redis, prefix: store.prefix };
    this.control = new Queue<ControlJob>(CONTROL_QUEUE, options);
    this.intake = new Queue<IntakeJob>(INTAKE_QUEUE, options);
    this.analysis = new Queue<AnalyzeJob>(ANALYSIS_QUEUE, options);
    this.followUp = new Queue<FollowUpJob>(FOLLOW_UP_QUEUE, options);
    this.gpu = new Queue<GpuJob>(GPU_QUEUE, options);
    this.lanes = new Lanes(store, INTAKE_QUEUE);
    this.analyses = new Coalescer(store, ANALYSIS_QUEUE);
  }

  /** Every queue, GPU jobs last: for waiting until all work is done, and for closing. */
  get all(): Queue[] {
    return [this.control, this.intake, this.analysis, this.followUp, this.gpu];
  }

  /** Queues a control-flow job on the queue for its kind. */
  async addControl(job: ControlJob): Promise<void> {
    const id = controlJobId(job);
    switch (job.type) {
      case "intake": {
        await this.lanes.join(intakeLane(job.repo), id);
        await addAgainIfFailed(this.intake, job, id);
        // A redelivery of a push already taken in: BullMQ ignored the add, so its lane place must go too.
        if (FINISHED.has(await this.intake.getJobState(id))) await this.lanes.leave(intakeLane(job.repo), id);
        return;
      }
      case "analyze":
        await this.analyses.request(analysisKey(job), id, job);
        await this.analysis.add(job.type, job, { ...RETRY, jobId: id });
        return;
      default:
        await addAgainIfFailed(this.control, job, id);
    }
  }

  /** Waits, up to `maxWaitMs`, until the push is the oldest one of its branch still to be taken in. */
  intakeTurn(job: IntakeJob, id: string, maxWaitMs: number): Promise<boolean> {
    return this.lanes.turn(intakeLane(job.repo), id, {
      maxWaitMs,
      finished: async (head) => FINISHED.has(await this.intake.getJobState(head)),
    });
  }

  async intakeDone(job: IntakeJob, id: string): Promise<void> {
    await this.lanes.leave(intakeLane(job.repo), id);
  }

  /**
   * Reconciliation every `everyMs`, the first round at once: one schedule in Redis, however many
   * app processes ask for it, so one round runs per period.
   */
  async scheduleReconciliation(everyMs: number): Promise<void> {
    const job: ControlJob = { type: "reconcile" };
    await this.control.upsertJobScheduler(
      "reconcile",
      { every: everyMs, immediately: true },
      { name: job.type, data: job, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  /** The follow-up of one intake job: one per push, however often the intake job is retried. */
  async addFollowUp(job: FollowUpJob, intakeId: string): Promise<void> {
    await this.followUp.add(job.type, job, { ...RETRY, jobId: safeId(`follow-up.${intakeId}`) });
  }

  enterAnalysis(job: AnalyzeJob, id: string): Promise<Entry> {
    return this.analyses.enter(analysisKey(job), id);
  }

  /** The analyses of the job's suite requested and not yet served, oldest first. */
  async pendingAnalyses(job: AnalyzeJob): Promise<PendingAnalysis[]> {
    return (await this.analyses.pending(analysisKey(job))).map(({ id, payload }) => {
      const parsed = analyzeJobSchema.safeParse(payload);
      return { id, job: parsed.success ? parsed.data : null };
    });
  }

  async analysesServed(job: AnalyzeJob, ids: string[]): Promise<void> {
    await this.analyses.served(analysisKey(job), ids);
  }

  /** After a run: true (keeping the lease) when more analyses of the suite were asked for meanwhile. */
  analyzeAgain(job: AnalyzeJob, lease: Lease): Promise<boolean> {
    return this.analyses.again(lease, analysisKey(job));
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
    await Promise.all(this.all.map((q) => q.close()));
  }
}
