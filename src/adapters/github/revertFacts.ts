import type { Octokit } from "@octokit/rest";
import type { RepoRef } from "../../model/repo.js";

/** The PR that landed a commit, with what the revert limits read from it. */
export interface LandingPull {
  number: number;
  title: string;
  author: string;
  labels: string[];
  /** ISO time it was merged; null when GitHub does not say. */
  mergedAt: string | null;
}

/** The merged PR that landed `sha`, through GitHub's commit-to-PR association. */
export async function landingPull(octokit: Octokit, repo: RepoRef, sha: string): Promise<LandingPull | null> {
  const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner: repo.owner, repo: repo.repo, commit_sha: sha });
  const pr = data.find((p) => p.merged_at) ?? data[0];
  if (!pr) return null;
  return {
    number: pr.number,
    title: pr.title,
    author: pr.user?.login ?? "",
    labels: pr.labels.map((l) => l.name ?? "").filter(Boolean),
    mergedAt: pr.merged_at ?? null,
  };
}

export interface OpenPull {
  number: number;
  title: string;
  body: string;
  author: string;
  headRef: string;
}

/** Every open PR into the branch. */
export async function openPullsInto(octokit: Octokit, repo: RepoRef): Promise<OpenPull[]> {
  const pulls = await octokit.paginate(octokit.rest.pulls.list, {
    owner: repo.owner,
    repo: repo.repo,
    state: "open",
    base: repo.branch,
    per_page: 100,
  });
  return pulls.map((p) => ({ number: p.number, title: p.title, body: p.body ?? "", author: p.user?.login ?? "", headRef: p.head.ref }));
}
