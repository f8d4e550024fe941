import { readConfig } from "../adapters/github/config.js";
import { reportConfigError, upsertCheckRun } from "../adapters/github/checks.js";
import { isWatchedBranch } from "../core/landed.js";
import { planLandedJobs, toLandedCommit } from "../core/plan.js";
import { type IntakeJob } from "../model/jobs.js";
import { commitInfo, git, landedCommits } from "../adapters/git/git.js";
import { summarizeCommit, summarizeUncovered } from "../core/summary.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob } from "./dispatch.js";
import { repoKey } from "../model/repo.js";

export type IntakeOutcome =
  | { kind: "ignored"; reason: string }
  | { kind: "invalid-config"; message: string }
  | { kind: "planned"; commits: number; newCommits: number; jobs: number; rewritten: string[] };

/**
 * A push to a watched branch: record each landed commit once, and queue one GPU job per
 * suite the push touches. Safe to run twice for the same push (redelivery, retry).
 */
export async function intakePush(deps: PipelineDeps, job: IntakeJob): Promise<IntakeOutcome> {
  const { repo } = job;
  const key = repoKey(repo);
  const log = deps.log.child({ delivery: job.deliveryId, repo: key, sha: job.after });
  const { octokit, token } = await deps.access.forInstallation(repo.installationId);

  // The same cache as the analyses at this head, which read the config next.
  const lookup = await deps.configs.lookup(`${key}@${job.after}`, () => readConfig(octokit, repo.owner, repo.repo, job.after));
  if (lookup.kind === "missing") return { kind: "ignored", reason: "no .github/sheriff.yml at the pushed commit" };
  if (lookup.kind === "invalid") {
    if (repo.branch !== job.defaultBranch) return { kind: "ignored", reason: "invalid config on a branch that is not the default" };
    log.warn({ issues: lookup.error.issues }, "invalid Sheriff config");
    await reportConfigError(octokit, repo, job.after, lookup.error.message);
    await deps.ledger.note(key, { kind: "config-error", sha: job.after, text: lookup.error.message });
    return { kind: "invalid-config", message: lookup.error.message };
  }
  const config = lookup.config;
  if (!isWatchedBranch({ branch: repo.branch, defaultBranch: job.defaultBranch }, config)) {
    return { kind: "ignored", reason: `branch ${repo.branch} is not watched` };
  }

  const mirror = await deps.cache.syncBranch(repo.owner, repo.repo, repo.cloneUrl, repo.branch, { token }, job.after);
  let before = job.before;
  let rewritten: string[] = [];
  if (job.forced) {
    const base = before ? (await git(["merge-base", before, job.after], { cwd: mirror }).catch(() => "")).trim() || null : null;
    rewritten = await deps.ledger.truncateChain(key, repo.branch, base);
    await deps.ledger.note(key, {
      kind: "history-rewritten",
      sha: job.after,
      text: `force push: ${rewritten.length} commit(s) left the branch`,
    });
    log.warn({ dropped: rewritten }, "history rewritten by a force push");
    before = base;
  }

  const firstSight = !(await deps.ledger.hasChain(key, repo.branch));
  const shas = await landedCommits(mirror, before, job.after);
  const infos = await Promise.all(shas.map((sha) => commitInfo(mirror, sha)));
  const commits = infos.map((info) => toLandedCommit(info, config));
  const newCommits = await deps.ledger.recordCommits(key, repo.branch, commits);
  for (const c of commits)
    await deps.ledger.note(key, { kind: "landed", sha: c.sha, text: `${c.title} (suites: ${c.suites.join(", ") || "none"})` });

  await deps.ledger.setHead(key, repo.branch, job.after);
  // The first push Sheriff sees runs every suite at its head: later results need a baseline.
  const jobs = firstSight
    ? config.suites.map((s) => ({ sha: job.after, suite: s.name, purpose: "landed" as const, attempt: 0 }))
    : planLandedJobs(commits);
  for (const request of jobs) {
    const suite = config.suites.find((s) => s.name === request.suite)!;
    await dispatchJob(deps, repo, config, suite, request);
  }
  const suitesBySha = new Map<string, string[]>();
  for (const request of jobs) suitesBySha.set(request.sha, [...(suitesBySha.get(request.sha) ?? []), request.suite]);
  for (const [sha, suites] of suitesBySha) {
    await upsertCheckRun(octokit, deps.ledger, repo, sha, { done: false, summary: summarizeCommit([], suites, []) });
  }
  for (const [i, commit] of commits.entries()) {
    if (commit.suites.length === 0 && !suitesBySha.has(commit.sha)) {
      await upsertCheckRun(octokit, deps.ledger, repo, commit.sha, { done: true, summary: summarizeUncovered(infos[i]!.files.length) });
    }
  }
  log.info({ commits: commits.length, newCommits, jobs: jobs.length }, "push planned");
  return { kind: "planned", commits: commits.length, newCommits, jobs: jobs.length, rewritten };
}
