import type { SheriffConfig, SuiteConfig } from "../model/config.js";
import { readConfig } from "../adapters/github/config.js";
import { isCanary, type AnalyzeJob } from "../model/jobs.js";
import { ENGINE_CARRY_FORMAT, type Decision, type EngineCapabilities, type EngineCarry, type EngineInput } from "../model/engine.js";
import { advanceWindow } from "../core/verdict/window.js";
import { hostOfRun } from "../core/verdict/hosts.js";
import type { EngineWindowRecord } from "../adapters/store/ledger.js";
import type { PipelineDeps } from "./deps.js";
import { refreshCheckRun } from "./checkRun.js";
import { dispatchJob } from "./dispatch.js";
import { checkHostHealth } from "./hostHealth.js";
import { repoKey, type RepoRef } from "../model/repo.js";

export async function loadConfigAt(deps: PipelineDeps, repo: RepoRef, sha: string): Promise<SheriffConfig> {
  return deps.configs.get(`${repoKey(repo)}@${sha}`, async () => {
    const { octokit } = await deps.access.forInstallation(repo.installationId);
    const lookup = await readConfig(octokit, repo.owner, repo.repo, sha);
    if (lookup.kind === "ok") return lookup.config;
    throw new Error(lookup.kind === "missing" ? `no .github/sheriff.yml at ${sha}` : lookup.error.message);
  });
}

/**
 * A carry as stored: valid only for the carry format and the suite settings it was folded under (its
 * thresholds and what the runner can do), since the settled past keeps the verdicts those settings gave.
 */
interface StoredCarry {
  settings: string;
  engine: EngineCarry;
}

/** The engine's input for one suite and where it was read from: the suite's window of the chain, with the carry folded before it. */
export interface WindowedInput {
  input: EngineInput;
  window: EngineWindowRecord<StoredCarry> | null;
  settings: string;
}

function settingsOf(suite: SuiteConfig, capabilities: EngineCapabilities): string {
  return JSON.stringify({ format: ENGINE_CARRY_FORMAT, thresholds: suite.thresholds, capabilities });
}

export async function engineInput(deps: PipelineDeps, repo: RepoRef, config: SheriffConfig, suiteName: string): Promise<WindowedInput> {
  const key = repoKey(repo);
  const suite = config.suites.find((s) => s.name === suiteName);
  if (!suite) throw new Error(`suite ${suiteName} is not in the config any more`);
  // Both runners (the queue worker, and run-suite in the Actions workflow) cherry-pick the reverts a job names.
  const capabilities = { cherryPick: true };
  const settings = settingsOf(suite, capabilities);
  const window = await deps.ledger.engineWindow<StoredCarry>(key, repo.branch, suiteName);
  // Folded under other settings: read the whole chain and fold again.
  const carry = window?.carry?.settings === settings ? window.carry.engine : undefined;
  const commits = await deps.ledger.chainFrom(key, repo.branch, carry ? window!.fromSeq : 0);
  const [runs, active, rebaselines, declared] = await Promise.all([
    deps.ledger.runsOf(
      key,
      suiteName,
      commits.map((c) => c.sha),
    ),
    deps.ledger.activeJobs(key, suiteName),
    deps.ledger.rebaselines(key, suiteName),
    deps.ledger.declaredCulprits(key, suiteName),
  ]);
  // A canary is the fleet's job, not the suite's: the engine neither asked for it nor waits for it.
  const pending = active.filter((j) => !isCanary(j.job)).map((j) => j.job);
  // The fleet as the window's results name it: with two hosts, a failure must be seen on both before blame.
  const hosts = [...new Set(runs.flatMap((r) => hostOfRun(r) ?? []))].sort();
  const oldest = runs.reduce((min, r) => (r.result.finishedAt < min ? r.result.finishedAt : min), new Date().toISOString());
  const quarantines = (await deps.ledger.hostQuarantines(key, new Date(oldest))).map(({ host, from, to }) => ({
    host,
    from,
    ...(to ? { to } : {}),
  }));
  const input = {
    suite,
    commits,
    runs,
    pending,
    rebaselines,
    declared,
    parallelism: deps.parallelism,
    capabilities,
    hosts,
    ...(quarantines.length ? { quarantines } : {}),
  };
  return { input: carry ? { ...input, carry } : input, window, settings };
}

/** Folds what this analysis settled into the suite's window, so the next one reads only what is still open. */
export async function advanceSuiteWindow(deps: PipelineDeps, repo: RepoRef, suite: string, read: WindowedInput): Promise<void> {
  const next = advanceWindow(read.input);
  if (!next.from || !next.carry) return;
  const key = repoKey(repo);
  const fromSeq = await deps.ledger.seqOf(key, repo.branch, next.from);
  if (fromSeq === null) return;
  await deps.ledger.setEngineWindow(
    key,
    repo.branch,
    suite,
    { fromSeq, carry: { settings: read.settings, engine: next.carry } },
    read.window,
  );
}

/**
 * Runs the decision engine for one suite and carries out what it decides. Decisions are
 * recomputed from the ledger each time, so running this twice, or after a crash, is safe.
 */
export async function analyzeSuite(deps: PipelineDeps, job: AnalyzeJob): Promise<Decision[]> {
  const { repo } = job;
  const key = repoKey(repo);
  const log = deps.log.child({ repo: key, suite: job.suite, sha: job.sha ?? job.configSha });
  const config = await loadConfigAt(deps, repo, job.configSha);
  const suite = config.suites.find((s) => s.name === job.suite);
  if (!suite) {
    log.warn("suite no longer configured; nothing to analyze");
    return [];
  }
  await checkHostHealth(deps, repo, config);
  const read = await engineInput(deps, repo, config, job.suite);
  const decisions = deps.engine(read.input);
  for (const decision of decisions) {
    if (decision.type === "run") {
      const placement = decision.avoidHosts ? { avoidHosts: decision.avoidHosts } : undefined;
      if (await dispatchJob(deps, repo, config, suite, decision.job, placement ? { placement } : {}))
        log.info({ job: decision.job, reason: decision.reason }, "engine queued a job");
      continue;
    }
    if (decision.type === "flaky") {
      const note = { kind: "flaky", sha: decision.sha, suite: decision.suite, text: decision.summary };
      if (!(await deps.ledger.recordVerdict(key, decision, note))) continue;
      log.warn({ tests: decision.tests }, "flaky tests: reported, never reverted for");
      await refreshCheckRun(deps, repo, decision.sha);
      continue;
    }
    if (decision.type === "report") {
      // Timeline notes are kept once per commit, kind and text, so re-derived reports are told once.
      await deps.ledger.noteAll(key, [
        { kind: `report:${decision.kind}`, sha: decision.sha, suite: decision.suite, text: decision.summary },
      ]);
      log.warn({ kind: decision.kind, tests: decision.tests, range: decision.range }, "reported, not reverted");
      await refreshCheckRun(deps, repo, decision.sha);
      continue;
    }
    // Queued first: the verdict, once recorded, is not decided again, so a crash after it must not lose the revert.
    // The revert job waits (by retrying) until the verdict is recorded; its id makes this enqueue idempotent.
    await deps.queues.addControl({ type: "revert", repo, suite: decision.suite, culprit: decision.culprit, configSha: job.configSha });
    const note = { kind: "regression", sha: decision.culprit, suite: decision.suite, text: decision.summary };
    if (!(await deps.ledger.recordVerdict(key, decision, note))) continue;
    log.warn({ culprit: decision.culprit, kind: decision.kind }, "regression confirmed");
    await refreshCheckRun(deps, repo, decision.culprit);
  }
  // Only after every decision is carried out: a crash before this point leaves the window where it was.
  await advanceSuiteWindow(deps, repo, job.suite, read);
  if (job.sha) await refreshCheckRun(deps, repo, job.sha);
  return decisions;
}
