import { upsertCheckRun } from "../adapters/github/checks.js";
import { commitCheckRun, suitesWithJobsAt } from "../core/summary.js";
import type { PipelineDeps } from "./deps.js";
import { repoKey, type RepoRef } from "../model/repo.js";

/** Refreshes the check run of a commit from what the ledger knows about it. */
export async function refreshCheckRun(deps: PipelineDeps, repo: RepoRef, sha: string): Promise<void> {
  const key = repoKey(repo);
  const [jobs, verdicts] = await Promise.all([deps.ledger.jobsAt(key, sha), deps.ledger.verdictsAt(key, sha)]);
  const runs = await deps.ledger.runsAt(key, sha, suitesWithJobsAt(sha, jobs));
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  await upsertCheckRun(octokit, deps.ledger, repo, sha, commitCheckRun(sha, jobs, runs, verdicts));
}
