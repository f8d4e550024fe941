import { git, type GitAuth, type RepoCache } from "./git.js";
import type { RepoRef } from "../../model/repo.js";

export interface CommitMessage {
  sha: string;
  author: string;
  message: string;
}

const FIELD = "\u001f";
const RECORD = "\u001e";

/**
 * First-parent commits of the branch after `since` whose message contains one of `needles`
 * (fixed strings, any case), newest first, at most `limit`: git filters them, so a long history
 * costs one `git log`.
 */
export async function laterCommitsMentioning(
  cache: RepoCache,
  repo: RepoRef,
  since: string,
  needles: string[],
  auth?: GitAuth,
  limit = 50,
): Promise<CommitMessage[]> {
  if (needles.length === 0) return [];
  const mirror = await cache.sync(repo.owner, repo.repo, repo.cloneUrl, auth);
  const out = await git(
    [
      "log",
      "--first-parent",
      "--fixed-strings",
      "--regexp-ignore-case",
      ...needles.map((n) => `--grep=${n}`),
      `--max-count=${limit}`,
      `--format=%H${FIELD}%an${FIELD}%B${RECORD}`,
      `${since}..refs/remotes/origin/${repo.branch}`,
    ],
    { cwd: mirror },
  );
  return out
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.includes(FIELD))
    .map((record) => {
      const [sha = "", author = "", ...message] = record.split(FIELD);
      return { sha, author, message: message.join(FIELD).trim() };
    });
}
