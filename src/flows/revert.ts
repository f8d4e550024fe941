import type { Octokit } from "@octokit/rest";
import { addLabel, openPull, openPullFrom } from "../adapters/github/pulls.js";
import { commentOnce } from "../adapters/github/comments.js";
import { landingPull, openPullsInto, type LandingPull } from "../adapters/github/revertFacts.js";
import { laterCommitsMentioning } from "../adapters/git/laterCommits.js";
import { type RevertJob } from "../model/jobs.js";
import { renderEvidence, revertBody, revertBranch } from "../core/revert/evidence.js";
import { botIdentity, createRevertCommit } from "../adapters/git/revert.js";
import { botUserId } from "../adapters/github/access.js";
import { decideRevert, type RevertAction, type RevertPolicyInput } from "../core/revert/policy.js";
import { findExistingRevert } from "../core/revert/existing.js";
import type { RevertRecord, StoredCommit } from "../model/ledger.js";
import type { RegressionDecision } from "../model/engine.js";
import type { SheriffConfig } from "../model/config.js";
import type { PipelineDeps } from "./deps.js";
import { loadConfigAt } from "./analyze.js";
import { repoKey } from "../model/repo.js";
import { shortSha } from "../model/sha.js";
import { revertTitle } from "../model/revertCommit.js";
import {
  alreadyRevertedMessage,
  alreadyRevertedReason,
  alreadyRevertingMessage,
  commentOnlyMessage,
  requestedRevertSummary,
  revertConflictMessage,
  revertConflictReason,
  revertNoticeMarker,
  revertOpenedMessage,
  type CulpritNotice,
} from "../core/revert/messages.js";

export const REVERT_LABEL = "sheriff:revert";

async function findDecision(deps: PipelineDeps, key: string, job: RevertJob): Promise<RegressionDecision> {
  const verdict = await deps.ledger.regression(key, job.suite, job.culprit);
  if (verdict) return verdict;
  // The analysis queues the revert before it records the verdict, so a crash between the two loses neither: wait for it.
  if (!job.requestedBy) throw new Error(`no regression verdict recorded yet for ${job.culprit} in ${job.suite}`);
  // A person's `revert` command needs no engine verdict; the evidence is their reason.
  return {
    type: "regression",
    suite: job.suite,
    kind: "correctness",
    culprit: job.culprit,
    lastGood: job.culprit,
    failingTests: [],
    benchmarks: [],
    summary: requestedRevertSummary(job.requestedBy, job.reason),
  };
}

/** What the revert step knows about a culprit before it decides and acts. */
interface Culprit {
  job: RevertJob;
  key: string;
  config: SheriffConfig;
  decision: RegressionDecision;
  commit: StoredCommit | null;
  original: LandingPull | null;
  octokit: Octokit;
  token: string;
  slug: string;
  notice: CulpritNotice;
  evidence: string;
}

async function readCulprit(deps: PipelineDeps, job: RevertJob): Promise<Culprit> {
  const key = repoKey(job.repo);
  const config = await loadConfigAt(deps, job.repo, job.configSha);
  const decision = await findDecision(deps, key, job);
  const commit = await deps.ledger.commit(key, job.culprit);
  const { octokit, token } = await deps.access.forInstallation(job.repo.installationId);
  const original = await landingPull(octokit, job.repo, job.culprit);
  const evidence = renderEvidence(decision, {
    culprit: await deps.ledger.latestRun(key, job.suite, decision.culprit),
    lastGood: await deps.ledger.latestRun(key, job.suite, decision.lastGood),
  });
  const notice: CulpritNotice = { culprit: job.culprit, suite: job.suite, author: original?.author, withoutPr: original === null };
  return { job, key, config, decision, commit, original, octokit, token, slug: await deps.access.appSlug(), notice, evidence };
}

/** What the limits read besides the day's count: the pause, the PR's labels and age, and reverts someone made already. */
async function policyInput(deps: PipelineDeps, c: Culprit): Promise<Omit<RevertPolicyInput, "revertsToday">> {
  const { job, original, config } = c;
  const pause = await deps.ledger.revertPause(c.key);
  const needles = [shortSha(job.culprit), ...(original ? [`#${original.number}`] : [])];
  const [landed, openPulls] = await Promise.all([
    laterCommitsMentioning(deps.cache, job.repo, job.culprit, needles, { token: c.token }),
    openPullsInto(c.octokit, job.repo),
  ]);
  const target = { culprit: job.culprit, originalPr: original?.number ?? null, repoFullName: c.key };
  return {
    mode: config.policy.autoRevert,
    ...(job.requestedBy ? { requestedBy: job.requestedBy } : {}),
    culpritIsRevert: c.commit?.isRevert ?? false,
    maxPerDay: config.policy.maxAutoRevertsPerDay,
    landedAt: original?.mergedAt ?? c.commit?.landedAt ?? null,
    now: deps.ledger.time(),
    maxCulpritAgeHours: config.policy.maxCulpritAgeHours,
    labels: original?.labels ?? [],
    optOutLabel: config.policy.optOutLabel,
    pause: pause?.paused ? { by: pause.by, reason: pause.reason, at: pause.at } : null,
    existing: findExistingRevert(target, { landed, openPulls, ownBranch: revertBranch(job.culprit) }),
  };
}

/** Decided once per culprit and trigger: a retry carries out the first attempt's decision, whatever it did itself since. */
async function decide(deps: PipelineDeps, c: Culprit): Promise<RevertAction> {
  const trigger = c.job.requestedBy ?? "";
  const stored = await deps.ledger.revertDecision<RevertAction>(c.key, c.job.culprit, trigger);
  if (stored) return stored;
  const input = await policyInput(deps, c);
  return deps.ledger.decideRevertOnce(
    c.key,
    c.job.culprit,
    trigger,
    (revertsToday) => decideRevert({ ...input, revertsToday }),
    (action) => !c.job.requestedBy && action.action === "open-pr",
  );
}

/** Tells the original PR (the commit itself when it landed without one), once per culprit and trigger however often this step is retried. */
async function tell(c: Culprit, body: string): Promise<void> {
  const target = c.original ? { issue: c.original.number } : { commit: c.job.culprit };
  const marker = revertNoticeMarker(c.job.culprit, c.job.requestedBy);
  await commentOnce(c.octokit, c.job.repo, target, { marker, body, author: `${c.slug}[bot]` });
}

async function finish(deps: PipelineDeps, c: Culprit, record: RevertRecord): Promise<RevertRecord> {
  const note = { kind: `revert-${record.outcome}`, sha: c.job.culprit, suite: c.job.suite, text: record.reason };
  await deps.ledger.recordRevert(c.key, record, note);
  deps.log.info(
    { repo: c.key, sha: c.job.culprit, suite: c.job.suite, outcome: record.outcome, revertPr: record.revertPr },
    "culprit handled",
  );
  return record;
}

/** A real `git revert` on top of the branch, its PR, label and note on the original; a retry finds the PR it opened. */
async function openRevertPr(deps: PipelineDeps, c: Culprit, base: RevertRecord): Promise<RevertRecord> {
  const { job, octokit, original, notice } = c;
  const branch = revertBranch(job.culprit);
  let number = await openPullFrom(octokit, job.repo, branch);
  if (number === null) {
    const author = botIdentity(c.slug, await botUserId(octokit, c.slug));
    const created = await createRevertCommit(deps.cache, job.repo, job.culprit, branch, { token: c.token }, author);
    if (created.kind === "already-reverted") {
      await tell(c, alreadyRevertedMessage(notice, { branch: job.repo.branch, head: created.head }));
      return finish(deps, c, { ...base, outcome: "already-reverted", reason: alreadyRevertedReason(created.head) });
    }
    if (created.kind === "conflict") {
      await tell(c, revertConflictMessage(notice, { branch: job.repo.branch, head: created.head, files: created.files }, c.evidence));
      return finish(deps, c, { ...base, outcome: "conflict", reason: revertConflictReason(created.files) });
    }
    const title = revertTitle(original?.title ?? c.commit?.title ?? shortSha(job.culprit));
    number = await openPull(octokit, job.repo, { head: branch, title, body: revertBody(c.decision, c.evidence, original?.number ?? null) });
  }
  await addLabel(octokit, job.repo, number, REVERT_LABEL);
  await tell(c, revertOpenedMessage(notice, number, c.decision.summary));
  return finish(deps, c, { ...base, outcome: "pr-opened", revertPr: number, revertBranch: branch });
}

/**
 * Acts on a confirmed culprit under the repository's policy and limits: a revert PR, a comment
 * only (shadow mode, a revert culprit, a pause, the opt-out label, the culprit's age, the daily
 * cap, a revert someone made already), or just the record. The decision is stored before any
 * GitHub effect and every effect is found again before it is repeated (the PR by its branch, the
 * comments by their marker), so a retry after a kill or a lost answer does each one once.
 */
export async function revertCulprit(deps: PipelineDeps, job: RevertJob): Promise<RevertRecord> {
  const done = await deps.ledger.revertOf(repoKey(job.repo), job.culprit);
  if (done && (done.outcome === "pr-opened" || !job.requestedBy)) return done;

  const c = await readCulprit(deps, job);
  const policy = await decide(deps, c);
  const base: RevertRecord = {
    culprit: job.culprit,
    suite: job.suite,
    outcome: "recorded",
    reason: policy.reason,
    summary: c.decision.summary,
    at: deps.ledger.time().toISOString(),
    ...(c.original ? { originalPr: c.original.number } : {}),
  };
  switch (policy.action) {
    case "record-only":
      return finish(deps, c, base);
    case "comment-only":
      await tell(c, commentOnlyMessage(c.notice, policy.reason, c.evidence));
      return finish(deps, c, { ...base, outcome: "commented" });
    case "already-reverting": {
      const requested = job.requestedBy;
      await tell(
        c,
        requested ? alreadyRevertingMessage(c.notice, requested, policy.existing) : commentOnlyMessage(c.notice, policy.reason, c.evidence),
      );
      return finish(deps, c, { ...base, outcome: policy.existing.kind === "landed" ? "already-reverted" : "skipped" });
    }
    case "open-pr":
      return openRevertPr(deps, c, base);
  }
}
