import type { Octokit } from "@octokit/rest";
import type { RepoRef } from "../../model/repo.js";

/**
 * Posts `body` on the issue or PR unless a comment by `author` (the app's bot login) already
 * carries `marker` (a hidden HTML comment, which the posted comment starts with); returns the
 * comment's id. A retry after GitHub posted but its answer was lost finds the first one, so the
 * comment is posted once.
 */
export async function commentOnce(
  octokit: Octokit,
  repo: Pick<RepoRef, "owner" | "repo">,
  issue: number,
  post: { marker: string; body: string; author: string },
): Promise<number> {
  const { owner, repo: name } = repo;
  const existing = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo: name, issue_number: issue, per_page: 100 });
  const posted = existing.find((c) => c.user?.login === post.author && c.body?.includes(post.marker));
  if (posted) return posted.id;
  const { data } = await octokit.rest.issues.createComment({
    owner,
    repo: name,
    issue_number: issue,
    body: `${post.marker}\n${post.body}`,
  });
  return data.id;
}
