import { loadConfigAt } from "./analyze.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob } from "./dispatch.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import { nextAttempt, type JobRequest } from "../model/jobs.js";

/**
 * Runs suites again at a landed commit (a `rerun` command, or "Re-run" on Sheriff's check run):
 * the named suites, or every suite the commit touches. Returns the suites queued.
 */
export async function rerunSuites(deps: PipelineDeps, repo: RepoRef, sha: string, requested: string[]): Promise<string[]> {
  const key = repoKey(repo);
  const config = await loadConfigAt(deps, repo, (await deps.ledger.head(key, repo.branch)) ?? sha);
  const names = requested.length > 0 ? requested : ((await deps.ledger.commit(key, sha))?.suites ?? []);
  const unknown = names.filter((n) => !config.suites.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`no suite named ${unknown.map((n) => `\`${n}\``).join(", ")} in .github/sheriff.yml`);
  const jobs = await deps.ledger.jobsAt(key, sha);
  for (const name of names) {
    const previous = jobs.filter((j) => j.job.sha === sha && j.job.suite === name && j.job.purpose === "retry").map((j) => j.job.attempt);
    const job: JobRequest = { sha, suite: name, purpose: "retry", attempt: nextAttempt(previous) };
    await dispatchJob(
      deps,
      repo,
      config,
      config.suites.find((s) => s.name === name)!,
      job,
    );
  }
  return names;
}
