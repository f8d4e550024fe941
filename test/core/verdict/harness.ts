import { suiteConfigSchema, type SuiteConfig } from "../../../src/model/config.js";
import { RESULT_SCHEMA_VERSION, type SuiteResult } from "../../../src/model/result.js";
import { Rng } from "../../../src/dev/sim/prng.js";
import { decide } from "../../../src/core/verdict/engine.js";
import {
  type Decision,
  type EngineCapabilities,
  type EngineInput,
  type FlakyDecision,
  type LandedCommit,
  type Rebaseline,
  type RegressionDecision,
  type ReportDecision,
  type RunRecord,
} from "../../../src/model/engine.js";
import { jobId, type JobRequest } from "../../../src/model/jobs.js";

export const SUITE: SuiteConfig = suiteConfigSchema.parse({ kind: "command", name: "kern", command: "true", paths: ["k/**"] });

export const sha = (i: number): string => (i + 1).toString(16).padStart(12, "0") + "f".repeat(28);

/** Makes commit `at` of `commits` the revert of commit `of` (git's title form, which is how the engine pairs them). */
export function revertOf(commits: LandedCommit[], at: number, of: number): LandedCommit[] {
  return commits.map((c, i) => (i === at ? { ...c, isRevert: true, title: `Revert "${commits[of]!.title}"`, author: "sheriff" } : c));
}

/** A linear history; `touches(i)` says whether commit i touches the suite (default: all do). */
export function history(n: number, touches: (i: number) => boolean = () => true, revertAt: number[] = []): LandedCommit[] {
  return Array.from({ length: n }, (_, i) => ({
    sha: sha(i),
    parent: i ? sha(i - 1) : "0".repeat(40),
    title: `commit ${i}`,
    author: "dev",
    suites: touches(i) ? [SUITE.name] : [],
    isRevert: revertAt.includes(i),
  }));
}

export interface Spec {
  fail?: string[];
  status?: SuiteResult["status"];
  /** Benchmark name -> level in microseconds. */
  bench?: Record<string, number>;
  noise?: number;
  /** Machine factor of this job (both A/B halves share it). */
  jobFactor?: number;
  /** The tests the run reports (default t_a, t_b, t_c): a renamed or removed test drops out. */
  tests?: string[];
  /** The host it ran on (default none: executor gpu-1 only). */
  host?: string;
}

const TESTS = ["t_a", "t_b", "t_c"];

export function result(commit: string, spec: Spec, rng: Rng): SuiteResult {
  const status = spec.status ?? "completed";
  const done = status === "completed";
  return {
    schema: RESULT_SCHEMA_VERSION,
    suite: SUITE.name,
    commit,
    status,
    startedAt: "2026-11-25T00:00:00.000Z",
    finishedAt: "2026-11-25T00:20:00.000Z",
    environment: { commit, executor: "gpu-1", ...(spec.host ? { host: spec.host } : {}) },
    tests: done
      ? (spec.tests ?? TESTS).map((name) => ({ name, outcome: spec.fail?.includes(name) ? ("fail" as const) : ("pass" as const) }))
      : [],
    benchmarks: done
      ? Object.entries(spec.bench ?? {}).map(([name, us]) => ({
          name,
          unit: "us" as const,
          samples: Array.from({ length: 30 }, () => us * (spec.jobFactor ?? 1) * Math.exp((spec.noise ?? 0.01) * rng.normal())),
        }))
      : [],
  };
}

/**
 * How commit `index` behaves on its `n`-th run (0-based, counted per commit). For the baseline
 * half of an A/B job, `job` is seen from that side: `sha` is the baseline, `cherryPicks` its picks.
 */
export type Behaviour = (index: number, n: number, job: JobRequest) => Spec;

export interface Drive {
  runs: RunRecord[];
  regressions: RegressionDecision[];
  flaky: FlakyDecision[];
  reports: ReportDecision[];
  /** Every call's decisions, in order. */
  calls: Decision[][];
  jobs: JobRequest[];
}

/**
 * Runs the engine like the app: `landed` jobs at `landed`, then every requested job is run
 * (up to `parallelism` per round) and the engine is called again, until it asks for nothing.
 */
export function drive(opts: {
  commits: LandedCommit[];
  landed: number[];
  behave: Behaviour;
  parallelism?: number;
  rebaselines?: Rebaseline[];
  seed?: number;
  capabilities?: EngineCapabilities;
  /** The fleet's hosts; a run goes to the first one its decision does not avoid, unless `behave` names a host. */
  hosts?: string[];
}): Drive {
  const rng = new Rng(opts.seed ?? 7);
  const counts = new Map<number, number>();
  const index = new Map(opts.commits.map((c, i) => [c.sha, i] as const));
  const exec = (job: JobRequest, factor: number): SuiteResult => {
    const i = index.get(job.sha)!;
    const n = counts.get(i) ?? 0;
    counts.set(i, n + 1);
    const host = opts.hosts?.find((h) => !avoided.get(jobId(job))?.includes(h));
    return result(job.sha, { jobFactor: factor, ...(host ? { host } : {}), ...opts.behave(i, n, job) }, rng);
  };
  const out: Drive = { runs: [], regressions: [], flaky: [], reports: [], calls: [], jobs: [] };
  const avoided = new Map<string, string[]>();
  const declared: string[] = [];
  const run = (job: JobRequest) => {
    out.jobs.push(job);
    const factor = Math.exp(0.003 * rng.normal());
    const record: RunRecord = { job, result: exec(job, factor) };
    if (job.baselineSha) {
      const j = index.get(job.baselineSha)!;
      const side: JobRequest = { ...job, sha: job.baselineSha };
      delete side.cherryPicks;
      if (job.baselineCherryPicks) side.cherryPicks = job.baselineCherryPicks;
      record.baselineResult = result(job.baselineSha, { jobFactor: factor, ...opts.behave(j, counts.get(j) ?? 0, side) }, rng);
    }
    out.runs.push(record);
  };
  for (const i of opts.landed) run({ sha: sha(i), suite: SUITE.name, purpose: "landed", attempt: 0 });
  for (let round = 0; round < 200; round++) {
    const input: EngineInput = {
      suite: SUITE,
      commits: opts.commits,
      runs: out.runs,
      pending: [],
      rebaselines: opts.rebaselines ?? [],
      declared,
      parallelism: opts.parallelism ?? 1,
      ...(opts.capabilities ? { capabilities: opts.capabilities } : {}),
      ...(opts.hosts ? { hosts: opts.hosts } : {}),
    };
    const decisions = decide(input);
    out.calls.push(decisions);
    const declaredBefore = declared.length;
    for (const d of decisions) {
      if (d.type === "regression" && !declared.includes(d.culprit)) {
        declared.push(d.culprit);
        out.regressions.push(d);
      }
      if (d.type === "run" && d.avoidHosts) avoided.set(jobId(d.job), d.avoidHosts);
      if (d.type === "report" && !out.reports.some((r) => r.kind === d.kind && r.sha === d.sha)) out.reports.push(d);
      if (d.type === "flaky" && !out.flaky.some((f) => f.sha === d.sha && f.tests.join() === d.tests.join())) out.flaky.push(d);
    }
    const jobs = decisions.flatMap((d) => (d.type === "run" ? [d.job] : []));
    // A new declaration changes the input (like a revert landing does in the app): call once more.
    if (!jobs.length && declared.length === declaredBefore) return out;
    const ids = new Set(out.runs.map((r) => jobId(r.job)));
    for (const job of jobs) if (!ids.has(jobId(job))) run(job);
  }
  throw new Error("engine did not settle in 200 rounds");
}
