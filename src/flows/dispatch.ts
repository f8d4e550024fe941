import type { SheriffConfig, SuiteConfig } from "../model/config.js";
import { DISPATCH_NOTE, dispatchNoteText, newDispatch } from "./actionsRun.js";
import { refreshCheckRun } from "./checkRun.js";
import type { PipelineDeps } from "./deps.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import { jobId, type JobRequest, type Placement } from "../model/jobs.js";
import { shortSha } from "../model/sha.js";

/** What a dispatch can leave to its caller's follow-up, so that nothing after the GPU job's queueing waits in line. */
export interface DeferredDispatch {
  notes: { kind: string; sha: string; suite?: string; text: string }[];
  /** `landed` jobs queued whose older queued jobs of the same suite are to be withdrawn. */
  supersede: JobRequest[];
}

/**
 * Sends a GPU job where the config says GPU jobs run: the queue that `sheriff worker`
 * hosts pull from, or a `workflow_dispatch` of the post-land workflow on self-hosted runners.
 * Returns false when the ledger already knew the job (nothing is sent twice). Queued jobs carry
 * their placement (hosts to avoid, a canary's host); Actions runners are picked by GitHub.
 *
 * With `later`, its timeline note and the withdrawal of the older queued `landed` jobs it replaces
 * are handed to the caller (intake does them on its follow-up queue, after its branch's turn);
 * without it they are done here.
 */
export async function dispatchJob(
  deps: PipelineDeps,
  repo: RepoRef,
  config: SheriffConfig,
  suite: SuiteConfig,
  job: JobRequest,
  options: { later?: DeferredDispatch; placement?: Placement } = {},
): Promise<boolean> {
  const key = repoKey(repo);
  if (!(await deps.ledger.recordJobQueued(key, job))) return false;
  if (config.runner.mode === "actions") {
    const { octokit } = await deps.access.forInstallation(repo.installationId);
    const dispatch = newDispatch(job, config.runner.workflow, repo.branch);
    // Recorded first: a run that completes before this call returns must find its dispatch.
    await deps.ledger.note(key, { kind: DISPATCH_NOTE, sha: job.sha, suite: suite.name, text: dispatchNoteText(dispatch) });
    await octokit.rest.actions.createWorkflowDispatch({
      owner: repo.owner,
      repo: repo.repo,
      workflow_id: config.runner.workflow,
      ref: repo.branch,
      inputs: { sha: job.sha, suite: suite.name, job: JSON.stringify(job), job_id: dispatch.jobId, nonce: dispatch.nonce },
    });
  } else {
    await deps.queues.addGpu({ repo, job, suite, ...options.placement });
    // After the new job is queued: its GPU job waits for nothing, and the older ones were only waiting anyway.
    if (job.purpose === "landed") {
      if (options.later) options.later.supersede.push(job);
      else for (const sha of await supersedeQueuedLanded(deps, repo, job)) await refreshCheckRun(deps, repo, sha);
    }
  }
  const note = { kind: "job", sha: job.sha, suite: suite.name, text: `queued ${job.purpose} job ${jobId(job)}` };
  if (options.later) options.later.notes.push(note);
  else await deps.ledger.note(key, note);
  return true;
}

/**
 * When commits land faster than GPUs run, only the newest commit of a suite waits for a GPU:
 * older `landed` jobs still queued are withdrawn, and bisection covers those commits if the
 * newest one turns out bad. A job a worker already started is left to finish.
 */
export async function supersedeQueuedLanded(deps: PipelineDeps, repo: RepoRef, newest: JobRequest): Promise<string[]> {
  const key = repoKey(repo);
  const active = await deps.ledger.activeJobs(key, newest.suite);
  // Only jobs queued before it: run late (on a follow-up queue), this may find newer pushes' jobs
  // queued after it, which are not its to withdraw. Once it runs or ran, those before it have too.
  const position = active.findIndex((r) => r.id === jobId(newest));
  const waiting = active
    .slice(0, Math.max(position, 0))
    .filter((r) => r.state === "queued" && r.job.purpose === "landed" && r.job.suite === newest.suite && r.job.sha !== newest.sha);
  const withdrawn: string[] = [];
  for (const { job } of waiting) {
    if (!(await deps.queues.withdrawGpu(repo, job))) continue;
    withdrawn.push(job.sha);
    await deps.ledger.setJobState(key, job, "superseded", `superseded by ${newest.sha}`);
    await deps.ledger.note(key, {
      kind: "superseded",
      sha: job.sha,
      suite: job.suite,
      text: `not tested on its own: ${shortSha(newest.sha)} landed before a GPU was free`,
    });
  }
  return withdrawn;
}
