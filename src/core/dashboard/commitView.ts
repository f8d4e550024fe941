/**
 * What a commit's decision page shows: every job with where it ran, each result (tests with their
 * error against tolerance, benchmarks with raw samples against the reference), and each verdict
 * with the evidence the engine used. Pure: it gets the ledger's records of the commit.
 */
import type { SuiteConfig } from "../../model/config.js";
import type { RegressionDecision, FlakyDecision, RunRecord } from "../../model/engine.js";
import { jobId } from "../../model/jobs.js";
import type { JobRecord, RevertRecord, TimelineEntry, VerdictRecord } from "../../model/ledger.js";
import type { TestResult } from "../../model/result.js";
import { median } from "../summary.js";

export interface JobRow {
  id: string;
  suite: string;
  purpose: string;
  state: string;
  host: string;
  gpu: string;
  status: string;
}

export interface TestRow {
  name: string;
  outcome: TestResult["outcome"];
  maxError?: number;
  tolerance?: number;
  /** maxError within tolerance (undefined when the test reported neither). */
  withinTolerance?: boolean;
  message?: string;
}

export interface BenchmarkView {
  name: string;
  samples: number[];
  reference?: { name: string; samples: number[] };
  median: number;
  /** Reference median over ours: above 1 means faster than the reference. */
  speedup?: number;
  /** Samples are quantiles of this many raw timings (retention reduced them). */
  reducedFrom?: number;
}

export interface RunView {
  jobId: string;
  suite: string;
  purpose: string;
  status: string;
  where: string;
  tests: TestRow[];
  failing: number;
  benchmarks: BenchmarkView[];
}

export interface EvidenceStep {
  sha: string;
  purpose: string;
  jobId: string;
  outcome: "pass" | "fail";
  where: string;
}

export interface VerdictView {
  suite: string;
  type: "regression" | "flaky";
  kind?: "correctness" | "performance";
  summary: string;
  at: string;
  culprit?: string;
  lastGood?: string;
  range?: { from: string; to: string; suspects: number };
  failingTests: string[];
  flakyTests: string[];
  benchmarks: { name: string; ratio: number; pValue: number }[];
  thresholds?: SuiteConfig["thresholds"];
  /** The runs the investigation spent (retries, probes, A/B), oldest first. */
  steps: EvidenceStep[];
}

export interface CommitView {
  jobs: JobRow[];
  runs: RunView[];
  verdicts: VerdictView[];
  revert?: RevertRecord;
  timeline: TimelineEntry[];
}

function where(run: RunRecord | undefined): { host: string; gpu: string } {
  const env = run?.result.environment;
  return { host: env?.host ?? "–", gpu: env?.gpu ?? env?.executor ?? "–" };
}

function testRow(test: TestResult): TestRow {
  const bounded = test.maxError !== undefined && test.tolerance !== undefined;
  return {
    name: test.name,
    outcome: test.outcome,
    ...(test.maxError !== undefined ? { maxError: test.maxError } : {}),
    ...(test.tolerance !== undefined ? { tolerance: test.tolerance } : {}),
    ...(bounded ? { withinTolerance: test.maxError! <= test.tolerance! } : {}),
    ...(test.message ? { message: test.message } : {}),
  };
}

/** Failing tests first: on a page of hundreds, those are what a reader came for. */
function byInterest(a: TestRow, b: TestRow): number {
  const rank = (t: TestRow) => (t.outcome === "fail" || t.outcome === "error" ? 0 : 1);
  return rank(a) - rank(b);
}

export function runView(run: RunRecord): RunView {
  const { host, gpu } = where(run);
  const tests = run.result.tests.map(testRow).sort(byInterest);
  return {
    jobId: jobId(run.job),
    suite: run.job.suite,
    purpose: run.job.purpose,
    status: run.result.status,
    where: host === "–" ? gpu : `${gpu} on ${host}`,
    tests,
    failing: tests.filter((t) => t.outcome === "fail" || t.outcome === "error").length,
    benchmarks: run.result.benchmarks.map((b) => {
      const ours = median(b.samples);
      return {
        name: b.name,
        samples: b.samples,
        median: ours,
        ...(b.reference ? { reference: { name: b.reference.name, samples: b.reference.samples } } : {}),
        ...(b.reference ? { speedup: median(b.reference.samples) / ours } : {}),
        ...(b.sampleCount ? { reducedFrom: b.sampleCount } : {}),
      };
    }),
  };
}

function stepOf(run: RunRecord): EvidenceStep {
  const failed = run.result.status !== "completed" || run.result.tests.some((t) => t.outcome === "fail" || t.outcome === "error");
  const { host, gpu } = where(run);
  return {
    sha: run.job.sha,
    purpose: run.job.purpose,
    jobId: jobId(run.job),
    outcome: failed ? "fail" : "pass",
    where: host === "–" ? gpu : `${gpu} on ${host}`,
  };
}

function verdictView(record: VerdictRecord, suites: SuiteConfig[], investigation: RunRecord[]): VerdictView {
  const decision: RegressionDecision | FlakyDecision = record.decision;
  const thresholds = suites.find((s) => s.name === decision.suite)?.thresholds;
  const steps = investigation.filter((r) => r.job.suite === decision.suite && r.job.purpose !== "landed").map(stepOf);
  const common = { suite: decision.suite, summary: decision.summary, at: record.at, ...(thresholds ? { thresholds } : {}), steps };
  if (decision.type === "flaky") return { ...common, type: "flaky", failingTests: [], flakyTests: decision.tests, benchmarks: [] };
  return {
    ...common,
    type: "regression",
    kind: decision.kind,
    culprit: decision.culprit,
    lastGood: decision.lastGood,
    ...(decision.range ? { range: decision.range } : {}),
    failingTests: decision.failingTests.map((t) => t.name),
    flakyTests: [],
    benchmarks: decision.benchmarks,
  };
}

/**
 * The commit's page. `investigation` holds the runs of the suites with a verdict here, at this
 * commit and at the commits its investigations probed (the last good one, bisection probes).
 */
export function commitView(input: {
  jobs: JobRecord[];
  runs: RunRecord[];
  verdicts: VerdictRecord[];
  reverts: RevertRecord[];
  timeline: TimelineEntry[];
  suites: SuiteConfig[];
  investigation: RunRecord[];
}): CommitView {
  const runsById = new Map(input.runs.map((r) => [jobId(r.job), r]));
  const jobs = input.jobs.map((j): JobRow => {
    const run = runsById.get(j.id);
    return { id: j.id, suite: j.job.suite, purpose: j.job.purpose, state: j.state, ...where(run), status: run?.result.status ?? "–" };
  });
  const revert = input.reverts[0];
  return {
    jobs,
    runs: input.runs.map(runView),
    verdicts: input.verdicts.map((v) => verdictView(v, input.suites, input.investigation)),
    ...(revert ? { revert } : {}),
    timeline: input.timeline,
  };
}
