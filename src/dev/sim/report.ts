import { quantile } from "simple-statistics";
import type { SimulationReport } from "./metrics.js";
import { shaTag } from "../../model/sha.js";

/** One matrix cell: the same configuration over several seeds, with counts summed and times pooled. */
export interface CellSummary {
  noise: number;
  slowdown: number;
  flakeRate: number;
  seeds: number[];
  commits: number;
  testedCommits: number;
  correctness: { culprits: number; found: number; missedMasked: number; masked: number; foundMasked: number };
  slowdowns: { culprits: number; found: number; belowThreshold: boolean; missedMasked: number; masked: number; foundMasked: number };
  falseReverts: number;
  flakyReports: number;
  gpuJobs: number;
  /** Mean over found culprits of the jobs their own investigation spent (retries included / excluded). */
  jobsPerCulprit: number | null;
  searchJobsPerCulprit: number | null;
  /** All non-`landed` jobs over culprits found, so flake checks and dismissed alarms count too. */
  allExtraJobsPerCulprit: number | null;
  singleCulpritRanges: number;
  searchWithinBound: number;
  jobsWithinBound: number;
  minutesToRevert: { median: number; p90: number } | null;
}

export function summarizeCell(reports: SimulationReport[]): CellSummary {
  const o = reports[0]!.options;
  const sum = (f: (r: SimulationReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const found = reports.flatMap((r) => r.culpritDetails.filter((c) => c.found));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const times = found.flatMap((c) => (c.minutesToRevert === undefined ? [] : [c.minutesToRevert]));
  const foundCount = sum((r) => r.found.total);
  const masked = (slow: boolean, found?: boolean) =>
    sum(
      (r) =>
        r.culpritDetails.filter((c) => (found === undefined || c.found === found) && c.masked && (c.kind === "slowdown") === slow).length,
    );
  return {
    noise: o.noise,
    slowdown: o.slowdown,
    flakeRate: o.flakeRate,
    seeds: reports.map((r) => r.options.seed),
    commits: sum((r) => r.commits),
    testedCommits: sum((r) => r.testedCommits),
    correctness: {
      culprits: sum((r) => r.culprits.correctness + r.culprits.crash),
      found: sum((r) => r.found.correctness + r.found.crash),
      missedMasked: masked(false, false),
      masked: masked(false),
      foundMasked: masked(false, true),
    },
    slowdowns: {
      culprits: sum((r) => r.culprits.slowdown),
      found: sum((r) => r.found.slowdown),
      belowThreshold: reports[0]!.slowdownBelowThreshold,
      missedMasked: masked(true, false),
      masked: masked(true),
      foundMasked: masked(true, true),
    },
    falseReverts: sum((r) => r.falseReverts.length),
    flakyReports: sum((r) => r.flakyReports),
    gpuJobs: sum((r) => r.gpuJobs.total),
    jobsPerCulprit: mean(found.flatMap((c) => (c.jobs === undefined ? [] : [c.jobs]))),
    searchJobsPerCulprit: mean(found.flatMap((c) => (c.searchJobs === undefined ? [] : [c.searchJobs]))),
    allExtraJobsPerCulprit: foundCount ? sum((r) => r.gpuJobs.total - r.gpuJobs.landed) / foundCount : null,
    singleCulpritRanges: sum((r) => r.perCulprit.singleCulpritRanges),
    searchWithinBound: sum((r) => r.perCulprit.searchWithinBoundPlus2),
    jobsWithinBound: sum((r) => r.perCulprit.jobsWithinBoundPlus2),
    minutesToRevert: times.length ? { median: quantile(times, 0.5), p90: quantile(times, 0.9) } : null,
  };
}

const f1 = (x: number | null) => (x === null ? "-" : x.toFixed(1));
const pct = (x: number) => `${+(x * 100).toFixed(1)}%`;

export function markdownTable(cells: CellSummary[]): string {
  const head = [
    "noise",
    "slowdown",
    "flake",
    "correctness found",
    "slowdowns found",
    "false reverts",
    "missed corr / slow (of which masked)",
    "masked when landed: found corr / slow",
    "GPU jobs",
    "jobs/culprit (own inv.)",
    "search jobs/culprit",
    "all extra jobs/found culprit",
    "search ≤ bound+2",
    "all own jobs ≤ bound+2",
    "land→revert median / p90 (min)",
    "commits tested",
    "flaky reports",
  ];
  const rows = cells.map((c) => [
    pct(c.noise),
    pct(c.slowdown) + (c.slowdowns.belowThreshold ? " (below 5% threshold)" : ""),
    pct(c.flakeRate),
    `${c.correctness.found}/${c.correctness.culprits}`,
    `${c.slowdowns.found}/${c.slowdowns.culprits}`,
    String(c.falseReverts),
    `${c.correctness.culprits - c.correctness.found} / ${c.slowdowns.culprits - c.slowdowns.found} (${c.correctness.missedMasked} / ${c.slowdowns.missedMasked})`,
    `${c.correctness.foundMasked}/${c.correctness.masked} / ${c.slowdowns.foundMasked}/${c.slowdowns.masked}`,
    String(c.gpuJobs),
    f1(c.jobsPerCulprit),
    f1(c.searchJobsPerCulprit),
    f1(c.allExtraJobsPerCulprit),
    `${c.searchWithinBound}/${c.singleCulpritRanges}`,
    `${c.jobsWithinBound}/${c.singleCulpritRanges}`,
    c.minutesToRevert ? `${c.minutesToRevert.median.toFixed(0)} / ${c.minutesToRevert.p90.toFixed(0)}` : "-",
    `${c.testedCommits}/${c.commits}`,
    String(c.flakyReports),
  ]);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export function formatReport(r: SimulationReport): string {
  const o = r.options;
  const t = r.targets;
  const yes = (b: boolean | null) => (b === null ? "n/a" : b ? "met" : "MISSED");
  const lines = [
    `Simulated ${r.commits} commits over ${r.simulatedHours.toFixed(1)} h on ${o.gpus} GPU(s), seed ${o.seed}: flake rate ${pct(o.flakeRate)}, timing noise ${pct(o.noise)}, slowdowns ${pct(o.slowdown)}`,
    `  commits with their own landed job: ${r.testedCommits}/${r.commits}`,
    `  correctness culprits found: ${r.found.correctness + r.found.crash}/${r.culprits.correctness + r.culprits.crash} (crashes ${r.found.crash}/${r.culprits.crash})`,
    `  slowdowns found: ${r.found.slowdown}/${r.culprits.slowdown}${r.slowdownBelowThreshold ? " (below the suite threshold: not reverting them is correct)" : ""}`,
    `  masked when they landed (live crash, or same test already broken): ${r.masked}, found ${r.foundMasked}, missed ${r.missedMasked}${r.options.cherryPick ? "" : " (runner cannot cherry-pick reverts)"}`,
    `  false reverts: ${r.falseReverts.length}${r.falseReverts.map((f) => `\n    ${shaTag(f.sha)} (${f.kind}): ${f.summary}`).join("")}`,
    `  flaky reports: ${r.flakyReports}`,
    `  GPU jobs: ${r.gpuJobs.total} (landed ${r.gpuJobs.landed}, retry ${r.gpuJobs.retry}, bisect ${r.gpuJobs.bisect}, ab ${r.gpuJobs.ab}, baseline ${r.gpuJobs.baseline})`,
    `  jobs per found culprit: own investigation ${f1(r.perCulprit.jobsMean)}, search only ${f1(r.perCulprit.searchJobsMean)}, all non-landed jobs ${f1(r.perCulprit.overheadInclusiveMean)}`,
    `  within ceil(log2(range))+1 (+2) on single-culprit ranges: search ${r.perCulprit.searchWithinBoundPlus2}/${r.perCulprit.singleCulpritRanges}, own investigation ${r.perCulprit.jobsWithinBoundPlus2}/${r.perCulprit.singleCulpritRanges}`,
    `  land to revert (min): ${r.minutesToRevert ? `median ${r.minutesToRevert.median.toFixed(0)}, p90 ${r.minutesToRevert.p90.toFixed(0)}, max ${r.minutesToRevert.max.toFixed(0)}` : "-"}`,
    `  targets: no false revert ${yes(t.noFalseRevert)}; every correctness culprit ${yes(t.everyCorrectnessCulpritFound)}; every slowdown >= 5% at 1% noise ${yes(t.everySlowdownFound)}; jobs per culprit within bound + 2 ${yes(t.jobsWithinBound)}`,
  ];
  return lines.join("\n");
}

/** One stream class over its seeds: what the fleet's own failures did to the verdicts. */
export interface ClassSummary {
  name: string;
  what: string;
  seeds: number[];
  culprits: number;
  found: number;
  reported: number;
  lost: number;
  innocentReverts: number;
  revertsOfReverts: number;
  wrongCulprits: number;
  unneededReverts: number;
  gaveUp: number;
  reports: number;
  quarantines: number;
  readmitted: number;
  flakyReports: number;
  gpuJobs: number;
  jobsPerCulprit: number | null;
  minutesToRevert: { median: number; p90: number } | null;
  slowdownMinutesToRevert: { median: number; p90: number } | null;
}

export function summarizeClass(name: string, what: string, reports: SimulationReport[]): ClassSummary {
  const sum = (f: (r: SimulationReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const found = reports.flatMap((r) => r.culpritDetails.filter((c) => c.found));
  const jobs = found.flatMap((c) => (c.jobs === undefined ? [] : [c.jobs]));
  const pooled = (xs: number[]) => (xs.length ? { median: quantile(xs, 0.5), p90: quantile(xs, 0.9) } : null);
  const times = (slow: boolean) =>
    found.flatMap((c) => (c.minutesToRevert === undefined || (slow && c.kind !== "slowdown") ? [] : [c.minutesToRevert]));
  return {
    name,
    what,
    seeds: reports.map((r) => r.options.seed),
    culprits: sum((r) => r.culprits.total),
    found: sum((r) => r.found.total),
    reported: sum((r) => r.fleet.reported),
    lost: sum((r) => r.fleet.lost),
    innocentReverts: sum((r) => r.fleet.innocentReverts),
    revertsOfReverts: sum((r) => r.fleet.revertsOfReverts),
    wrongCulprits: sum((r) => r.fleet.wrongCulprits),
    unneededReverts: sum((r) => r.fleet.unneededReverts),
    gaveUp: sum((r) => r.fleet.reports["gave-up"]),
    reports: sum((r) => Object.values(r.fleet.reports).reduce((a, b) => a + b, 0)),
    quarantines: sum((r) => r.fleet.quarantines),
    readmitted: sum((r) => r.fleet.readmitted),
    flakyReports: sum((r) => r.flakyReports),
    gpuJobs: sum((r) => r.gpuJobs.total),
    jobsPerCulprit: jobs.length ? jobs.reduce((a, b) => a + b, 0) / jobs.length : null,
    minutesToRevert: pooled(times(false)),
    slowdownMinutesToRevert: pooled(times(true)),
  };
}

export function classTable(classes: ClassSummary[]): string {
  const head = [
    "class",
    "innocent reverts (of reverts)",
    "wrong culprits",
    "culprits found / reported / lost (of)",
    "reverted after a fix",
    "gave-up reports",
    "all reports",
    "hosts quarantined (re-admitted)",
    "flaky reports",
    "GPU jobs",
    "jobs/culprit",
    "land→revert median / p90 (min)",
    "slowdowns land→revert median (min)",
  ];
  const time = (t: { median: number; p90: number } | null) => (t ? `${t.median.toFixed(0)} / ${t.p90.toFixed(0)}` : "-");
  const rows = classes.map((c) => [
    c.name,
    `${c.innocentReverts} (${c.revertsOfReverts})`,
    String(c.wrongCulprits),
    `${c.found} / ${c.reported} / ${c.lost} (${c.culprits})`,
    String(c.unneededReverts),
    String(c.gaveUp),
    String(c.reports),
    `${c.quarantines} (${c.readmitted})`,
    String(c.flakyReports),
    String(c.gpuJobs),
    f1(c.jobsPerCulprit),
    time(c.minutesToRevert),
    c.slowdownMinutesToRevert ? c.slowdownMinutesToRevert.median.toFixed(0) : "-",
  ]);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}
