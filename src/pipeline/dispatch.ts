import type { SheriffConfig, SuiteConfig } from "../config/schema.js";
import { repoKey, type RepoRef } from "../queue/jobs.js";
import { jobId, type JobRequest } from "../verdict/types.js";
import type { PipelineDeps } from "./deps.js";

/**
 * Sends a GPU job where the config says GPU jobs run: the queue that `sheriff worker`
 * hosts pull from, or a `workflow_dispatch` of the post-land workflow on self-hosted runners.
 * Returns false when the ledger already knew the job (nothing is sent twice).
 */
export async function dispatchJob(deps: PipelineDeps, repo: RepoRef, config: SheriffConfig, suite: SuiteConfig, job: JobRequest): Promise<boolean> {
  const key = repoKey(repo);
  if (!(await deps.ledger.recordJobQueued(key, job))) return false;
  if (config.runner.mode === "actions") {
    const { octokit } = await deps.access.forInstallation(repo.installationId);
    await octokit.rest.actions.createWorkflowDispatch({
      owner: repo.owner,
      repo: repo.repo,
      workflow_id: config.runner.workflow,
      ref: repo.branch,
      inputs: { sha: job.sha, suite: suite.name, job: JSON.stringify(job), job_id: jobId(job) },
    });
  } else {
    await deps.queues.addGpu({ repo, job, suite });
  }
  await deps.ledger.note(key, { kind: "job", sha: job.sha, suite: suite.name, text: `queued ${job.purpose} job ${jobId(job)}` });
  return true;
}
