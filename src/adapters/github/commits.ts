import type { Octokit } from "@octokit/rest";
import type { CommitInfo } from "../../model/commit.js";
import { apiCommitWithFilesSchema, apiComparisonSchema, type ApiCommit, type ApiFile } from "../../model/githubCommits.js";

/** GitHub lists at most this many changed files per response; a full list may have been cut. */
export const FILES_PER_RESPONSE = 300;

export type ApiListing =
  | { kind: "listed"; mergeBase: string; commits: CommitInfo[] }
  /** The API cannot answer fully (too many commits or files, no merge base): read a git mirror instead. */
  | { kind: "incomplete"; reason: string };

export interface ListingLimits {
  /** First-parent commits beyond which one request per commit costs more than a fetch. */
  maxCommits: number;
  /** Commit requests in flight at once. */
  concurrency: number;
}

/**
 * The first-parent commits in (before, after], oldest first, with the files each changed against
 * its first parent, as `landedCommits` and `commitInfo` read them from a mirror: one compare, and
 * one request per commit when there is more than one.
 */
export async function listPushCommits(
  octokit: Octokit,
  owner: string,
  repo: string,
  before: string,
  after: string,
  limits: ListingLimits,
): Promise<ApiListing> {
  const comparison = await compare(octokit, owner, repo, before, after);
  if (comparison.total_commits > comparison.commits.length) {
    return { kind: "incomplete", reason: `${comparison.total_commits} commits, more than one compare response lists` };
  }
  if (!comparison.merge_base_commit) return { kind: "incomplete", reason: "no merge base" };
  const chain = firstParentChain(comparison.commits, after);
  if (chain.length > limits.maxCommits) return { kind: "incomplete", reason: `${chain.length} commits, more than ${limits.maxCommits}` };
  // One commit on its first parent, the merge base: the comparison's files are that commit's own.
  const [only] = chain;
  const files =
    chain.length === 1 && only!.parents[0]?.sha === comparison.merge_base_commit.sha && comparison.files
      ? [comparison.files]
      : await mapLimited(chain, limits.concurrency, (c) => changedFiles(octokit, owner, repo, c));
  const cut = chain.find((_, i) => files[i]!.length >= FILES_PER_RESPONSE);
  if (cut) return { kind: "incomplete", reason: `${cut.sha} changed ${FILES_PER_RESPONSE} files or more` };
  return { kind: "listed", mergeBase: comparison.merge_base_commit.sha, commits: chain.map((c, i) => toCommitInfo(c, files[i]!)) };
}

/** Walks first parents from `head` while the commit is in `commits` (those not reachable from the base). */
export function firstParentChain(commits: ApiCommit[], head: string): ApiCommit[] {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const chain: ApiCommit[] = [];
  for (let sha: string | undefined = head; sha !== undefined && bySha.has(sha);) {
    const commit: ApiCommit = bySha.get(sha)!;
    bySha.delete(sha);
    chain.push(commit);
    sha = commit.parents[0]?.sha;
  }
  return chain.reverse();
}

async function compare(octokit: Octokit, owner: string, repo: string, base: string, head: string) {
  const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${base}...${head}` });
  return apiComparisonSchema.parse(data);
}

/**
 * Files changed against the first parent. For a merge that is a comparison with its first parent
 * (their merge base): the commit endpoint's documentation does not say which parent a merge's
 * files are listed against.
 */
async function changedFiles(octokit: Octokit, owner: string, repo: string, commit: ApiCommit): Promise<ApiFile[]> {
  const [first, second] = commit.parents;
  if (first && second) return (await compare(octokit, owner, repo, first.sha, commit.sha)).files ?? [];
  const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: commit.sha });
  return apiCommitWithFilesSchema.parse(data).files ?? [];
}

function toCommitInfo(commit: ApiCommit, files: ApiFile[]): CommitInfo {
  const message = commit.commit.message.trim();
  return {
    sha: commit.sha,
    parents: commit.parents.map((p) => p.sha),
    title: message.split("\n")[0] ?? "",
    message,
    authorName: commit.commit.author?.name ?? "",
    authorEmail: commit.commit.author?.email ?? "",
    // A rename is a deletion and an addition to git without rename detection, as the mirror lists it.
    files: [...new Set(files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename])))],
  };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
