import { git, GitError, type GitAuth, type RepoCache } from "./git.js";
import { type RepoRef } from "../../model/repo.js";
import { shaTag } from "../../model/sha.js";

export type RevertCommitResult =
  { kind: "created"; branch: string; sha: string; head: string } | { kind: "conflict"; head: string; files: string[] };

/**
 * Reverts `culprit` on top of the branch's current head with real `git revert` and pushes
 * the result to `branch`. Later commits that touched the same lines make it conflict; then
 * nothing is pushed and the conflicting files are reported.
 */
export async function createRevertCommit(
  cache: RepoCache,
  repo: RepoRef,
  culprit: string,
  branch: string,
  auth?: GitAuth,
): Promise<RevertCommitResult> {
  const mirror = await cache.sync(repo.owner, repo.repo, repo.cloneUrl, auth);
  const head = (await git(["rev-parse", `refs/remotes/origin/${repo.branch}`], { cwd: mirror })).trim();
  const parents = (await git(["show", "-s", "--format=%P", culprit], { cwd: mirror })).trim().split(" ").filter(Boolean);
  const dir = await cache.addWorktree(mirror, head, `revert-${shaTag(culprit)}-${process.pid}`);
  try {
    try {
      await git(["revert", "--no-edit", ...(parents.length > 1 ? ["-m", "1"] : []), culprit], { cwd: dir });
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      const files = (await git(["diff", "--name-only", "--diff-filter=U"], { cwd: dir }).catch(() => "")).split("\n").filter(Boolean);
      await git(["revert", "--abort"], { cwd: dir }).catch(() => undefined);
      if (files.length === 0) throw err;
      return { kind: "conflict", head, files };
    }
    const sha = (await git(["rev-parse", "HEAD"], { cwd: dir })).trim();
    // Sheriff owns sheriff/* branches: a retry may replace its own earlier attempt.
    await git(["push", "--force", "--quiet", "origin", `HEAD:refs/heads/${branch}`], { cwd: dir, auth });
    return { kind: "created", branch, sha, head };
  } finally {
    await cache.removeWorktree(mirror, dir);
  }
}
