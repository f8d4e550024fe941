import type { Octokit } from "@octokit/rest";
import type { CommitSummary } from "../../model/checkRun.js";
import type { Ledger } from "../store/ledger.js";
import { type RepoRef, repoKey } from "../../model/repo.js";

export const CHECK_NAME = "Sheriff / post-land GPU";

/** Creates the commit's check run once and updates it afterwards; the id lives in the ledger. */
export async function upsertCheckRun(
  octokit: Octokit,
  ledger: Ledger,
  repo: RepoRef,
  sha: string,
  state: { done: boolean; summary: CommitSummary },
): Promise<void> {
  const key = repoKey(repo);
  const output = { title: state.summary.title, summary: state.summary.text };
  const completion = state.done
    ? { status: "completed" as const, conclusion: state.summary.conclusion }
    : { status: "in_progress" as const };
  const id = await ledger.checkRunId(key, sha);
  if (id !== null) {
    await octokit.rest.checks.update({ owner: repo.owner, repo: repo.repo, check_run_id: id, output, ...completion });
    return;
  }
  const { data } = await octokit.rest.checks.create({
    owner: repo.owner,
    repo: repo.repo,
    name: CHECK_NAME,
    head_sha: sha,
    output,
    ...completion,
  });
  await ledger.setCheckRunId(key, sha, data.id);
}

/** A config that does not parse is reported where the author looks: on the commit. */
export async function reportConfigError(octokit: Octokit, repo: RepoRef, sha: string, message: string): Promise<void> {
  await octokit.rest.checks.create({
    owner: repo.owner,
    repo: repo.repo,
    name: CHECK_NAME,
    head_sha: sha,
    status: "completed",
    conclusion: "action_required",
    output: { title: "Invalid .github/sheriff.yml", summary: "```\n" + message + "\n```" },
  });
}
