/**
 * What the grid shows: one row per landed commit, newest first, one cell per suite. Pure: it gets
 * the page's commits and what the ledger recorded about them, and decides each cell's state.
 */
import type { ChainCommit, JobFact, PageFacts, RevertFact, RunFact } from "../../model/dashboard.js";

export type CellState =
  "passed" | "failed" | "flaky" | "crashed" | "timed-out" | "pending" | "superseded" | "probed" | "untested" | "not-touched";

export const CELL_LABELS: Record<CellState, string> = {
  passed: "passed",
  failed: "failed",
  flaky: "flaky",
  crashed: "crashed",
  "timed-out": "timed out",
  pending: "pending",
  superseded: "superseded",
  probed: "probed by bisection",
  untested: "untested",
  "not-touched": "not touched",
};

export interface GridCell {
  suite: string;
  state: CellState;
  /** The culprit of a regression verdict in this suite. */
  culprit: boolean;
  /** Runs at this commit in this suite (retries and probes included). */
  runs: number;
  /** The commit's own job was withdrawn for a newer commit's, whatever was learnt later. */
  superseded: boolean;
  /** Bisection ran the suite here. */
  probed: boolean;
  /** Why the cell is in its state, for its tooltip. */
  detail: string;
}

export interface GridRow {
  commit: ChainCommit;
  cells: GridCell[];
  culpritOf: string[];
  revert?: RevertFact;
}

export interface Grid {
  suites: string[];
  rows: GridRow[];
}

function runState(run: RunFact): CellState {
  if (run.status === "crashed") return "crashed";
  if (run.status === "timed_out") return "timed-out";
  return run.status === "error" || run.failed > 0 ? "failed" : "passed";
}

function describeRun(run: RunFact): string {
  if (run.status !== "completed") return `${run.purpose} run ${run.status.replace("_", " ")}`;
  return `${run.purpose} run: ${run.tests - run.failed}/${run.tests} tests passed`;
}

/** A suite's cell at one commit, from the jobs and runs there and the verdicts about it. */
export function cellState(
  commit: ChainCommit,
  suite: string,
  facts: { jobs: JobFact[]; runs: RunFact[]; regression: boolean; flaky: boolean },
): GridCell {
  const runs = facts.runs;
  const base = {
    suite,
    culprit: facts.regression,
    runs: runs.length,
    superseded: facts.jobs.some((j) => j.state === "superseded"),
    probed: runs.some((r) => r.purpose === "bisect"),
  };
  if (facts.regression) return { ...base, state: "failed", detail: "regression: this commit is the culprit" };
  if (facts.flaky) return { ...base, state: "flaky", detail: "failed intermittently: reported, not reverted for" };
  const ownRuns = runs.filter((r) => r.purpose !== "bisect" && r.purpose !== "ab");
  const latest = ownRuns.at(-1);
  if (latest) return { ...base, state: runState(latest), detail: describeRun(latest) };
  const active = facts.jobs.some((j) => j.state === "queued" || j.state === "running");
  const probe = runs.filter((r) => r.purpose === "bisect").at(-1);
  if (probe) return { ...base, state: "probed", detail: `probed by bisection: ${runState(probe)}` };
  if (active) return { ...base, state: "pending", detail: "a job is queued or running" };
  if (base.superseded)
    return { ...base, state: "superseded", detail: "not tested on its own: a newer commit landed before a GPU was free" };
  if (facts.jobs.some((j) => j.state === "failed")) return { ...base, state: "crashed", detail: "the job failed without a result" };
  if (!commit.suites.includes(suite)) return { ...base, state: "not-touched", detail: "the commit touches none of the suite's paths" };
  return { ...base, state: "untested", detail: "no job ran at this commit" };
}

function key(sha: string, suite: string): string {
  return `${sha}\u0000${suite}`;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The suites shown as columns: those the page's commits touch or ran, in name order, or just the filtered one. */
export function gridSuites(commits: ChainCommit[], facts: PageFacts, only?: string): string[] {
  if (only) return [only];
  const names = new Set<string>();
  for (const commit of commits) for (const suite of commit.suites) names.add(suite);
  for (const run of facts.runs) names.add(run.suite);
  for (const job of facts.jobs) names.add(job.suite);
  return [...names].sort();
}

export function buildGrid(commits: ChainCommit[], facts: PageFacts, only?: string): Grid {
  const suites = gridSuites(commits, facts, only);
  const jobs = groupBy(facts.jobs, (j) => key(j.sha, j.suite));
  const runs = groupBy(facts.runs, (r) => key(r.sha, r.suite));
  const regressions = new Set(facts.verdicts.filter((v) => v.type === "regression").map((v) => key(v.sha, v.suite)));
  const flaky = new Set(facts.verdicts.filter((v) => v.type === "flaky").map((v) => key(v.sha, v.suite)));
  const reverts = new Map(facts.reverts.map((r) => [r.culprit, r]));
  const rows = commits.map((commit): GridRow => {
    const cells = suites.map((suite) =>
      cellState(commit, suite, {
        jobs: jobs.get(key(commit.sha, suite)) ?? [],
        runs: runs.get(key(commit.sha, suite)) ?? [],
        regression: regressions.has(key(commit.sha, suite)),
        flaky: flaky.has(key(commit.sha, suite)),
      }),
    );
    const revert = reverts.get(commit.sha);
    const culpritOf = facts.verdicts.filter((v) => v.type === "regression" && v.sha === commit.sha).map((v) => v.suite);
    return { commit, cells, culpritOf, ...(revert ? { revert } : {}) };
  });
  return { suites, rows };
}
