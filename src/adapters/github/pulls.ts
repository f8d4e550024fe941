import type { Octokit } from "@octokit/rest";
import { type RepoRef } from "../../model/repo.js";

/** The open PR from `head` into the branch, if an earlier attempt opened one. */
export async function openPullFrom(octokit: Octokit, repo: RepoRef, head: string): Promise<number | null> {
  const existing = await octokit.rest.pulls.list({
    owner: repo.owner,
    repo: repo.repo,
    state: "open",
    head: `${repo.owner}:${head}`,
    base: repo.branch,
  });
  return existing.data[0]?.number ?? null;
}

export async function openPull(octokit: Octokit, repo: RepoRef, pr: { head: string; title: string; body: string }): Promise<number> {
  const { data } = await octokit.rest.pulls.create({
    owner: repo.owner,
    repo: repo.repo,
    base: repo.branch,
    head: pr.head,
    title: pr.title,
    body: pr.body,
  });
  return data.number;
}

export async function addLabel(octokit: Octokit, repo: RepoRef, issue: number, label: string): Promise<void> {
  await octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.repo, issue_number: issue, labels: [label] });
}
