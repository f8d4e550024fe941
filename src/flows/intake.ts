import { z } from "zod";
import type { Octokit } from "@octokit/rest";
import { readConfig } from "../adapters/github/config.js";
import { reportConfigError, upsertCheckRun } from "../adapters/github/checks.js";
import { listPushCommits, type ListingLimits } from "../adapters/github/commits.js";
import { isWatchedBranch } from "../core/landed.js";
import { planLandedJobs, toLandedCommit } from "../core/plan.js";
import type { SheriffConfig } from "../model/config.js";
import type { CommitInfo } from "../model/commit.js";
import type { LandedCommit } from "../model/engine.js";
import { pushFollowUpSchema, type IntakeJob, type PushFollowUp } from "../model/jobs.js";
import { shaSchema } from "../model/sha.js";
import { commitInfos, git, landedCommits } from "../adapters/git/git.js";
import { summarizeUncovered } from "../core/summary.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob } from "./dispatch.js";
import { refreshCheckRun } from "./checkRun.js";
import { repoKey, type RepoRef } from "../model/repo.js";

const intakeOutcomeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ignored"), reason: z.string() }),
  z.object({ kind: z.literal("invalid-config"), message: z.string() }),
  z.object({
    kind: z.literal("planned"),
    commits: z.number().int(),
    newCommits: z.number().int(),
    jobs: z.number().int(),
    rewritten: z.array(shaSchema),
    listedBy: z.enum(["api", "mirror"]),
  }),
]);
export type IntakeOutcome = z.infer<typeof intakeOutcomeSchema>;

/**
 * What a push's turn recorded, kept with its intake job so a retry after the turn only queues the
 * follow-up: GitHub work done on the follow-up queue, where waiting on GitHub's write limits holds
 * up no push.
 */
const intakeFollowUpSchema = pushFollowUpSchema.extend({ outcome: intakeOutcomeSchema });
export type IntakeFollowUp = z.infer<typeof intakeFollowUpSchema>;

/** The follow-up an earlier attempt of this intake job stored, if it got that far. */
export function storedFollowUp(data: unknown): IntakeFollowUp | null {
  const parsed = intakeFollowUpSchema.safeParse((data as { followUp?: unknown } | null)?.followUp);
  return parsed.success ? parsed.data : null;
}

/** Small pushes are listed through the API (no mirror fetch); larger ones from the mirror. */
const API_LISTING: ListingLimits = { maxCommits: 30, concurrency: 8 };

/** A push read and planned, before anything is written. */
export type PreparedPush =
  | { kind: "done"; outcome: IntakeOutcome }
  | {
      kind: "ready";
      config: SheriffConfig;
      /** Where the pushed commits start: `before`, or after a force push the merge base. */
      base: string | null;
      commits: LandedCommit[];
      infos: CommitInfo[];
      listedBy: "api" | "mirror";
    };

/**
 * Everything a push needs that does not depend on the pushes before it: the config at the pushed
 * commit, its first-parent commits and their files. Read-only, so pushes of one branch prepare at once.
 */
export async function preparePush(deps: PipelineDeps, job: IntakeJob): Promise<PreparedPush> {
  const { repo } = job;
  const key = repoKey(repo);
  const log = deps.log.child({ delivery: job.deliveryId, repo: key, sha: job.after });
  const { octokit, token } = await deps.access.forInstallation(repo.installationId);

  // The same cache as the analyses at this head, which read the config next.
  const lookup = await deps.configs.lookup(`${key}@${job.after}`, () => readConfig(octokit, repo.owner, repo.repo, job.after));
  if (lookup.kind === "missing") return done({ kind: "ignored", reason: "no .github/sheriff.yml at the pushed commit" });
  if (lookup.kind === "invalid") {
    if (repo.branch !== job.defaultBranch) return done({ kind: "ignored", reason: "invalid config on a branch that is not the default" });
    log.warn({ issues: lookup.error.issues }, "invalid Sheriff config");
    await reportConfigError(octokit, repo, job.after, lookup.error.message);
    await deps.ledger.note(key, { kind: "config-error", sha: job.after, text: lookup.error.message });
    return done({ kind: "invalid-config", message: lookup.error.message });
  }
  const config = lookup.config;
  if (!isWatchedBranch({ branch: repo.branch, defaultBranch: job.defaultBranch }, config)) {
    return done({ kind: "ignored", reason: `branch ${repo.branch} is not watched` });
  }
  const listing = (await listByApi(deps, octokit, job)) ?? (await listByMirror(deps, job, token));
  return { kind: "ready", config, ...listing, commits: listing.infos.map((info) => toLandedCommit(info, config)) };
}

function done(outcome: IntakeOutcome): PreparedPush {
  return { kind: "done", outcome };
}

interface Listing {
  base: string | null;
  infos: CommitInfo[];
  listedBy: "api" | "mirror";
}

/** The push's commits from the compare and commit endpoints; null when the API cannot answer fully. */
async function listByApi(deps: PipelineDeps, octokit: Octokit, job: IntakeJob): Promise<Listing | null> {
  // A first push is listed from its head alone, which needs the mirror's view of the branch.
  if (!job.before) return null;
  const { owner, repo } = job.repo;
  const listed = await listPushCommits(octokit, owner, repo, job.before, job.after, API_LISTING).catch((err: Error) => ({
    kind: "incomplete" as const,
    reason: err.message,
  }));
  if (listed.kind === "incomplete") {
    deps.log.debug({ repo: repoKey(job.repo), sha: job.after, reason: listed.reason }, "push listed from the mirror");
    return null;
  }
  return { base: job.forced ? listed.mergeBase : job.before, infos: listed.commits, listedBy: "api" };
}

async function listByMirror(deps: PipelineDeps, job: IntakeJob, token: string): Promise<Listing> {
  const { repo } = job;
  const mirror = await deps.cache.syncBranch(repo.owner, repo.repo, repo.cloneUrl, repo.branch, { token }, job.after);
  let base = job.before;
  if (job.forced) {
    base = base ? (await git(["merge-base", base, job.after], { cwd: mirror }).catch(() => "")).trim() || null : null;
  }
  const shas = await landedCommits(mirror, base, job.after);
  return { base, infos: await commitInfos(mirror, shas), listedBy: "mirror" };
}

/**
 * What must follow the pushes before it, in the branch's turn: a force push's cut of the chain,
 * the commits (one transaction), the head, and the GPU jobs. Safe to run twice for the same push.
 */
export async function recordPush(
  deps: PipelineDeps,
  job: IntakeJob,
  prepared: Extract<PreparedPush, { kind: "ready" }>,
): Promise<IntakeFollowUp> {
  const { repo } = job;
  const key = repoKey(repo);
  const { config, commits, infos } = prepared;
  const notes: IntakeFollowUp["notes"] = [];
  let rewritten: string[] = [];
  if (job.forced) {
    rewritten = await deps.ledger.truncateChain(key, repo.branch, prepared.base);
    notes.push({ kind: "history-rewritten", sha: job.after, text: `force push: ${rewritten.length} commit(s) left the branch` });
    deps.log.warn({ repo: key, sha: job.after, dropped: rewritten }, "history rewritten by a force push");
  }

  const firstSight = !(await deps.ledger.hasChain(key, repo.branch));
  const newCommits = await deps.ledger.recordCommits(key, repo.branch, commits);
  await deps.ledger.setHead(key, repo.branch, job.after);
  // The first push Sheriff sees runs every suite at its head: later results need a baseline.
  const jobs = firstSight
    ? config.suites.map((s) => ({ sha: job.after, suite: s.name, purpose: "landed" as const, attempt: 0 }))
    : planLandedJobs(commits);
  const superseded: string[] = [];
  for (const request of jobs) {
    const suite = config.suites.find((s) => s.name === request.suite)!;
    await dispatchJob(deps, repo, config, suite, request, { superseded });
  }

  const queued = [...new Set(jobs.map((j) => j.sha))];
  const refreshed = [...new Set([...queued, ...superseded])];
  for (const c of commits) notes.push({ kind: "landed", sha: c.sha, text: `${c.title} (suites: ${c.suites.join(", ") || "none"})` });
  deps.log.info({ repo: key, sha: job.after, commits: commits.length, newCommits, jobs: jobs.length }, "push planned");
  return {
    notes,
    queued: refreshed,
    uncovered: commits.flatMap((c, i) =>
      c.suites.length === 0 && !queued.includes(c.sha) ? [{ sha: c.sha, files: infos[i]!.files.length }] : [],
    ),
    outcome: { kind: "planned", commits: commits.length, newCommits, jobs: jobs.length, rewritten, listedBy: prepared.listedBy },
  };
}

/** After the turn, on the follow-up queue: the check runs of the push's commits and its timeline notes. */
export async function followUpPush(deps: PipelineDeps, repo: RepoRef, followUp: PushFollowUp): Promise<void> {
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  await Promise.all([
    ...followUp.queued.map((sha) => refreshCheckRun(deps, repo, sha)),
    ...followUp.uncovered.map(({ sha, files }) =>
      upsertCheckRun(octokit, deps.ledger, repo, sha, { done: true, summary: summarizeUncovered(files) }),
    ),
  ]);
  await deps.ledger.noteAll(repoKey(repo), followUp.notes);
}
