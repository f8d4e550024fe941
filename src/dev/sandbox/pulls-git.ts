// Pull request git mechanics: commits, mergeability (trial merge with `git merge-tree`), merge/squash/rebase.
import type { Core } from "./core.js";
import { EMPTY_TREE, commitTree, isAncestor, mergeTree, readCommit, revList, revParse, updateRef, type Identity } from "./git.js";
import { HttpError } from "./http.js";
import type { Mergeability } from "./shapes.js";
import type { Issue, Repo } from "./state.js";

export type PullIssue = Issue & { pull: NonNullable<Issue["pull"]> };

export async function baseHead(repo: Repo, issue: PullIssue): Promise<string> {
  return (await revParse(repo.dir, `refs/heads/${issue.pull.baseRef}`)) ?? issue.pull.baseSha;
}

/** The PR's commits, oldest first (frozen once merged or closed). */
export async function pullCommits(repo: Repo, issue: PullIssue): Promise<string[]> {
  if (issue.pull.frozenCommits) return issue.pull.frozenCommits;
  return revList(repo.dir, ["--reverse", issue.pull.headSha, `^${await baseHead(repo, issue)}`]);
}

/** Which required checks are not (yet) successful on `sha`; empty when all pass. */
export function failingRequiredChecks(core: Core, repo: Repo, sha: string): { context: string; state: "expected" | "failing" }[] {
  const out: { context: string; state: "expected" | "failing" }[] = [];
  for (const context of repo.requiredChecks) {
    const runs = [...core.state.checkRuns.values()].filter((c) => c.repoId === repo.id && c.headSha === sha && c.name === context);
    const statuses = core.state.statuses.filter((s) => s.repoId === repo.id && s.sha === sha && s.context === context);
    const latestRun = runs.at(-1);
    const latestStatus = statuses.at(-1);
    const good =
      (latestRun?.status === "completed" && ["success", "neutral", "skipped"].includes(latestRun.conclusion ?? "")) ||
      latestStatus?.state === "success";
    if (good) continue;
    const bad = latestRun?.status === "completed" || latestStatus?.state === "failure" || latestStatus?.state === "error";
    out.push({ context, state: bad ? "failing" : "expected" });
  }
  return out;
}

export async function computeMergeability(core: Core, repo: Repo, issue: PullIssue): Promise<Mergeability> {
  const p = issue.pull;
  if (issue.state !== "open") return { mergeable: null, mergeable_state: "unknown", rebaseable: null, merge_commit_sha: null };
  const base = await baseHead(repo, issue);
  const mt = await mergeTree(repo.dir, base, p.headSha);
  if (!mt.clean) return { mergeable: false, mergeable_state: "dirty", rebaseable: false, merge_commit_sha: null };
  // GitHub keeps a test merge commit at refs/pull/N/merge; make it deterministic for a given base/head.
  const head = await readCommit(repo.dir, p.headSha);
  const date = head.committer.date;
  const testMerge = await commitTree(
    repo.dir,
    mt.tree,
    [base, p.headSha],
    `Merge ${p.headSha} into ${base}`,
    core.identity(issue.user, date),
    core.webFlow(date),
  );
  await updateRef(repo.dir, `refs/pull/${issue.number}/merge`, testMerge);
  let state = "clean";
  if (p.draft) state = "draft";
  else if (failingRequiredChecks(core, repo, p.headSha).length) state = "blocked";
  else if (repo.strictChecks && repo.requiredChecks.length && !(await isAncestor(repo.dir, base, p.headSha))) state = "behind";
  return { mergeable: true, mergeable_state: state, rebaseable: true, merge_commit_sha: testMerge };
}

export type MergeMethod = "merge" | "squash" | "rebase";

/** Creates the commit(s) a merge would land on the base branch; returns the new base head. */
export async function buildMerge(
  core: Core,
  repo: Repo,
  issue: PullIssue,
  base: string,
  method: MergeMethod,
  merger: Identity,
  title?: string,
  message?: string,
): Promise<string> {
  const p = issue.pull;
  const now = merger.date;
  if (method === "merge") {
    const mt = await mergeTree(repo.dir, base, p.headSha);
    if (!mt.clean) throw new HttpError(405, "Pull Request is not mergeable");
    const t = title ?? `Merge pull request #${issue.number} from ${repo.owner.login}/${p.headRef}`;
    const m = message ?? issue.title;
    return commitTree(repo.dir, mt.tree, [base, p.headSha], m ? `${t}\n\n${m}\n` : `${t}\n`, merger, core.webFlow(now));
  }
  if (method === "squash") {
    const mt = await mergeTree(repo.dir, base, p.headSha);
    if (!mt.clean) throw new HttpError(405, "Pull Request is not mergeable");
    const commits = await pullCommits(repo, issue);
    const infos = await Promise.all(commits.map((c) => readCommit(repo.dir, c)));
    const t = title ?? `${issue.title} (#${issue.number})`;
    const m =
      message ?? (infos.length === 1 ? infos[0]!.message.split("\n").slice(2).join("\n") : infos.map((c) => `* ${c.message}`).join("\n\n"));
    const author = core.identity(issue.user, now);
    return commitTree(repo.dir, mt.tree, [base], m.trim() ? `${t}\n\n${m.trim()}\n` : `${t}\n`, author, core.webFlow(now));
  }
  // rebase: replay each commit onto base with cherry-pick semantics (merge base forced to the commit's parent)
  let cur = base;
  for (const sha of await pullCommits(repo, issue)) {
    const c = await readCommit(repo.dir, sha);
    const curInfo = await readCommit(repo.dir, cur);
    const parentTree = c.parents[0] ? (await readCommit(repo.dir, c.parents[0])).tree : EMPTY_TREE;
    const tmpIdent = core.webFlow("1970-01-01T00:00:00Z");
    const fakeBase = await commitTree(repo.dir, parentTree, [], "sandbox rebase base\n", tmpIdent, tmpIdent);
    const ours = await commitTree(repo.dir, curInfo.tree, [fakeBase], "ours\n", tmpIdent, tmpIdent);
    const theirs = await commitTree(repo.dir, c.tree, [fakeBase], "theirs\n", tmpIdent, tmpIdent);
    const mt = await mergeTree(repo.dir, ours, theirs);
    if (!mt.clean) throw new HttpError(405, "This branch can't be rebased");
    cur = await commitTree(repo.dir, mt.tree, [cur], c.message + "\n", c.author, core.webFlow(now));
  }
  return cur;
}
