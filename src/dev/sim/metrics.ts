import { quantile } from "simple-statistics";
import { probeBudget } from "../../core/culprit/bisect.js";
import type { SimTrace } from "./trace.js";
import { testNames, type Effect, type SimOptions } from "./model.js";
import { type JobPurpose } from "../../model/jobs.js";
import type { ReportKind } from "../../model/engine.js";

export type CulpritKind = "correctness" | "crash" | "slowdown";

export interface CulpritOutcome {
  sha: string;
  kind: CulpritKind;
  landedAt: number;
  found: boolean;
  /**
   * Why no job could see it when it landed: a crash culprit was live (no test or timing ran),
   * or a live earlier culprit already broke the same test. Reported, never excused.
   */
  masked: "crash" | "same-test" | null;
  /** Minutes from the culprit landing to its revert landing. */
  minutesToRevert?: number;
  /** Every job of the investigation that declared it (retries, probes, A/B runs). */
  jobs?: number;
  /** The same without the retry phase: what the culprit search itself cost. */
  searchJobs?: number;
  suspects?: number;
  /** ceil(log2(suspects)) + 1. */
  bound?: number;
  /** No other culprit of the same track inside the searched range. */
  singleCulpritRange?: boolean;
  /** A break of one of the suite's flaky tests, which needs a longer streak before it is believed. */
  breaksFlakyTest?: boolean;
  /** It breaks or crashes only in some runs (a race). */
  intermittent?: boolean;
  /** Its files match none of the suite's globs. */
  outsideGlobs?: boolean;
  /** A later commit that is not its revert took its effect out. */
  fixedForward?: boolean;
  /** Not declared, but named by a report of this kind (the report's commit, or a range holding it). */
  reported?: ReportKind;
}

/** What a fleet that fails for reasons other than code does to the verdicts. */
export interface FleetFigures {
  /** Regressions declared on commits that are no culprit (as `falseReverts`). */
  innocentReverts: number;
  /** Innocent reverts whose commit is itself a revert: the change it had removed lands again. */
  revertsOfReverts: number;
  /** Innocent reverts whose searched range held a real culprit of the same track: the search blamed a neighbour. */
  wrongCulprits: number;
  /** Culprits declared after their effect was already gone at head (fixed forward): a revert with nothing to fix. */
  unneededReverts: number;
  /** Culprits a report names instead of a revert. */
  reported: number;
  /** Culprits that should be found (correctness, crashes, slowdowns at or over the threshold), neither declared nor reported. */
  lost: number;
  /** Reports by kind (gave up, outside the globs, fixed forward, too flaky, drift). */
  reports: Record<ReportKind, number>;
  /** Hosts quarantined by their health, and how many of those were re-admitted after clean canaries. */
  quarantines: number;
  readmitted: number;
  /** Land to revert of found slowdowns (minutes): what a mixed fleet delays. */
  slowdownMinutesToRevert: { median: number; p90: number } | null;
}

export interface SimulationReport {
  options: SimOptions;
  simulatedHours: number;
  commits: number;
  /** Commits that got their own `landed` job; the rest were only reachable by bisection. */
  testedCommits: number;
  culprits: Record<CulpritKind, number> & { total: number };
  found: Record<CulpritKind, number> & { total: number };
  missed: Record<CulpritKind, number> & { total: number };
  /** Missed culprits that were masked when they landed (included in `missed`). */
  missedMasked: number;
  /** Culprits masked when they landed, and how many of those were found all the same. */
  masked: number;
  foundMasked: number;
  /** Whether this run's slowdowns are below the suite threshold, so not reverting them is correct. */
  slowdownBelowThreshold: boolean;
  falseReverts: { sha: string; kind: string; summary: string }[];
  flakyReports: number;
  gpuJobs: Record<JobPurpose, number> & { total: number };
  perCulprit: {
    jobsMean: number | null;
    searchJobsMean: number | null;
    /** All jobs except `landed` ones, divided by culprits found: includes flake and false-alarm overhead. */
    overheadInclusiveMean: number | null;
    singleCulpritRanges: number;
    searchWithinBoundPlus2: number;
    jobsWithinBoundPlus2: number;
  };
  minutesToRevert: { median: number; p90: number; max: number } | null;
  targets: {
    noFalseRevert: boolean;
    everyCorrectnessCulpritFound: boolean;
    /** null where it does not apply (slowdown under 5% or noise over 1%). */
    everySlowdownFound: boolean | null;
    /** Every job of each culprit's own investigation, retries included, within ceil(log2(range)) + 3. */
    jobsWithinBound: boolean;
  };
  fleet: FleetFigures;
  culpritDetails: CulpritOutcome[];
}

function kindOf(e: Effect): CulpritKind {
  return e.kind === "break" ? "correctness" : e.kind === "crash" ? "crash" : "slowdown";
}

function byKind(list: CulpritOutcome[]): Record<CulpritKind, number> & { total: number } {
  const count = (k: CulpritKind) => list.filter((c) => c.kind === k).length;
  return { correctness: count("correctness"), crash: count("crash"), slowdown: count("slowdown"), total: list.length };
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export function summarize(t: SimTrace): SimulationReport {
  const o = t.options;
  const index = new Map(t.chain.map((c, i) => [c.sha, i] as const));
  const executed = [...t.jobs.values()].filter((q) => q.startedAt !== undefined);
  const decisionBy = new Map(t.regressions.map((r) => [r.decision.culprit, r.decision] as const));
  const flakyTests = new Set(testNames(o).flaky);
  const culprits: CulpritOutcome[] = t.chain
    .filter((c) => c.effect && !c.isRevert && !(c.effect.kind === "slow" && c.effect.factor < 1))
    .map((c) => {
      const kind = kindOf(c.effect!);
      const before = c.active.filter((e) => e !== c.effect);
      const e = c.effect!;
      const masked =
        kind !== "crash" && before.some((b) => b.kind === "crash")
          ? "crash"
          : e.kind === "break" && before.some((b) => b.kind === "break" && b.test === e.test)
            ? "same-test"
            : null;
      const out: CulpritOutcome = { sha: c.sha, kind, landedAt: c.landedAt, found: decisionBy.has(c.sha), masked };
      if (e.kind === "break" && flakyTests.has(e.test)) out.breaksFlakyTest = true;
      if (e.kind !== "slow" && e.rate !== undefined && e.rate < 1) out.intermittent = true;
      if (!c.suites.length) out.outsideGlobs = true;
      if (t.chain.some((x) => x.undoes === e && !x.isRevert)) out.fixedForward = true;
      const report = reportNaming(t, index, c.sha);
      if (report && !decisionBy.has(c.sha)) out.reported = report;
      const d = decisionBy.get(c.sha);
      const revertedAt = t.reverts.get(c.sha);
      if (revertedAt !== undefined) out.minutesToRevert = revertedAt - c.landedAt;
      if (d?.range) {
        const inv = executed.filter((q) => q.investigation === d.investigation);
        out.jobs = inv.length;
        out.searchJobs = inv.filter((q) => q.job.purpose !== "retry").length;
        out.suspects = d.range.suspects;
        out.bound = probeBudget(d.range.suspects);
        const perf = kind === "slowdown";
        const from = index.get(d.range.from)!;
        const to = index.get(d.range.to)!;
        const others = t.chain
          .slice(from + 1, to + 1)
          .filter((x) => x.effect && x.sha !== c.sha && (kindOf(x.effect) === "slowdown") === perf);
        out.singleCulpritRange = others.length === 0;
      }
      return out;
    });
  const culpritShas = new Set(culprits.map((c) => c.sha));
  const found = culprits.filter((c) => c.found);
  const single = found.filter((c) => c.singleCulpritRange && c.bound !== undefined);
  const purposes: JobPurpose[] = ["landed", "retry", "bisect", "ab", "baseline"];
  const gpuJobs = Object.fromEntries(purposes.map((p) => [p, executed.filter((q) => q.job.purpose === p).length])) as Record<
    JobPurpose,
    number
  >;
  const times = found.flatMap((c) => (c.minutesToRevert === undefined ? [] : [c.minutesToRevert]));
  const missed = culprits.filter((c) => !c.found);
  const slowdownBelowThreshold = o.slowdown < o.thresholds.slowdown;
  const searchWithin = single.filter((c) => c.searchJobs! <= c.bound! + 2).length;
  const jobsWithin = single.filter((c) => c.jobs! <= c.bound! + 2).length;
  return {
    options: o,
    simulatedHours: t.endedAt / 60,
    commits: t.chain.filter((c) => !c.isRevert).length,
    testedCommits: new Set(executed.filter((q) => q.job.purpose === "landed").map((q) => q.job.sha)).size,
    culprits: byKind(culprits),
    found: byKind(found),
    missed: byKind(missed),
    missedMasked: missed.filter((c) => c.masked).length,
    masked: culprits.filter((c) => c.masked).length,
    foundMasked: found.filter((c) => c.masked).length,
    slowdownBelowThreshold,
    falseReverts: t.regressions
      .filter((r) => !culpritShas.has(r.decision.culprit))
      .map((r) => ({ sha: r.decision.culprit, kind: r.decision.kind, summary: r.decision.summary })),
    flakyReports: t.flaky.size,
    gpuJobs: { ...gpuJobs, total: executed.length },
    perCulprit: {
      jobsMean: mean(found.flatMap((c) => (c.jobs === undefined ? [] : [c.jobs]))),
      searchJobsMean: mean(found.flatMap((c) => (c.searchJobs === undefined ? [] : [c.searchJobs]))),
      overheadInclusiveMean: found.length ? (executed.length - gpuJobs.landed) / found.length : null,
      singleCulpritRanges: single.length,
      searchWithinBoundPlus2: searchWithin,
      jobsWithinBoundPlus2: jobsWithin,
    },
    minutesToRevert: times.length ? { median: quantile(times, 0.5), p90: quantile(times, 0.9), max: Math.max(...times) } : null,
    targets: {
      noFalseRevert: t.regressions.every((r) => culpritShas.has(r.decision.culprit)),
      everyCorrectnessCulpritFound: missed.every((c) => c.kind === "slowdown"),
      everySlowdownFound: !slowdownBelowThreshold && o.noise <= 0.01 ? missed.every((c) => c.kind !== "slowdown") : null,
      jobsWithinBound: jobsWithin === single.length,
    },
    fleet: fleetFigures(t, index, culprits),
    culpritDetails: culprits,
  };
}

/** The kind of the first report that names commit `sha`, or whose range holds it. */
function reportNaming(t: SimTrace, index: Map<string, number>, sha: string): ReportKind | undefined {
  const at = index.get(sha)!;
  const holds = (r: SimTrace["reports"][number]) => {
    const range = r.decision.range;
    if (r.decision.sha === sha) return true;
    return range !== undefined && index.get(range.from)! < at && at <= index.get(range.to)!;
  };
  return t.reports.find(holds)?.decision.kind;
}

function fleetFigures(t: SimTrace, index: Map<string, number>, culprits: CulpritOutcome[]): FleetFigures {
  const culpritShas = new Set(culprits.map((c) => c.sha));
  const innocent = t.regressions.filter((r) => !culpritShas.has(r.decision.culprit));
  const trackOf = (c: CulpritOutcome) => (c.kind === "slowdown" ? "performance" : "correctness");
  const holdsCulprit = (r: (typeof innocent)[number]) => {
    const range = r.decision.range;
    if (!range) return false;
    const from = index.get(range.from)!;
    const to = index.get(range.to)!;
    return culprits.some((c) => trackOf(c) === r.decision.kind && from < index.get(c.sha)! && index.get(c.sha)! <= to);
  };
  const bySha = new Map(t.chain.map((c) => [c.sha, c] as const));
  const headAt = (at: number) => t.chain.filter((c) => c.landedAt <= at).pop();
  const unneeded = t.regressions.filter((r) => {
    const effect = bySha.get(r.decision.culprit)?.effect;
    return effect !== undefined && culpritShas.has(r.decision.culprit) && !headAt(r.at)?.active.includes(effect);
  });
  const expected = (c: CulpritOutcome) => {
    const effect = bySha.get(c.sha)!.effect!;
    return effect.kind !== "slow" || effect.factor - 1 >= t.options.thresholds.slowdown;
  };
  const reports = Object.fromEntries(
    (["gave-up", "outside-globs", "fixed-forward", "too-flaky", "drift"] as const).map((k) => [
      k,
      t.reports.filter((r) => r.decision.kind === k).length,
    ]),
  ) as Record<ReportKind, number>;
  const slowTimes = culprits.flatMap((c) =>
    c.kind === "slowdown" && c.found && c.minutesToRevert !== undefined ? [c.minutesToRevert] : [],
  );
  return {
    innocentReverts: innocent.length,
    revertsOfReverts: innocent.filter((r) => bySha.get(r.decision.culprit)?.isRevert).length,
    wrongCulprits: innocent.filter(holdsCulprit).length,
    unneededReverts: unneeded.length,
    reported: culprits.filter((c) => c.reported).length,
    lost: culprits.filter((c) => !c.found && !c.reported && expected(c)).length,
    reports,
    quarantines: t.quarantines.length,
    readmitted: t.quarantines.filter((q) => q.to !== undefined).length,
    slowdownMinutesToRevert: slowTimes.length ? { median: quantile(slowTimes, 0.5), p90: quantile(slowTimes, 0.9) } : null,
  };
}
