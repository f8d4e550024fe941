import type { Octokit } from "@octokit/rest";
import type { CommandActions, CommandContext } from "./commands.js";
import type { PriorRevert, RevertHistory } from "../model/land.js";
import { loadConfigAt } from "./analyze.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob } from "./dispatch.js";
import { rerunSuites } from "./rerun.js";
import { quoteLine } from "../core/quote.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import { shortSha } from "../model/sha.js";
import { explainReply, pauseStatus, revertAlreadyOpenMessage } from "../core/revert/messages.js";
import type { RevertPause } from "../core/revert/policy.js";

interface PullFacts {
  repo: RepoRef;
  merged: boolean;
  mergeSha: string | null;
  headSha: string;
  title: string;
}

async function pullFacts(octokit: Octokit, ctx: CommandContext): Promise<PullFacts> {
  const [{ data: pr }, { data: repository }] = await Promise.all([
    octokit.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: ctx.pr }),
    octokit.rest.repos.get({ owner: ctx.owner, repo: ctx.repo }),
  ]);
  return {
    repo: { owner: ctx.owner, repo: ctx.repo, installationId: ctx.installationId, cloneUrl: repository.clone_url, branch: pr.base.ref },
    merged: Boolean(pr.merged),
    mergeSha: pr.merged ? (pr.merge_commit_sha ?? null) : null,
    headSha: pr.head.sha,
    title: pr.title,
  };
}

/** Resolves a sha people typed (7+ hex digits) against the commits Sheriff has seen land. */
async function resolveLanded(deps: PipelineDeps, repo: RepoRef, typed: string): Promise<string | null> {
  const matches = await deps.ledger.commitsByPrefix(repoKey(repo), repo.branch, typed);
  return matches.length === 1 ? matches[0]!.sha : null;
}

/** The repository's pause of automatic reverts, when they are paused now. */
async function currentPause(deps: PipelineDeps, key: string): Promise<RevertPause | null> {
  const pause = await deps.ledger.revertPause(key);
  return pause?.paused ? { by: pause.by, reason: pause.reason, at: pause.at } : null;
}

/** Sheriff's side of the comment commands: everything goes through the same ledger and queues as automatic work. */
export function commandActions(deps: PipelineDeps): CommandActions {
  const landedOrExplain = async (ctx: CommandContext, verb: string) => {
    const facts = await pullFacts(ctx.octokit, ctx);
    if (!facts.mergeSha) throw new Error(`#${ctx.pr} has not landed, so there is nothing to ${verb} after landing`);
    return { ...facts, mergeSha: facts.mergeSha };
  };

  return {
    async revert(ctx) {
      const facts = await landedOrExplain(ctx, "revert");
      const done = await deps.ledger.revertOf(repoKey(facts.repo), facts.mergeSha);
      if (done?.outcome === "pr-opened" && done.revertPr !== undefined) return revertAlreadyOpenMessage(facts.mergeSha, done.revertPr);
      await deps.queues.addControl({
        type: "revert",
        repo: facts.repo,
        suite: ctx.category ?? "manual",
        culprit: facts.mergeSha,
        configSha: (await deps.ledger.configSha(repoKey(facts.repo), facts.repo.branch)) ?? facts.mergeSha,
        requestedBy: ctx.requestedBy,
        reason: ctx.reason,
      });
      await deps.ledger.note(repoKey(facts.repo), {
        kind: "revert-requested",
        sha: facts.mergeSha,
        text: `@${ctx.requestedBy}: ${ctx.reason}`,
      });
      return `Reverting ${shortSha(facts.mergeSha)}: Sheriff will open a revert PR and link it here, unless one is open or the commit is reverted already.`;
    },

    async rerun(ctx) {
      const facts = await landedOrExplain(ctx, "rerun");
      const names = await rerunSuites(deps, facts.repo, facts.mergeSha, ctx.suites);
      if (names.length === 0) return `${shortSha(facts.mergeSha)} touches no suite; name the suites to rerun.`;
      return `Rerunning ${names.map((n) => `\`${n}\``).join(", ")} at ${shortSha(facts.mergeSha)}.`;
    },

    async bisect(ctx) {
      const facts = await pullFacts(ctx.octokit, ctx);
      const [good, bad] = await Promise.all([resolveLanded(deps, facts.repo, ctx.good), resolveLanded(deps, facts.repo, ctx.bad)]);
      if (!good || !bad) throw new Error(`${!good ? ctx.good : ctx.bad} is not one landed commit Sheriff knows on ${facts.repo.branch}`);
      const key = repoKey(facts.repo);
      const config = await loadConfigAt(deps, facts.repo, (await deps.ledger.head(key, facts.repo.branch)) ?? bad);
      const suites = ctx.suite ? config.suites.filter((s) => s.name === ctx.suite) : config.suites;
      if (suites.length === 0) throw new Error(`no suite named \`${ctx.suite}\` in .github/sheriff.yml`);
      // Results at both ends let the engine bisect the range like any other bad result.
      for (const suite of suites) {
        for (const sha of [good, bad])
          await dispatchJob(deps, facts.repo, config, suite, { sha, suite: suite.name, purpose: "baseline", attempt: 0 });
      }
      return `Bisecting ${shortSha(good)}..${shortSha(bad)} for ${suites.map((s) => `\`${s.name}\``).join(", ")}: Sheriff is testing both ends and will narrow down from there.`;
    },

    async rebaseline(ctx) {
      const facts = await pullFacts(ctx.octokit, ctx);
      const key = repoKey(facts.repo);
      const sha = facts.mergeSha ?? (await deps.ledger.head(key, facts.repo.branch));
      if (!sha) throw new Error(`Sheriff has seen nothing land on ${facts.repo.branch} yet`);
      await deps.ledger.recordRebaseline(key, {
        suite: ctx.suite,
        sha,
        reason: ctx.reason,
        by: ctx.requestedBy,
        at: new Date().toISOString(),
      });
      await deps.ledger.note(key, { kind: "rebaseline", sha, suite: ctx.suite, text: `@${ctx.requestedBy}: ${ctx.reason}` });
      await deps.queues.addControl({
        type: "analyze",
        repo: facts.repo,
        suite: ctx.suite,
        configSha: (await deps.ledger.configSha(key, facts.repo.branch)) ?? sha,
      });
      return `\`${ctx.suite}\` is rebaselined at ${shortSha(sha)}: later timings are compared with this level. Reason recorded: ${quoteLine(ctx.reason)}`;
    },

    async explain(ctx) {
      const facts = await pullFacts(ctx.octokit, ctx);
      const key = repoKey(facts.repo);
      const shas = [facts.headSha, ...(facts.mergeSha ? [facts.mergeSha] : [])];
      const [timeline, reverts, pause] = await Promise.all([
        deps.ledger.timelineAt(key, shas),
        deps.ledger.revertsOf(key, shas),
        currentPause(deps, key),
      ]);
      return explainReply(ctx.pr, facts, timeline, reverts, pause);
    },

    async pause(ctx) {
      const key = repoKey(ctx);
      const at = deps.ledger.time().toISOString();
      await deps.ledger.recordRevertPause(key, { paused: true, reason: ctx.reason, by: ctx.requestedBy, at });
      return pauseStatus({ by: ctx.requestedBy, reason: ctx.reason, at });
    },

    async resume(ctx) {
      const key = repoKey(ctx);
      const pause = await currentPause(deps, key);
      if (!pause) return "Automatic reverts were not paused on this repository; nothing changed.";
      await deps.ledger.recordRevertPause(key, { paused: false, reason: "", by: ctx.requestedBy, at: deps.ledger.time().toISOString() });
      return `Automatic reverts are on again (paused since ${pause.at.slice(0, 16).replace("T", " ")} UTC by @${pause.by}); regressions found from now on may be reverted automatically.`;
    },

    async pauseStatus(ctx) {
      return pauseStatus(await currentPause(deps, repoKey(ctx)));
    },

    async cancel(ctx) {
      const facts = await pullFacts(ctx.octokit, ctx);
      const key = repoKey(facts.repo);
      const sha = facts.mergeSha ?? facts.headSha;
      const queued = (await deps.ledger.jobsAt(key, sha)).filter((j) => j.state === "queued");
      for (const record of queued) {
        await deps.queues.withdrawGpu(facts.repo, record.job);
        await deps.ledger.setJobState(key, record.job, "failed", `cancelled by @${ctx.requestedBy}`);
      }
      return queued.length > 0 ? `Cancelled ${queued.length} queued GPU job(s) at ${shortSha(sha)}.` : null;
    },
  };
}

const REFERENCE = /#(\d{1,10})\b/g;
/** GitHub's issue numbers are 32-bit integers; a larger `#n` cannot name one. */
const MAX_PR_NUMBER = 2 ** 31 - 1;

/** Earlier reverts of what a PR re-applies, from the PRs it references and the ledger's reverts. */
export function ledgerRevertHistory(deps: Pick<PipelineDeps, "ledger">): RevertHistory {
  return {
    async historyFor(owner, repo, _pr, title, body) {
      const referenced = new Set([...`${title}\n${body}`.matchAll(REFERENCE)].map((m) => Number(m[1])).filter((n) => n <= MAX_PR_NUMBER));
      const reverts = await deps.ledger.revertsByPr(`${owner}/${repo}`, [...referenced]);
      return reverts
        .filter(
          (r) =>
            r.outcome === "pr-opened" &&
            ((r.originalPr !== undefined && referenced.has(r.originalPr)) || (r.revertPr !== undefined && referenced.has(r.revertPr))),
        )
        .map((r): PriorRevert => ({
          pr: r.originalPr ?? 0,
          sha: r.culprit,
          ...(r.revertPr !== undefined ? { revertPr: r.revertPr } : {}),
          reason: r.summary,
          category: r.suite,
          by: "sheriff",
          at: r.at,
        }));
    },
  };
}
