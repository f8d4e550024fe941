import type { Octokit } from "@octokit/rest";
import type { RepoRef } from "../../model/repo.js";

/** Where a comment goes: an issue or PR, or a commit (one that landed without a PR). */
export type CommentTarget = { issue: number } | { commit: string };

async function listed(octokit: Octokit, repo: Pick<RepoRef, "owner" | "repo">, target: CommentTarget) {
  const { owner, repo: name } = repo;
  return "issue" in target
    ? octokit.paginate(octokit.rest.issues.listComments, { owner, repo: name, issue_number: target.issue, per_page: 100 })
    : octokit.paginate(octokit.rest.repos.listCommentsForCommit, { owner, repo: name, commit_sha: target.commit, per_page: 100 });
}

async function create(octokit: Octokit, repo: Pick<RepoRef, "owner" | "repo">, target: CommentTarget, body: string): Promise<number> {
  const { owner, repo: name } = repo;
  const { data } =
    "issue" in target
      ? await octokit.rest.issues.createComment({ owner, repo: name, issue_number: target.issue, body })
      : await octokit.rest.repos.createCommitComment({ owner, repo: name, commit_sha: target.commit, body });
  return data.id;
}

/**
 * Posts `body` on the issue, PR or commit unless a comment by `author` (the app's bot login)
 * already carries `marker` (a hidden HTML comment, which the posted comment starts with); returns
 * the comment's id. A retry after GitHub posted but its answer was lost finds the first one, so
 * the comment is posted once.
 */
export async function commentOnce(
  octokit: Octokit,
  repo: Pick<RepoRef, "owner" | "repo">,
  target: CommentTarget,
  post: { marker: string; body: string; author: string },
): Promise<number> {
  const posted = (await listed(octokit, repo, target)).find((c) => c.user?.login === post.author && c.body?.includes(post.marker));
  if (posted) return posted.id;
  return create(octokit, repo, target, `${post.marker}\n${post.body}`);
}
