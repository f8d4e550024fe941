import { git, GitError, type GitAuth, type RepoCache } from "./git.js";
import { type RepoRef } from "../../model/repo.js";
import { shaTag } from "../../model/sha.js";

export type RevertCommitResult =
  | { kind: "created"; branch: string; sha: string; head: string }
  | { kind: "conflict"; head: string; files: string[] }
  /** Reverting changes nothing: the culprit's changes are already undone at head. */
  | { kind: "already-reverted"; head: string };

/** Who a commit is by: the author and committer git records. */
export interface GitIdentity {
  name: string;
  email: string;
}

/**
 * The app's bot account as GitHub shows it on commits: `<slug>[bot]`, with the noreply address
 * that links to the account (`<id>+<slug>[bot]@…` when the bot user's id is known).
 */
export function botIdentity(slug: string, botUserId?: number): GitIdentity {
  const name = `${slug}[bot]`;
  return { name, email: `${botUserId === undefined ? "" : `${botUserId}+`}${name}@users.noreply.github.com` };
}

function identityEnv(who: GitIdentity): NodeJS.ProcessEnv {
  return { GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email };
}

/** True when the index and worktree are the same as HEAD: the revert had nothing to undo. */
async function nothingChanged(dir: string): Promise<boolean> {
  return (await git(["status", "--porcelain", "--untracked-files=no"], { cwd: dir })).trim() === "";
}

/**
 * Reverts `culprit` on top of the branch's current head with real `git revert` and pushes
 * the result to `branch`, as `author` when given. Later commits that touched the same lines make
 * it conflict; a culprit whose changes are already undone at head is reported so; then nothing is
 * pushed.
 */
export async function createRevertCommit(
  cache: RepoCache,
  repo: RepoRef,
  culprit: string,
  branch: string,
  auth?: GitAuth,
  author?: GitIdentity,
): Promise<RevertCommitResult> {
  const mirror = await cache.sync(repo.owner, repo.repo, repo.cloneUrl, auth);
  const head = (await git(["rev-parse", `refs/remotes/origin/${repo.branch}`], { cwd: mirror })).trim();
  const parents = (await git(["show", "-s", "--format=%P", culprit], { cwd: mirror })).trim().split(" ").filter(Boolean);
  const dir = await cache.addWorktree(mirror, head, `revert-${shaTag(culprit)}-${process.pid}`);
  try {
    try {
      await git(["revert", "--no-edit", ...(parents.length > 1 ? ["-m", "1"] : []), culprit], {
        cwd: dir,
        ...(author ? { env: identityEnv(author) } : {}),
      });
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      const files = (await git(["diff", "--name-only", "--diff-filter=U"], { cwd: dir }).catch(() => "")).split("\n").filter(Boolean);
      const alreadyReverted = files.length === 0 && (await nothingChanged(dir).catch(() => false));
      await git(["revert", "--abort"], { cwd: dir }).catch(() => undefined);
      if (alreadyReverted) return { kind: "already-reverted", head };
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
