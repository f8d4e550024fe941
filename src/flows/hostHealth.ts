import { hostHealth, type HostDecision } from "../core/verdict/hostHealth.js";
import type { SheriffConfig } from "../model/config.js";
import { hostIssue, hostIssueMarker, hostReadmittedComment, HOST_ISSUE_LABEL } from "../core/hostNotice.js";
import { CANARY_ATTEMPT_BASE, isCanary, nextAttempt, type HostIssueJob, type JobRequest } from "../model/jobs.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import type { PipelineDeps } from "./deps.js";
import { dispatchJob } from "./dispatch.js";

/** The repository's newest runs, across suites, that host health judges. */
export const HEALTH_RUNS = 300;
/** Host health is judged at most this often per repository (its reads are the newest runs of every suite). */
export const HEALTH_EVERY_MS = 30_000;

/**
 * Takes hosts whose failures follow the machine out of the repository's fleet (their results are
 * discounted from then on, and only canaries run there), asks for their canaries, and re-admits
 * them after enough clean ones. Returns what it did; nothing when it ran for the repository lately.
 */
export async function checkHostHealth(deps: PipelineDeps, repo: RepoRef, config: SheriffConfig, now = new Date()): Promise<HostDecision[]> {
  const key = repoKey(repo);
  if ((await deps.queues.store.redis.set(deps.queues.store.key("host-health", key), "1", "PX", HEALTH_EVERY_MS, "NX")) !== "OK") return [];
  const runs = await deps.ledger.recentRuns(key, HEALTH_RUNS);
  const oldest = runs[0]?.result.finishedAt ?? now.toISOString();
  const quarantines = await deps.ledger.hostQuarantines(key, new Date(oldest));
  const decisions = hostHealth({ runs, quarantines, now: now.toISOString() });
  const canaryPending = (await deps.ledger.activeCanaries(key)) > 0;
  const done: HostDecision[] = [];
  for (const decision of decisions) {
    if (decision.type === "quarantine") {
      const from = await deps.ledger.quarantineHost(key, decision.host, decision);
      if (from === null) continue;
      deps.log.warn({ repo: key, host: decision.host, evidence: decision.evidence }, decision.summary);
      await deps.queues.addControl({ type: "host-issue", repo, host: decision.host, from, action: "open" });
    } else if (decision.type === "readmit") {
      const open = quarantines.find((q) => q.host === decision.host && !q.to);
      if (!(await deps.ledger.readmitHost(key, decision.host))) continue;
      deps.log.info({ repo: key, host: decision.host }, decision.summary);
      if (open) await deps.queues.addControl({ type: "host-issue", repo, host: decision.host, from: open.from, action: "close" });
    } else {
      // One canary at a time per repository: each is asked for again until enough came back clean.
      if (canaryPending || done.some((d) => d.type === "canary")) continue;
      const suite = config.suites.find((s) => s.name === decision.run.job.suite);
      if (!suite) continue;
      const sha = decision.run.job.sha;
      // The next canary attempt at that commit: a canary id is never used twice.
      const used = (await deps.ledger.jobsAt(key, sha))
        .map((j) => j.job)
        .filter((j) => j.suite === suite.name && j.purpose === "retry" && isCanary(j))
        .map((j) => j.attempt);
      const job: JobRequest = {
        sha,
        suite: suite.name,
        purpose: "retry",
        attempt: Math.max(CANARY_ATTEMPT_BASE, nextAttempt(used)),
        ...(decision.run.job.cherryPicks ? { cherryPicks: decision.run.job.cherryPicks } : {}),
      };
      if (!(await dispatchJob(deps, repo, config, suite, job, { placement: { onlyHost: decision.host } }))) continue;
    }
    done.push(decision);
  }
  return done;
}

/**
 * Opens the issue that tells people about a quarantine, or comments on it and closes it when the
 * host is re-admitted. Found again by its hidden marker, so a retry never opens a second one.
 */
export async function tellHostQuarantine(deps: PipelineDeps, job: HostIssueJob): Promise<{ issue: number | null }> {
  const { repo } = job;
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  const marker = hostIssueMarker(job.host, job.from);
  const listed = await octokit.rest.issues.listForRepo({
    owner: repo.owner,
    repo: repo.repo,
    labels: HOST_ISSUE_LABEL,
    state: "all",
    per_page: 100,
  });
  const existing = listed.data.find((i) => !i.pull_request && (i.body ?? "").includes(marker));
  if (job.action === "open") {
    if (existing) return { issue: existing.number };
    const recorded = (await deps.ledger.hostQuarantines(repoKey(repo), new Date(job.from))).find(
      (q) => q.host === job.host && q.from === job.from,
    );
    const { title, body } = hostIssue(job.host, job.from, recorded ?? { summary: "", evidence: [] });
    const created = await octokit.rest.issues.create({ owner: repo.owner, repo: repo.repo, title, body, labels: [HOST_ISSUE_LABEL] });
    return { issue: created.data.number };
  }
  if (!existing || existing.state === "closed") return { issue: existing?.number ?? null };
  await octokit.rest.issues.createComment({
    owner: repo.owner,
    repo: repo.repo,
    issue_number: existing.number,
    body: hostReadmittedComment(job.host),
  });
  await octokit.rest.issues.update({ owner: repo.owner, repo: repo.repo, issue_number: existing.number, state: "closed" });
  return { issue: existing.number };
}
