import type { Octokit } from "@octokit/rest";
import type { CommitSummary } from "../../model/checkRun.js";
import type { Ledger } from "../store/ledger.js";
import { type RepoRef, repoKey } from "../../model/repo.js";

export const CHECK_NAME = "Sheriff / post-land GPU";

/** A creation claim older than this without an id was abandoned (its process died mid-way). */
const CLAIM_STALE_MS = 30_000;
const CLAIM_POLL_MS = 100;

/** The id another process is creating; throws (so the job retries) if it does not appear while the claim is fresh. */
async function waitForCheckRun(ledger: Ledger, key: string, sha: string): Promise<number> {
  const deadline = Date.now() + CLAIM_STALE_MS;
  while (Date.now() < deadline) {
    const id = await ledger.checkRunId(key, sha);
    if (id !== null) return id;
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
  }
  throw new Error(`the check run of ${sha} is being created by another process that has not finished`);
}

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
  const update = async (id: number) => {
    await octokit.rest.checks.update({ owner: repo.owner, repo: repo.repo, check_run_id: id, output, ...completion });
  };
  const known = await ledger.checkRunId(key, sha);
  if (known !== null) return update(known);
  // Intake and analyses run side by side: one of them creates the check run, the others update it.
  if (!(await ledger.claimCheckRun(key, sha, CLAIM_STALE_MS))) return update(await waitForCheckRun(ledger, key, sha));
  const created = await octokit.rest.checks
    .create({ owner: repo.owner, repo: repo.repo, name: CHECK_NAME, head_sha: sha, output, ...completion })
    .catch(async (err: unknown) => {
      // Not created: give the claim back, so the next refresh creates it rather than waiting.
      await ledger.releaseCheckRunClaim(key, sha);
      throw err;
    });
  await ledger.setCheckRunId(key, sha, created.data.id);
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
