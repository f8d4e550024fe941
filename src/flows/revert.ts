import { addLabel, comment, openPull, openPullFrom, pullForCommit } from "../adapters/github/pulls.js";
import { type RevertJob } from "../model/jobs.js";
import { renderEvidence, revertBody, revertBranch } from "../core/revert/evidence.js";
import { botIdentity, createRevertCommit } from "../adapters/git/revert.js";
import { botUserId } from "../adapters/github/access.js";
import { decideRevert } from "../core/revert/policy.js";
import type { RevertRecord } from "../model/ledger.js";
import type { RegressionDecision } from "../model/engine.js";
import type { PipelineDeps } from "./deps.js";
import { loadConfigAt } from "./analyze.js";
import { repoKey } from "../model/repo.js";
import { shortSha } from "../model/sha.js";
import { revertTitle } from "../model/revertCommit.js";
import {
  alreadyRevertedMessage,
  alreadyRevertedReason,
  commentOnlyMessage,
  requestedRevertSummary,
  revertConflictMessage,
  revertConflictReason,
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

/**
 * Acts on a confirmed culprit under the repository's policy: a revert PR, a comment only
 * (shadow mode, a revert culprit, the daily cap), or just the record. Each step checks what a
 * previous attempt already did, so a retry after a GitHub failure finishes the job without repeats.
 */
export async function revertCulprit(deps: PipelineDeps, job: RevertJob): Promise<RevertRecord> {
  const { repo } = job;
  const key = repoKey(repo);
  const done = await deps.ledger.revertOf(key, job.culprit);
  if (done && (done.outcome === "pr-opened" || !job.requestedBy)) return done;

  const log = deps.log.child({ repo: key, sha: job.culprit, suite: job.suite });
  const config = await loadConfigAt(deps, repo, job.configSha);
  const decision = await findDecision(deps, key, job);
  const commit = await deps.ledger.commit(key, job.culprit);
  const { octokit, token } = await deps.access.forInstallation(repo.installationId);
  const original = await pullForCommit(octokit, repo, job.culprit);
  const policy = decideRevert({
    mode: config.policy.autoRevert,
    ...(job.requestedBy ? { requestedBy: job.requestedBy } : {}),
    culpritIsRevert: commit?.isRevert ?? false,
    revertsToday: await deps.ledger.revertsToday(key),
    maxPerDay: config.policy.maxAutoRevertsPerDay,
  });
  const evidence = renderEvidence(decision, {
    culprit: await deps.ledger.latestRun(key, job.suite, decision.culprit),
    lastGood: await deps.ledger.latestRun(key, job.suite, decision.lastGood),
  });
  const base = {
    culprit: job.culprit,
    suite: job.suite,
    reason: policy.reason,
    summary: decision.summary,
    at: new Date().toISOString(),
    ...(original ? { originalPr: original.number } : {}),
  };
  const notice: CulpritNotice = { culprit: job.culprit, suite: job.suite, author: original?.author };

  const finish = async (record: RevertRecord) => {
    await deps.ledger.recordRevert(key, record, {
      kind: `revert-${record.outcome}`,
      sha: job.culprit,
      suite: job.suite,
      text: record.reason,
    });
    log.info({ outcome: record.outcome, revertPr: record.revertPr }, "culprit handled");
    return record;
  };

  if (policy.action === "record-only") return finish({ ...base, outcome: "recorded" });
  if (policy.action === "comment-only") {
    if (original) {
      await comment(octokit, repo, original.number, commentOnlyMessage(notice, policy.reason, evidence));
    }
    return finish({ ...base, outcome: "commented" });
  }

  const branch = revertBranch(job.culprit);
  // A retry after GitHub failed mid-way finds the PR it already opened and only finishes the rest.
  let number = await openPullFrom(octokit, repo, branch);
  if (number === null) {
    const slug = await deps.access.appSlug();
    const author = botIdentity(slug, await botUserId(octokit, slug));
    const created = await createRevertCommit(deps.cache, repo, job.culprit, branch, { token }, author);
    if (created.kind === "already-reverted") {
      if (original) {
        await comment(octokit, repo, original.number, alreadyRevertedMessage(notice, { branch: repo.branch, head: created.head }));
      }
      return finish({ ...base, outcome: "already-reverted", reason: alreadyRevertedReason(created.head) });
    }
    if (created.kind === "conflict") {
      if (original) {
        const conflict = { branch: repo.branch, head: created.head, files: created.files };
        await comment(octokit, repo, original.number, revertConflictMessage(notice, conflict, evidence));
      }
      return finish({ ...base, outcome: "conflict", reason: revertConflictReason(created.files) });
    }
    const title = revertTitle(original?.title ?? commit?.title ?? shortSha(job.culprit));
    number = await openPull(octokit, repo, { head: branch, title, body: revertBody(decision, evidence, original?.number ?? null) });
    if (!job.requestedBy) await deps.ledger.countRevertToday(key);
  }
  await addLabel(octokit, repo, number, REVERT_LABEL);
  if (original) {
    await comment(octokit, repo, original.number, revertOpenedMessage(notice, number, decision.summary));
  }
  return finish({ ...base, outcome: "pr-opened", revertPr: number, revertBranch: branch });
}
