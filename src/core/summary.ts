import type { CommitSummary } from "../model/checkRun.js";
import type { RunRecord } from "../model/engine.js";
import type { JobRecord, VerdictRecord } from "../model/ledger.js";
import type { BenchmarkResult, SuiteResult } from "../model/result.js";
import { inlineCode, tableCell } from "./quote.js";

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function benchmarkCell(b: BenchmarkResult): string {
  const ours = median(b.samples);
  const ref = b.reference ? ` · ${(median(b.reference.samples) / ours).toFixed(2)}× ${inlineCode(b.reference.name, 80)}` : "";
  return tableCell(`${inlineCode(b.name, 80)} ${ours.toFixed(1)} µs${ref}`);
}

/** Test names a suite reported, as code; a check run lists the first few of thousands. */
const NAMES_SHOWN = 10;

function nameList(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).map((name) => inlineCode(name, 120));
  return `${shown.join(", ")}${names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : ""}`;
}

function suiteConclusion(result: SuiteResult): "pass" | "fail" {
  return result.status === "completed" && result.tests.every((t) => t.outcome === "pass" || t.outcome === "skip") ? "pass" : "fail";
}

/**
 * The check run body for one commit: one row per suite from its latest run.
 * A failing suite is `neutral` until a verdict confirms a regression: a single
 * failure may be a flake, and a red mark on main should mean Sheriff is sure.
 */
export function summarizeCommit(
  runs: RunRecord[],
  pendingSuites: string[],
  confirmedSuites: string[],
  supersededSuites: string[] = [],
  flakyTests: string[] = [],
  missingSuites: string[] = [],
): CommitSummary {
  const latest = new Map<string, RunRecord>();
  for (const run of runs) latest.set(run.job.suite, run);
  const rows = [...latest.values()].map(({ job, result }) => {
    const passed = result.tests.filter((t) => t.outcome === "pass").length;
    const failed = result.tests.filter((t) => t.outcome === "fail" || t.outcome === "error").map((t) => t.name);
    const benches = result.benchmarks.slice(0, 4).map(benchmarkCell).join("<br>");
    const state = confirmedSuites.includes(job.suite)
      ? "regressed"
      : suiteConclusion(result) === "pass"
        ? "passed"
        : `${result.status}, checking`;
    return `| \`${job.suite}\` | ${state} | ${passed}/${result.tests.length} | ${failed.length ? tableCell(nameList(failed)) : "none"} | ${benches || "–"} |`;
  });
  for (const suite of pendingSuites) if (!latest.has(suite)) rows.push(`| \`${suite}\` | queued | – | – | – |`);
  const untested = supersededSuites.filter((suite) => !latest.has(suite) && !pendingSuites.includes(suite));
  for (const suite of untested)
    rows.push(`| \`${suite}\` | not tested on its own: a newer commit was tested, bisection covers this one | – | – | – |`);
  // A job that ended without a result on record (lost, or its host gave up) shows no data, never a pass.
  const missing = missingSuites.filter((suite) => !latest.has(suite) && !pendingSuites.includes(suite));
  for (const suite of missing) rows.push(`| \`${suite}\` | no result recorded: its job ended without one | – | – | – |`);
  const failing = [...latest.values()].filter((r) => suiteConclusion(r.result) === "fail").length;
  const nothingRan = latest.size === 0 && pendingSuites.length === 0;
  const conclusion = confirmedSuites.length > 0 ? "failure" : failing > 0 || missing.length > 0 || nothingRan ? "neutral" : "success";
  const title =
    confirmedSuites.length > 0
      ? `Regression in ${confirmedSuites.join(", ")}`
      : failing > 0
        ? `${failing} suite(s) failing, being re-checked`
        : missing.length > 0
          ? `No result for ${missing.length} suite(s)`
          : latest.size === 0 && untested.length > 0
            ? "Not tested on its own: a newer commit was tested instead"
            : nothingRan
              ? "No suite has run at this commit"
              : `${latest.size} suite(s) passed`;
  const table = [
    "| suite | state | tests passed | failing | benchmarks (median, ratio vs reference) |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ];
  const flaky = flakyTests.length > 0 ? ["", `Flaky, not reverted for: ${nameList(flakyTests)}.`] : [];
  const text = [...table, ...flaky].join("\n");
  return { conclusion, title, text };
}

/** The check run of a landed commit whose files no suite's paths cover: nothing to run, nothing it can break. */
export function summarizeUncovered(files: number): CommitSummary {
  return {
    conclusion: "skipped",
    title: "No suite covers the files this commit changed",
    text: `None of the ${files} changed file(s) matches a suite's \`paths\` in .github/sheriff.yml, so no post-land GPU job runs and this commit is never a suspect.`,
  };
}

/**
 * What a commit's check run shows, from the jobs at that commit, the runs of their suites and
 * every verdict: it is done once no job of the commit is queued or running.
 */
export function commitCheckRun(
  sha: string,
  jobsAtSha: JobRecord[],
  runs: RunRecord[],
  verdicts: VerdictRecord[],
): { done: boolean; summary: CommitSummary } {
  const jobs = jobsAtSha.filter((j) => j.job.sha === sha && j.job.purpose !== "ab");
  const pendingSuites = jobs.filter((j) => j.state === "queued" || j.state === "running").map((j) => j.job.suite);
  const supersededSuites = jobs.filter((j) => j.state === "superseded").map((j) => j.job.suite);
  const endedSuites = jobs.filter((j) => j.state === "done" || j.state === "failed").map((j) => j.job.suite);
  const confirmed = verdicts.flatMap((v) => (v.decision.type === "regression" && v.decision.culprit === sha ? [v.decision.suite] : []));
  const flaky = verdicts.flatMap((v) =>
    v.decision.type === "flaky" && v.decision.sha === sha ? v.decision.tests.map((test) => `${v.decision.suite}: ${test}`) : [],
  );
  return {
    done: pendingSuites.length === 0,
    summary: summarizeCommit(runs, pendingSuites, confirmed, supersededSuites, flaky, endedSuites),
  };
}

/** The suites with a job at the commit (the check run shows their runs there). */
export function suitesWithJobsAt(sha: string, jobs: JobRecord[]): string[] {
  return [...new Set(jobs.filter((j) => j.job.sha === sha && j.job.purpose !== "ab").map((j) => j.job.suite))];
}
