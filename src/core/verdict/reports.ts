import { suspectsInRange } from "../culprit/bisect.js";
import type { SuiteContext } from "./context.js";
import { MAX_RUNS_PER_COMMIT, type FlakeHistory } from "./flakes.js";
import type { LandedCommit, ReportDecision, ReportKind } from "../../model/engine.js";
import { shaTag } from "../../model/sha.js";

/**
 * Reports: what the engine tells people instead of reverting. Each names the range it searched,
 * `range.to` being the checkpoint whose investigation made it (what a window resumes after).
 */

export interface ReportRange {
  from: LandedCommit;
  fromIndex: number;
  to: LandedCommit;
  toIndex: number;
}

export function report(
  ctx: SuiteContext,
  kind: ReportKind,
  sha: string,
  tests: string[],
  range: ReportRange,
  summary: string,
): ReportDecision {
  return {
    type: "report",
    suite: ctx.name,
    kind,
    sha,
    tests,
    summary,
    range: {
      from: range.from.sha,
      to: range.to.sha,
      suspects: suspectsInRange(ctx.commits, range.fromIndex, range.toIndex, ctx.name).length,
    },
  };
}

/** A search that cannot go on: the range, the tests and why, so a person can pick it up. */
export function gaveUpReport(ctx: SuiteContext, tests: string[], range: ReportRange, why: string): ReportDecision {
  return report(
    ctx,
    "gave-up",
    range.to.sha,
    tests,
    range,
    `gave up searching for what broke ${tests.join(", ")} between ${shaTag(range.from.sha)} (good) and ${shaTag(range.to.sha)} (bad): ${why}; bisect it by hand (@sheriff bisect ${shaTag(range.from.sha)}..${shaTag(range.to.sha)})`,
  );
}

/** The break lies in commits the suite's globs do not cover: the suite commit after them is innocent. */
export function outsideGlobsReport(
  ctx: SuiteContext,
  tests: string[],
  range: ReportRange,
  lastGood: LandedCommit,
  parent: LandedCommit,
  blamed: LandedCommit,
): ReportDecision {
  return report(
    ctx,
    "outside-globs",
    parent.sha,
    tests,
    range,
    `${tests.join(", ")} already fail at ${shaTag(parent.sha)}, the parent of ${shaTag(blamed.sha)}: the break is in the commits after ${shaTag(lastGood.sha)} up to ${shaTag(parent.sha)}, whose files match none of suite ${ctx.name}'s globs (${ctx.suite.paths.join(", ")}); not reverted - add the paths they touch to the suite's globs`,
  );
}

/** The culprit's break no longer shows at a later checkpoint: fixed forward, nothing to revert. */
export function fixedForwardReport(
  ctx: SuiteContext,
  tests: string[],
  range: ReportRange,
  culprit: LandedCommit,
  fixedAt: LandedCommit,
): ReportDecision {
  return report(
    ctx,
    "fixed-forward",
    culprit.sha,
    tests,
    range,
    `${shaTag(culprit.sha)} "${culprit.title}" broke ${tests.join(", ")}, which pass again at ${shaTag(fixedAt.sha)}: fixed forward, not reverted`,
  );
}

/** A test whose flake rate no streak within `MAX_RUNS_PER_COMMIT` runs can outvote: reported, never reverted for. */
export function tooFlakyReport(ctx: SuiteContext, tests: string[], range: ReportRange, history: FlakeHistory): ReportDecision {
  const rates = tests.map((test) => `${test} ${((history.flakeRate(test) ?? 0) * 100).toFixed(0)}%`).join(", ");
  return report(
    ctx,
    "too-flaky",
    range.to.sha,
    tests,
    range,
    `${tests.join(", ")} failed at ${shaTag(range.to.sha)} but flake${tests.length > 1 ? "" : "s"} too often to judge (${rates} of runs so far): no ${MAX_RUNS_PER_COMMIT} failures in a row would make a break less likely than flakeRisk ${ctx.suite.thresholds.flakeRisk}; not reverted - quarantine the test until it is fixed`,
  );
}
