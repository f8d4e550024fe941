import type { Octokit } from "@octokit/rest";
import { RateLimitError, Worker, type Job, type Queue } from "bullmq";
import type { RedisHandle } from "../adapters/store/redis.js";
import { landReadiness, type LandReadiness } from "../core/land/policy.js";
import {
  blockedComment,
  landedComment,
  landErrorComment,
  landReportMarker,
  type LandAudience,
  type LandBlock,
} from "../core/land/messages.js";
import {
  baseChangeBlock,
  mergeFailure,
  ownMerge,
  planNotReady,
  updateRefusal,
  waitDeadline,
  type LandProgress,
  type NotReady,
} from "../core/land/step.js";
import { commentOnce } from "../adapters/github/comments.js";
import { LAND_JOB_OPTIONS, LandQueues, landKeys } from "../adapters/queue/land.js";
import type { LandJobData } from "../model/land.js";
import { silentLog, type Log } from "../model/log.js";
import { httpStatusOf } from "../adapters/github/httpStatus.js";
import { createPermissionChecker, type PermissionChecker } from "../adapters/github/permissions.js";

export interface LandTiming {
  /** How long to wait before looking again while checks run or GitHub computes mergeability. */
  pollIntervalMs: number;
  /** Give up waiting this long after the worker first looked at the PR (GPU CI is slow). */
  maxWaitMs: number;
  /** How many times the PR branch may be updated from its base before giving up. */
  maxUpdates: number;
  /** How many merge attempts may meet a moved head (409) before giving up. */
  maxMergeAttempts: number;
  /** How often a worker looks for new branches' queues (other processes may create them). */
  discoverIntervalMs: number;
}

export const DEFAULT_LAND_TIMING: LandTiming = {
  pollIntervalMs: 30_000,
  maxWaitMs: 4 * 3600_000,
  maxUpdates: 5,
  maxMergeAttempts: 3,
  discoverIntervalMs: 10_000,
};

export type RequiredChecksLookup = (octokit: Octokit, owner: string, repo: string, branch: string) => Promise<string[]>;

/** Whether the branch's protection dismisses approvals when new commits are pushed. */
export type StaleReviewsLookup = (octokit: Octokit, owner: string, repo: string, branch: string) => Promise<boolean>;

export interface LandWorkerOptions {
  redis: RedisHandle;
  /** An Octokit authenticated as the app's installation. */
  octokitFor(installationId: number): Promise<Octokit>;
  /** The app's slug, for "comment `@slug land` again". */
  slug: string;
  /** Which checks must be green; defaults to branch protection plus rulesets (`requiredChecksFromGitHub`). */
  requiredChecks?: RequiredChecksLookup;
  /** Defaults to classic branch protection's `dismiss_stale_reviews` (`dismissStaleReviewsFromGitHub`). */
  staleReviews?: StaleReviewsLookup;
  /** Whose approvals count; defaults to the collaborator permission API, cached in `redis`. */
  permissions?: PermissionChecker;
  timing?: Partial<LandTiming>;
  log?: Log;
  now?: () => number;
}

export interface LandWorker {
  /** Starts a BullMQ worker for every known branch queue and keeps looking for new ones. */
  start(): Promise<void>;
  /** Looks for new branch queues now (`start` does it every `discoverIntervalMs`). */
  refresh(): Promise<void>;
  /** Stops taking jobs and waits for the one in hand (a check step is short: waiting happens in the queue). */
  close(): Promise<void>;
}

export type LandOutcome = { outcome: "landed"; sha: string } | { outcome: "blocked"; reason: string } | { outcome: "cancelled" };

function messageOf(err: unknown): string {
  const e = err as { response?: { data?: { message?: string } }; message?: string };
  return e.response?.data?.message ?? e.message ?? String(err);
}

/** Required checks from classic branch protection and from rulesets; endpoints the app cannot read count as none. */
export const requiredChecksFromGitHub: RequiredChecksLookup = async (octokit, owner, repo, branch) => {
  const names = new Set<string>();
  try {
    const { data } = await octokit.rest.repos.getBranch({ owner, repo, branch });
    const required = data.protection?.required_status_checks;
    for (const context of required?.contexts ?? []) names.add(context);
    for (const check of required?.checks ?? []) names.add(check.context);
  } catch (err) {
    if (httpStatusOf(err) !== 404 && httpStatusOf(err) !== 403) throw err;
  }
  try {
    const { data } = await octokit.rest.repos.getBranchRules({ owner, repo, branch, per_page: 100 });
    for (const rule of data) {
      if (rule.type === "required_status_checks") {
        for (const check of rule.parameters?.required_status_checks ?? []) names.add(check.context);
      }
    }
  } catch (err) {
    if (httpStatusOf(err) !== 404 && httpStatusOf(err) !== 403) throw err;
  }
  return [...names];
};

/** `dismiss_stale_reviews` of the branch's protection; an unprotected branch (404) or one the app cannot read (403) has none. */
export const dismissStaleReviewsFromGitHub: StaleReviewsLookup = async (octokit, owner, repo, branch) => {
  try {
    const { data } = await octokit.rest.repos.getBranchProtection({ owner, repo, branch });
    return data.required_pull_request_reviews?.dismiss_stale_reviews ?? false;
  } catch (err) {
    if (httpStatusOf(err) !== 404 && httpStatusOf(err) !== 403) throw err;
    return false;
  }
};

/** A land job's data: the request and the progress saved between looks. */
type LandJob = LandJobData & LandProgress;

class WaitSignal {
  constructor(readonly data: LandJob) {}
}

type Pull = Awaited<ReturnType<Octokit["rest"]["pulls"]["get"]>>["data"];

/** What one land step needs besides the job: the worker's settings, resolved. */
interface StepDeps {
  redis: RedisHandle;
  slug: string;
  timing: LandTiming;
  log: Log;
  now: () => number;
  requiredChecks: RequiredChecksLookup;
  staleReviews: StaleReviewsLookup;
  permissions: PermissionChecker;
}

/** Posts on the PR and ends the job: blocked (with why and what to do) or landed. */
interface Report {
  blocked(block: LandBlock): Promise<LandOutcome>;
  landed(sha: string): Promise<LandOutcome>;
}

async function finish(redis: RedisHandle, jobId: string): Promise<void> {
  await redis.redis.del(landKeys.jobQueue(redis, jobId), landKeys.cancel(redis, jobId));
}

async function isCancelled(redis: RedisHandle, jobId: string): Promise<string | null> {
  return redis.redis.get(landKeys.cancel(redis, jobId));
}

/** Posts the land request's one report on the PR: a retry after a lost answer finds it by its marker. */
function sayOnce(deps: Pick<StepDeps, "slug">, octokit: Octokit, data: LandJobData, body: string): Promise<number> {
  const post = { marker: landReportMarker(data.requestId), body, author: `${deps.slug}[bot]` };
  return commentOnce(octokit, { owner: data.owner, repo: data.repo }, { issue: data.pr }, post);
}

function reporter(deps: StepDeps, octokit: Octokit, data: LandJob, pull: Pull): Report {
  const { pr, branch, method, requestedBy } = data;
  const author = pull.user?.login ?? "";
  const say = (body: string) => sayOnce(deps, octokit, data, body);
  const audience: LandAudience = { slug: deps.slug, requestedBy, pr, base: pull.base.ref, author };
  return {
    async blocked(block) {
      await say(blockedComment(audience, block));
      return { outcome: "blocked", reason: block.reason };
    },
    async landed(sha) {
      await say(landedComment({ sha, requestedBy, method, branch, author }));
      return { outcome: "landed", sha };
    },
  };
}

/** Reviews, checks and statuses at the PR's head, and what the pure policy makes of them. */
async function readReadiness(deps: StepDeps, octokit: Octokit, data: LandJob, pull: Pull): Promise<LandReadiness> {
  const { owner, repo, pr, branch } = data;
  const head = pull.head.sha;
  const [reviews, checkRuns, combined, required, dismissStaleReviews] = await Promise.all([
    octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: pr, per_page: 100 }),
    octokit.paginate(octokit.rest.checks.listForRef, { owner, repo, ref: head, per_page: 100 }),
    octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: head, per_page: 100 }),
    deps.requiredChecks(octokit, owner, repo, branch),
    deps.staleReviews(octokit, owner, repo, branch),
  ]);
  const approvers = [...new Set(reviews.filter((r) => r.state === "APPROVED" && r.user).map((r) => r.user!.login))];
  const permissions = Object.fromEntries(
    await Promise.all(approvers.map(async (login) => [login, await deps.permissions.permissionOf(octokit, owner, repo, login)] as const)),
  );
  const readiness: LandReadiness = landReadiness({
    pr: pull,
    reviews: reviews.map((r) => ({
      user: r.user ? { login: r.user.login } : null,
      state: r.state,
      submitted_at: r.submitted_at ?? null,
      id: r.id,
      commit_id: r.commit_id,
    })),
    requiredChecks: required,
    checkRuns: checkRuns.map((c) => ({ name: c.name, status: c.status, conclusion: c.conclusion, id: c.id })),
    statuses: combined.data.statuses.map((s) => ({ context: s.context, state: s.state })),
    permissions,
    dismissStaleReviews,
  });
  deps.log.debug({ owner, repo, pr, head, readiness, check: data.checks }, "land check");
  return readiness;
}

/** Asks GitHub to update the PR branch from its base; records it in `data`. A block when it conflicts. */
async function updateFromBase(deps: StepDeps, octokit: Octokit, data: LandJob, head: string): Promise<LandBlock | null> {
  const { owner, repo, pr } = data;
  try {
    await octokit.rest.pulls.updateBranch({ owner, repo, pull_number: pr, expected_head_sha: head });
    data.updates = (data.updates ?? 0) + 1;
    data.updatedFrom = head;
    deps.log.info({ owner, repo, pr, head }, "land: updated the PR branch from its base");
    return null;
  } catch (err) {
    if (httpStatusOf(err) !== 422) throw err;
    const message = messageOf(err);
    const refused = updateRefusal(message, data.branch);
    if (refused) return refused;
    deps.log.info({ owner, repo, pr, message }, "land: update-branch refused; checking again");
    return null;
  }
}

/** A PR not ready yet: block, or update it from its base if the policy says so, then wait (within the deadline). */
async function whileNotReady(
  deps: StepDeps,
  octokit: Octokit,
  data: LandJob,
  head: string,
  readiness: NotReady,
  report: Report,
): Promise<LandOutcome | WaitSignal> {
  const plan = planNotReady(readiness, data, head, data.branch, deps.timing.maxUpdates);
  if (plan.action === "blocked") return report.blocked(plan.block);
  if (plan.action === "update") {
    const refused = await updateFromBase(deps, octokit, data, head);
    if (refused) return report.blocked(refused);
  }
  const late = waitDeadline(deps.now(), data.firstCheckAt!, deps.timing.maxWaitMs, readiness.waitFor);
  if (late) return report.blocked(late);
  return new WaitSignal(data);
}

/**
 * Merges exactly the head that was checked; a race with a push is looked at again. The head is
 * saved with the job first, so a retry after a lost answer recognises the merge as its own.
 */
async function mergePull(
  deps: StepDeps,
  octokit: Octokit,
  job: Job<LandJob>,
  data: LandJob,
  head: string,
  report: Report,
): Promise<LandOutcome | WaitSignal> {
  const { owner, repo, pr, method } = data;
  data.mergingHead = head;
  await job.updateData(data);
  try {
    const { data: merged } = await octokit.rest.pulls.merge({ owner, repo, pull_number: pr, sha: head, merge_method: method });
    return await report.landed(merged.sha);
  } catch (err) {
    const code = httpStatusOf(err);
    const message = messageOf(err);
    const failure = mergeFailure(code, message, data, data.branch, deps.timing.maxMergeAttempts);
    if (failure.action === "throw") throw err;
    if (failure.action === "blocked") return report.blocked(failure.block);
    data.mergeAttempts = failure.mergeAttempts;
    deps.log.info({ owner, repo, pr, code, message }, "land: merge raced a push; checking again");
    return new WaitSignal(data);
  }
}

/** One look at a queued PR: cancelled? still for this branch? ready? then update, wait, or merge. */
async function landStep(deps: StepDeps, job: Job<LandJob>, octokit: Octokit): Promise<LandOutcome | WaitSignal> {
  const jobId = job.id!;
  const data: LandJob = { ...job.data, firstCheckAt: job.data.firstCheckAt ?? deps.now(), checks: (job.data.checks ?? 0) + 1 };
  const { data: pull } = await octokit.rest.pulls.get({ owner: data.owner, repo: data.repo, pull_number: data.pr });
  const report = reporter(deps, octokit, data, pull);
  // Merged at the head this job asked to merge: the answer was lost, the merge was not.
  const merged = ownMerge(pull, data);
  if (merged) return report.landed(merged);
  if (await isCancelled(deps.redis, jobId)) return { outcome: "cancelled" };

  const moved = baseChangeBlock(data.branch, pull.base.ref);
  if (moved) return report.blocked(moved);

  const readiness = await readReadiness(deps, octokit, data, pull);
  if (!readiness.ready) return whileNotReady(deps, octokit, data, pull.head.sha, readiness, report);

  if (await isCancelled(deps.redis, jobId)) return { outcome: "cancelled" };
  return mergePull(deps, octokit, job, data, pull.head.sha, report);
}

/** Runs a step; an error is retried by BullMQ, then reported; a wait puts the job back at the head of its queue. */
async function processJob(
  deps: StepDeps & { octokitFor(installationId: number): Promise<Octokit> },
  queue: Queue<LandJobData>,
  job: Job<LandJob, LandOutcome>,
): Promise<LandOutcome> {
  const { log, redis } = deps;
  const jobId = job.id!;
  const octokit = await deps.octokitFor(job.data.installationId);
  let result: LandOutcome | WaitSignal;
  try {
    result = await landStep(deps, job, octokit);
  } catch (err) {
    const attempts = job.opts.attempts ?? LAND_JOB_OPTIONS.attempts ?? 1;
    log.error({ err, jobId, attempt: job.attemptsMade + 1 }, "land step failed");
    if (job.attemptsMade + 1 < attempts) throw err;
    await finish(redis, jobId);
    const { pr, requestedBy } = job.data;
    await sayOnce(deps, octokit, job.data, landErrorComment({ requestedBy, pr, slug: deps.slug, message: messageOf(err) })).catch(
      (e: unknown) => log.error({ err: e, jobId }, "could not post the land failure"),
    );
    return { outcome: "blocked", reason: `error: ${messageOf(err)}` };
  }
  if (result instanceof WaitSignal) {
    await job.updateData(result.data);
    // Hold the branch queue for a while; the job goes back to its head (BullMQ manual rate limit).
    await queue.rateLimit(deps.timing.pollIntervalMs);
    throw new RateLimitError();
  }
  await finish(redis, jobId);
  log.info({ jobId, ...result }, "land finished");
  return result;
}

/**
 * Consumes every branch's land queue, one PR at a time per branch (BullMQ global concurrency 1,
 * worker concurrency 1), in FIFO order.
 *
 * Waiting (for checks, for GitHub to compute mergeability, after an update-branch) does not hold
 * a worker: the job's progress is saved in its data, the branch queue is paused for
 * `pollIntervalMs` (BullMQ's manual rate limit) and the job goes back to the head of the queue,
 * so the PR keeps its place and nothing behind it lands first. Attempts and an overall deadline
 * bound the waiting.
 */
export function createLandWorker(options: LandWorkerOptions): LandWorker {
  const { redis, octokitFor, slug } = options;
  const timing: LandTiming = { ...DEFAULT_LAND_TIMING, ...options.timing };
  const log = options.log ?? silentLog;
  const now = options.now ?? Date.now;
  const requiredChecks = options.requiredChecks ?? requiredChecksFromGitHub;
  const staleReviews = options.staleReviews ?? dismissStaleReviewsFromGitHub;
  const permissions = options.permissions ?? createPermissionChecker({ redis });
  const deps = { redis, octokitFor, slug, timing, log, now, requiredChecks, staleReviews, permissions };
  const queues = new LandQueues(redis);
  const workers = new Map<string, Worker<LandJobData, LandOutcome>>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function startWorker(name: string): Promise<void> {
    if (workers.has(name) || closed) return;
    const queue = await queues.get(name);
    const worker = new Worker<LandJobData, LandOutcome>(name, (job) => processJob(deps, queue, job), {
      connection: redis.redis,
      prefix: redis.prefix,
      concurrency: 1,
      // Needed for the manual rate limit to pause the queue; high enough never to limit by itself.
      limiter: { max: 1_000_000, duration: 1000 },
    });
    worker.on("error", (err) => log.error({ err, queue: name }, "land worker error"));
    workers.set(name, worker);
  }

  async function refresh(): Promise<void> {
    const names = await redis.redis.smembers(landKeys.queues(redis));
    for (const name of names) await startWorker(name);
  }

  return {
    async start() {
      await refresh();
      timer = setInterval(() => {
        refresh().catch((err: unknown) => log.error({ err }, "land queue discovery failed"));
      }, timing.discoverIntervalMs);
      timer.unref();
    },
    refresh,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      const all = [...workers.values()];
      workers.clear();
      await Promise.all(all.map((w) => w.close()));
      await queues.close();
    },
  };
}
