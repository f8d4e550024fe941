import type { SheriffConfig, SuiteConfig } from "../model/config.js";
import { DISPATCH_NOTE, dispatchNoteText, newDispatch } from "./actionsRun.js";
import { refreshCheckRun } from "./checkRun.js";
import type { PipelineDeps } from "./deps.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import { jobId, type JobRequest } from "../model/jobs.js";
import { shortSha } from "../model/sha.js";

/**
 * Sends a GPU job where the config says GPU jobs run: the queue that `sheriff worker`
 * hosts pull from, or a `workflow_dispatch` of the post-land workflow on self-hosted runners.
 * Returns false when the ledger already knew the job (nothing is sent twice).
 *
 * With `superseded`, the commits whose queued `landed` job this one replaced are collected there
 * for the caller to refresh their check runs later (intake does it after its branch's turn, so no
 * GitHub call waits inside the turn); without it they are refreshed here.
 */
export async function dispatchJob(
  deps: PipelineDeps,
  repo: RepoRef,
  config: SheriffConfig,
  suite: SuiteConfig,
  job: JobRequest,
  options: { superseded?: string[] } = {},
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
    await deps.queues.addGpu({ repo, job, suite });
    // After the new job is queued: its GPU job waits for nothing, and the older ones were only waiting anyway.
    if (job.purpose === "landed") {
      const superseded = await supersedeQueuedLanded(deps, repo, job);
      if (options.superseded) options.superseded.push(...superseded);
      else for (const sha of superseded) await refreshCheckRun(deps, repo, sha);
    }
  }
  await deps.ledger.note(key, { kind: "job", sha: job.sha, suite: suite.name, text: `queued ${job.purpose} job ${jobId(job)}` });
  return true;
}

/**
 * When commits land faster than GPUs run, only the newest commit of a suite waits for a GPU:
 * older `landed` jobs still queued are withdrawn, and bisection covers those commits if the
 * newest one turns out bad. A job a worker already started is left to finish.
 */
async function supersedeQueuedLanded(deps: PipelineDeps, repo: RepoRef, newest: JobRequest): Promise<string[]> {
  const key = repoKey(repo);
  const waiting = (await deps.ledger.activeJobs(key, newest.suite)).filter(
    (r) => r.state === "queued" && r.job.purpose === "landed" && r.job.suite === newest.suite && r.job.sha !== newest.sha,
  );
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
