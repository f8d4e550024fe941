import { z } from "zod";
import type { Octokit } from "@octokit/rest";
import { readConfig } from "../adapters/github/config.js";
import { reportConfigError, upsertCheckRun } from "../adapters/github/checks.js";
import { listPushCommits, type ListingLimits } from "../adapters/github/commits.js";
import { isWatchedBranch } from "../core/landed.js";
import { planLandedJobs, toLandedCommit } from "../core/plan.js";
import { CONFIG_PATH, type SheriffConfig } from "../model/config.js";
import type { CommitInfo } from "../model/commit.js";
import type { LandedCommit } from "../model/engine.js";
import { pushFollowUpSchema, type IntakeJob, type PushFollowUp } from "../model/jobs.js";
import { shaSchema } from "../model/sha.js";
import { commitInfos, firstParents, git, hasCommit, isAncestor, landedCommits } from "../adapters/git/git.js";
import { summarizeUncovered } from "../core/summary.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob, supersedeQueuedLanded, type DeferredDispatch } from "./dispatch.js";
import { refreshCheckRun } from "./checkRun.js";
import { noticeRelands } from "./reland.js";
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
      /** The commit whose config governs the branch: the pushed head, or the default branch's for another branch. */
      configSha: string;
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

  // Another branch is governed by the default branch's config, which was reviewed on its way
  // there: a branch's own unreviewed config cannot make it watched, nor choose what a GPU host runs.
  if (repo.branch !== job.defaultBranch) {
    const governing = await defaultBranchConfig(deps, octokit, job);
    if (governing.lookup.kind !== "ok") {
      return done({ kind: "ignored", reason: `no valid .github/sheriff.yml on the default branch ${job.defaultBranch}` });
    }
    const config = governing.lookup.config;
    if (!isWatchedBranch({ branch: repo.branch, defaultBranch: job.defaultBranch }, config)) {
      return done({ kind: "ignored", reason: `branch ${repo.branch} is not watched` });
    }
    const listing = (await listByApi(deps, octokit, job)) ?? (await listByMirror(deps, job, token));
    return ready(config, governing.sha, listing);
  }

  // In the steady state the config at `before` is cached from the push before: listing first then
  // shows whether this push could have changed it, and most pushes need no read of it.
  const before = job.before && !job.forced ? deps.configs.peek(`${key}@${job.before}`) : undefined;
  const early = before ? { listing: await listByApi(deps, octokit, job) } : null;
  const unchanged = early?.listing && !early.listing.infos.some((c) => c.files.includes(CONFIG_PATH));
  // The same cache as the analyses at this head, which read the config next.
  const lookup = await deps.configs.lookup(`${key}@${job.after}`, () =>
    unchanged ? before! : readConfig(octokit, repo.owner, repo.repo, job.after),
  );
  if (lookup.kind === "missing") return done({ kind: "ignored", reason: "no .github/sheriff.yml at the pushed commit" });
  if (lookup.kind === "invalid") {
    log.warn({ issues: lookup.error.issues }, "invalid Sheriff config");
    await reportConfigError(octokit, repo, job.after, lookup.error.message);
    await deps.ledger.note(key, { kind: "config-error", sha: job.after, text: lookup.error.message });
    return done({ kind: "invalid-config", message: lookup.error.message });
  }
  const config = lookup.config;
  if (!isWatchedBranch({ branch: repo.branch, defaultBranch: job.defaultBranch }, config)) {
    return done({ kind: "ignored", reason: `branch ${repo.branch} is not watched` });
  }
  const listing = (early ? early.listing : await listByApi(deps, octokit, job)) ?? (await listByMirror(deps, job, token));
  return ready(config, job.after, listing);
}

function ready(config: SheriffConfig, configSha: string, listing: Listing): PreparedPush {
  return { kind: "ready", config, configSha, ...listing, commits: listing.infos.map((info) => toLandedCommit(info, config)) };
}

/** The config at the default branch's head: the head the ledger planned from, else GitHub's. */
async function defaultBranchConfig(
  deps: PipelineDeps,
  octokit: Octokit,
  job: IntakeJob,
): Promise<{ sha: string; lookup: Awaited<ReturnType<typeof readConfig>> }> {
  const { owner, repo } = job.repo;
  const key = repoKey(job.repo);
  const sha =
    (await deps.ledger.head(key, job.defaultBranch)) ??
    (await octokit.rest.repos.getBranch({ owner, repo, branch: job.defaultBranch })).data.commit.sha;
  return { sha, lookup: await deps.configs.lookup(`${key}@${sha}`, () => readConfig(octokit, owner, repo, sha)) };
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

type ReadyPush = Extract<PreparedPush, { kind: "ready" }>;

type AlignedPush =
  /** The ledger already holds the push and later ones (a redelivery, or a retry overtaken by a later push). */
  | { kind: "stale" }
  /** `missed`: commits between the ledger's tip and the push's `before` that no earlier push recorded. */
  | { kind: "ready"; push: ReadyPush; forced: boolean; missed: number };

/**
 * The push measured against what the ledger holds rather than against its own `before`: after a
 * lost webhook or an intake that gave up, the commits between the ledger's tip and `before` would
 * otherwise never be recorded, and the commit after them would be blamed for what they broke.
 * Then the range is listed again from the tip, through the mirror (any number of commits).
 */
async function againstLedger(deps: PipelineDeps, job: IntakeJob, prepared: ReadyPush): Promise<AlignedPush> {
  const { repo } = job;
  const key = repoKey(repo);
  const tip = await deps.ledger.head(key, repo.branch);
  const asPushed: AlignedPush = { kind: "ready", push: prepared, forced: job.forced, missed: 0 };
  if (tip === null || tip === job.before) return asPushed;
  if ((await deps.ledger.seqOf(key, repo.branch, job.after)) !== null) return tip === job.after ? asPushed : { kind: "stale" };

  const { token } = await deps.access.forInstallation(repo.installationId);
  const mirror = await deps.cache.syncBranch(repo.owner, repo.repo, repo.cloneUrl, repo.branch, { token }, job.after);
  const base = await latestRecordedAncestor(deps, job, mirror);
  // A push retried after later ones went ahead, older than the chain's first commit: not a rewrite.
  if (base === null && (await hasCommit(mirror, tip)) && (await isAncestor(mirror, job.after, tip))) return { kind: "stale" };
  const infos = await commitInfos(mirror, await landedCommits(mirror, base, job.after));
  const pushed = new Set(prepared.infos.map((i) => i.sha));
  return {
    kind: "ready",
    push: { ...prepared, base, infos, commits: infos.map((info) => toLandedCommit(info, prepared.config)), listedBy: "mirror" },
    // The chain past `base` left the branch in a force push Sheriff never took in.
    forced: base !== tip,
    missed: infos.filter((i) => !pushed.has(i.sha)).length,
  };
}

/** First-parent ancestors of a head looked up in the ledger per batch: usually the first batch holds the tip. */
const ANCESTOR_BATCH = 500;

/**
 * The newest first-parent ancestor of the pushed head that the ledger's chain holds: where the
 * branch and the chain part. Found through the head's own history, so it needs nothing that left
 * the branch (the mirror may never have seen a force-pushed-away tip).
 */
async function latestRecordedAncestor(deps: PipelineDeps, job: IntakeJob, mirror: string): Promise<string | null> {
  const key = repoKey(job.repo);
  for (let skip = 0; ; skip += ANCESTOR_BATCH) {
    const batch = await firstParents(mirror, job.after, skip, ANCESTOR_BATCH);
    if (batch.length === 0) return null;
    const found = await deps.ledger.latestInChain(key, job.repo.branch, batch);
    if (found) return found;
  }
}

/**
 * What must follow the pushes before it, in the branch's turn: a force push's cut of the chain,
 * the commits (one transaction), the head, and the GPU jobs. Safe to run twice for the same push.
 */
export async function recordPush(deps: PipelineDeps, job: IntakeJob, prepared: ReadyPush): Promise<IntakeFollowUp> {
  const { repo } = job;
  const key = repoKey(repo);
  const notes: IntakeFollowUp["notes"] = [];
  const aligned = await againstLedger(deps, job, prepared);
  if (aligned.kind === "stale") {
    deps.log.info({ repo: key, sha: job.after }, "push already taken in before later ones: nothing to do");
    return {
      notes,
      queued: [],
      uncovered: [],
      supersede: [],
      outcome: { kind: "ignored", reason: "already taken in, and the branch moved on since" },
    };
  }
  const { config, commits, infos } = aligned.push;
  if (aligned.missed > 0) {
    const text = `${aligned.missed} commit(s) landed that no push Sheriff took in had brought; recorded now`;
    notes.push({ kind: "reconciled", sha: job.after, text });
    deps.log.warn({ repo: key, sha: job.after, missed: aligned.missed }, "landed commits missing from the ledger taken in");
  }
  let rewritten: string[] = [];
  if (aligned.forced) {
    rewritten = await deps.ledger.truncateChain(key, repo.branch, aligned.push.base);
    notes.push({ kind: "history-rewritten", sha: job.after, text: `force push: ${rewritten.length} commit(s) left the branch` });
    deps.log.warn({ repo: key, sha: job.after, dropped: rewritten }, "history rewritten by a force push");
  }

  const firstSight = !(await deps.ledger.hasChain(key, repo.branch));
  const newCommits = await deps.ledger.recordCommits(key, repo.branch, commits);
  await deps.ledger.setHead(key, repo.branch, job.after, {
    source: { repo, repoId: job.repoId, defaultBranch: job.defaultBranch },
    configSha: aligned.push.configSha,
  });
  // The first push Sheriff sees runs every suite at its head: later results need a baseline.
  const jobs = firstSight
    ? config.suites.map((s) => ({ sha: job.after, suite: s.name, purpose: "landed" as const, attempt: 0 }))
    : planLandedJobs(commits);
  for (const c of commits) notes.push({ kind: "landed", sha: c.sha, text: `${c.title} (suites: ${c.suites.join(", ") || "none"})` });
  const later: DeferredDispatch = { notes, supersede: [] };
  for (const request of jobs) {
    const suite = config.suites.find((s) => s.name === request.suite)!;
    await dispatchJob(deps, repo, config, suite, request, { later });
  }

  const queued = [...new Set(jobs.map((j) => j.sha))];
  deps.log.info({ repo: key, sha: job.after, commits: commits.length, newCommits, jobs: jobs.length }, "push planned");
  return {
    notes,
    queued,
    landed: commits.map((c) => ({ sha: c.sha, title: c.title })),
    supersede: later.supersede,
    uncovered: commits.flatMap((c, i) =>
      c.suites.length === 0 && !queued.includes(c.sha) ? [{ sha: c.sha, files: infos[i]!.files.length }] : [],
    ),
    outcome: { kind: "planned", commits: commits.length, newCommits, jobs: jobs.length, rewritten, listedBy: aligned.push.listedBy },
  };
}

/**
 * After the turn, on the follow-up queue: the withdrawal of older queued jobs the push's jobs
 * replace, the check runs of its commits and of those it superseded, and its timeline notes.
 */
export async function followUpPush(deps: PipelineDeps, repo: RepoRef, followUp: PushFollowUp): Promise<void> {
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  const superseded: string[] = [];
  for (const newest of followUp.supersede) superseded.push(...(await supersedeQueuedLanded(deps, repo, newest)));
  await Promise.all([
    ...[...new Set([...followUp.queued, ...superseded])].map((sha) => refreshCheckRun(deps, repo, sha)),
    ...followUp.uncovered.map(({ sha, files }) =>
      upsertCheckRun(octokit, deps.ledger, repo, sha, { done: true, summary: summarizeUncovered(files) }),
    ),
  ]);
  await deps.ledger.noteAll(repoKey(repo), followUp.notes);
  if (followUp.landed?.length) await noticeRelands(deps, repo, followUp.landed);
}
