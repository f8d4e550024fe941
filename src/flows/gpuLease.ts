import { z } from "zod";
import type { ReadToken } from "../adapters/github/access.js";
import type { GpuLease, GpuLeases } from "../adapters/queue/gpuLeases.js";
import type { Queues } from "../adapters/queue/queues.js";
import type { Ledger } from "../adapters/store/ledger.js";
import { gpuJobSchema, type GpuJob } from "../model/jobs.js";
import { repoKey } from "../model/repo.js";
import { jobResultMismatch, parseSuiteResult } from "../model/result.js";
import { formatZodIssues } from "../model/zod.js";
import { acceptResult } from "./results.js";
import { routeTakenJob } from "./routing.js";
import { withHost } from "../model/result.js";

export interface LeaseDeps {
  leases: GpuLeases;
  ledger: Ledger;
  queues: Queues;
  /** A short-lived token that reads the job's repository and nothing else. */
  readToken?: ReadToken;
}

/** What a remote runner gets: the job, the lease that lets it report on it, and a token to fetch the commit. */
export interface RunnerAssignment {
  lease: GpuLease;
  job: GpuJob;
  token?: string;
}

/** What a runner sends back: only the results; which job they are for is the app's record, not the runner's word. */
export const runnerReportSchema = z.object({ result: z.unknown(), baselineResult: z.unknown().optional() });
export type RunnerReport = z.infer<typeof runnerReportSchema>;

/** Jobs one lease call looks at before answering that none waits for this runner. */
const LOOK_AT = 20;

/**
 * The next GPU job for the runner named `host`, or null when none waits for it. Malformed jobs are
 * dropped on the way, and jobs meant for other hosts handed back (see core/routing.ts).
 */
export async function assignGpuJob(deps: LeaseDeps, host: string): Promise<RunnerAssignment | null> {
  for (let looked = 0; looked < LOOK_AT; looked++) {
    const taken = await deps.leases.take();
    if (!taken) return null;
    const parsed = gpuJobSchema.safeParse(taken.data);
    if (!parsed.success) {
      await deps.leases.complete(taken.lease, { dropped: true, issues: formatZodIssues(parsed.error) });
      continue;
    }
    const job = parsed.data;
    const routing = await routeTakenJob(deps.ledger, job, host);
    if (routing.kind === "drop") {
      await deps.ledger.setJobState(repoKey(job.repo), job.job, "failed", routing.reason);
      await deps.leases.complete(taken.lease, { dropped: true, reason: routing.reason });
      continue;
    }
    if (routing.kind === "pass") {
      await deps.leases.handBack(taken.lease, { ...job, passedOver: routing.passedOver }, routing.delayMs);
      continue;
    }
    await deps.ledger.setJobState(repoKey(job.repo), job.job, "running");
    const token = deps.readToken ? await deps.readToken(job.repo) : undefined;
    return { lease: taken.lease, job, ...(token ? { token } : {}) };
  }
  return null;
}

export class RejectedReportError extends Error {
  override name = "RejectedReportError";
}

/**
 * A runner's results for its lease, checked against the job the app handed out (commit, suite,
 * A/B baseline) before they enter the ledger; a report that does not match is refused, and the
 * job stays leased so the runner can still report a failure.
 */
export async function acceptRunnerReport(
  deps: LeaseDeps,
  lease: GpuLease,
  host: string,
  report: RunnerReport,
): Promise<{ status: string }> {
  const job = (await deps.leases.held(lease)).data;
  const source = `runner report for ${lease.jobId}`;
  let result, baselineResult;
  try {
    result = parseSuiteResult(report.result, source);
    baselineResult = report.baselineResult === undefined ? undefined : parseSuiteResult(report.baselineResult, `${source} (baseline)`);
  } catch (err) {
    throw new RejectedReportError((err as Error).message);
  }
  const mismatch = jobResultMismatch(job.job, result, baselineResult);
  if (mismatch) throw new RejectedReportError(`${source}: ${mismatch}`);
  // The host is the runner the token belongs to, not what its report says: routing and host health rely on it.
  result = withHost(result, host);
  baselineResult = baselineResult && withHost(baselineResult, host);
  await acceptResult(deps.ledger, deps.queues, job.repo, { job: job.job, result, ...(baselineResult ? { baselineResult } : {}) });
  await deps.leases.complete(lease, { status: result.status });
  return { status: result.status };
}

/** A runner could not run the job (a fetch that failed, a broken host): retried elsewhere until attempts run out. */
export async function failRunnerJob(deps: LeaseDeps, lease: GpuLease, reason: string): Promise<{ retried: boolean }> {
  const job = (await deps.leases.held(lease)).data;
  const final = await deps.leases.fail(lease, reason);
  if (final) await deps.ledger.setJobState(repoKey(job.repo), job.job, "failed", reason);
  return { retried: !final };
}
