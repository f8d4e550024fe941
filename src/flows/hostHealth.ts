import { hostHealth, type HostDecision } from "../core/verdict/hostHealth.js";
import type { SheriffConfig } from "../model/config.js";
import { CANARY_ATTEMPT_BASE, type JobRequest } from "../model/jobs.js";
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
      if (!(await deps.ledger.quarantineHost(key, decision.host, decision))) continue;
      deps.log.warn({ repo: key, host: decision.host, evidence: decision.evidence }, decision.summary);
    } else if (decision.type === "readmit") {
      if (!(await deps.ledger.readmitHost(key, decision.host))) continue;
      deps.log.info({ repo: key, host: decision.host }, decision.summary);
    } else {
      // One canary at a time per repository: each is asked for again until enough came back clean.
      if (canaryPending || done.some((d) => d.type === "canary")) continue;
      const suite = config.suites.find((s) => s.name === decision.run.job.suite);
      if (!suite) continue;
      const sinceQuarantine = runs.filter((r) => r.result.environment.host === decision.host).length;
      const job: JobRequest = {
        sha: decision.run.job.sha,
        suite: suite.name,
        purpose: "retry",
        attempt: CANARY_ATTEMPT_BASE + sinceQuarantine,
        ...(decision.run.job.cherryPicks ? { cherryPicks: decision.run.job.cherryPicks } : {}),
      };
      if (!(await dispatchJob(deps, repo, config, suite, job, { placement: { onlyHost: decision.host } }))) continue;
    }
    done.push(decision);
  }
  return done;
}
