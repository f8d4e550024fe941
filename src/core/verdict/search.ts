import { MAX_SKIPS, nextBisectStep, type BisectPosition } from "../culprit/bisect.js";
import {
  abState,
  anyRunsOf,
  checkpoints,
  hasPending,
  maskWindows,
  picksAt,
  runsOf,
  testRunsOf,
  type MaskWindow,
  type Requests,
  type SuiteContext,
} from "./context.js";
import { streakNeeded, type FlakeHistory } from "./flakes.js";
import { hostsToAvoid } from "./hosts.js";
import { fixedForwardReport, gaveUpReport, outsideGlobsReport, tooFlakyReport, type ReportRange } from "./reports.js";
import {
  countOutcomes,
  failingHosts,
  failingIn,
  firstMessage,
  INCOMPLETE_RUN,
  mixedIn,
  passingIn,
  regularRuns,
  runVerdict,
} from "./tests.js";
import type { Decision, LandedCommit, RunRecord } from "../../model/engine.js";
import { shaTag } from "../../model/sha.js";

/**
 * The culprit search of a correctness investigation: bisection over the suite commits of the
 * range, a boundary held to the suspect's evidence (on two hosts where the fleet has two), the
 * culprit's parent checked where commits no glob matches precede it, and a look at later
 * checkpoints for a fix-forward before anything is blamed. Whatever it cannot settle it reports.
 */

/** The last good checkpoint of an investigation and the tests known broken there. */
export interface Anchor {
  index: number;
  sha: string;
  broken: Set<string>;
}

/**
 * Declared culprits in the range that were reverted by its end and hid `tests` while they were
 * live: they crashed every run, or broke one of the tests themselves. Inside such a window the
 * branch's own state says nothing about a second break, so the search measures those commits
 * with the revert cherry-picked on top instead.
 */
function hidingWindows(ctx: SuiteContext, fromIndex: number, toIndex: number, tests: string[]): MaskWindow[] {
  return maskWindows(ctx, fromIndex, toIndex, (c) => {
    const fails = failingIn(anyRunsOf(ctx, c.sha));
    return fails.has(INCOMPLETE_RUN) || tests.some((test) => fails.has(test));
  });
}

export interface SearchInput {
  id: string;
  anchor: Anchor;
  checkpoint: LandedCommit;
  checkpointIndex: number;
  /** Commit indexes of the suite-touching commits in (anchor, checkpoint]. */
  suspects: number[];
  tests: string[];
  /** Failing runs the suspect `checkpoint` needed before the search; the culprit is blamed on one more. */
  needed: number;
  history: FlakeHistory;
  /** Hosts the failures must be seen on (`hostsNeeded` when the investigation opened). */
  hosts: number;
}

export interface SearchResult {
  waiting: boolean;
  decisions: Decision[];
}

/** One pass of the search: the tests still unexplained and the reverted windows that hide them. */
interface SearchRound {
  ctx: SuiteContext;
  input: SearchInput;
  tests: string[];
  windows: MaskWindow[];
}

/**
 * Bisects for the earliest commit that breaks any of `tests`, declares it, then searches
 * after it for whatever tests it did not break (two culprits in one range). The last suspect
 * also carries the evidence of `checkpoint` itself, whose state it shares.
 */
export function searchCulprits(ctx: SuiteContext, requests: Requests, input: SearchInput): SearchResult {
  const decisions: Decision[] = [];
  let remaining = input.tests;
  let start = 0;
  let lastGood = input.anchor.sha;
  let lastGoodIndex = input.anchor.index;
  const range: ReportRange = {
    from: ctx.commits[input.anchor.index] ?? input.checkpoint,
    fromIndex: input.anchor.index,
    to: input.checkpoint,
    toIndex: input.checkpointIndex,
  };
  while (remaining.length && start < input.suspects.length) {
    const tests = remaining;
    const round: SearchRound = { ctx, input, tests, windows: hidingWindows(ctx, input.anchor.index, input.checkpointIndex, tests) };
    const { positions, badCounts } = bisectPositions(round, start, decisions);
    const giveUp = (why: string) => decisions.push(gaveUpReport(ctx, tests, range, why));
    if (positions.filter((p) => p.state === "skip").length > MAX_SKIPS) {
      giveUp(`more than ${MAX_SKIPS} suite commits in it could not be measured (every run crashed or saw none of the tests)`);
      break;
    }
    const step = nextBisectStep(positions, ctx.parallelism);
    // Unmeasurable commits hide the boundary: blaming any one of them would be a guess.
    if (step.kind === "none" || step.kind === "ambiguous") {
      giveUp(step.kind === "none" ? "no commit in it fails them any more" : "only unmeasurable commits are left at the boundary");
      break;
    }
    if (step.kind === "wait") return { waiting: true, decisions };
    if (step.kind === "probe") {
      requestBisectProbes(round, requests, start, step.positions);
      return { waiting: true, decisions };
    }
    const hi = start + step.hi;
    const culprit = suspectAt(round, hi);
    const culpritRuns = runsAtPosition(round, hi);
    const badRuns = culpritRuns.filter((r) => runVerdict(r, tests) === "bad");
    // What the range itself shows of the tests' flakiness (commits where they both passed and
    // failed) raises the streak: a flaky test's break needs as long a one at the boundary as at the suspect.
    const needed = neededInRange(round, start, input.needed);
    if (needed === undefined) {
      decisions.push(tooFlakyReport(ctx, tests, range, input.history));
      break;
    }
    // The boundary: the culprit fails as often as the suspect had to, on two hosts where the fleet
    // has two, and the search ends with one run more than the suspect needed (a culprit found at
    // the suspect itself runs there once more).
    const failures = badCounts.slice(step.hi).reduce((a, b) => a + b, 0);
    const hosts = failingHosts(badRuns, tests);
    const fewHosts = hosts.length < input.hosts;
    const goodIndex = step.lo >= 0 ? input.suspects[start + step.lo]! : lastGoodIndex;
    const broken = tests.filter((test) => failingIn(badRuns).has(test));
    if (badRuns.length < Math.max(2, needed) || failures < needed + 1 || fewHosts) {
      // Where the parent must be checked too, one interleaved job runs culprit and parent.
      const withParent = !fewHosts && parentStatus(round, goodIndex, hi, broken, needed) === "open";
      requestBoundaryRepeat(round, requests, hi, fewHosts ? hostsToAvoid(ctx.fleet, hosts) : undefined, withParent);
      return { waiting: true, decisions };
    }
    if (step.lo >= 0) lastGood = suspectAt(round, start + step.lo).sha;
    lastGoodIndex = goodIndex;
    const parent = parentCheck(round, requests, lastGoodIndex, hi, broken, needed);
    if (parent === "waiting") return { waiting: true, decisions };
    if (parent === "fails") {
      const parentCommit = ctx.commits[input.suspects[hi]! - 1]!;
      decisions.push(outsideGlobsReport(ctx, broken, range, ctx.commits[lastGoodIndex] ?? range.from, parentCommit, culprit));
    } else if (parent === "unknown") {
      giveUp(`the parent of ${shaTag(culprit.sha)} (after commits no glob of the suite matches) could not be measured`);
    } else {
      const fixedAt = passingLater(ctx, input.checkpointIndex, broken);
      // Put right by a revert, it is declared all the same: reverts pair with declared culprits.
      const reverted = fixedAt && ctx.commits.slice(input.suspects[hi]! + 1, ctx.indexOf.get(fixedAt.sha)! + 1).some((c) => c.isRevert);
      if (fixedAt && !reverted) decisions.push(fixedForwardReport(ctx, broken, range, culprit, fixedAt));
      else if (!ctx.declared.has(culprit.sha))
        decisions.push(correctnessRegression(round, culprit, lastGood, broken, badRuns, culpritRuns.length));
    }
    remaining = remaining.filter((test) => !broken.includes(test));
    start = hi + 1;
    lastGood = culprit.sha;
    lastGoodIndex = input.suspects[hi]!;
  }
  return { waiting: false, decisions };
}

type ParentStatus = "passes" | "fails" | "unknown" | "open";

/**
 * Whether the culprit's parent passes the tests, where commits the suite's globs do not match lie
 * between the last good suite commit and the culprit: a break in one of them makes the next suite
 * commit fail without being to blame. Open until the parent passes once, fails as often as the
 * culprit had to, or has had one run more than that without either.
 */
function parentStatus(round: SearchRound, lastGoodIndex: number, position: number, tests: string[], needed: number): ParentStatus {
  const { ctx, input, windows } = round;
  const parentIndex = input.suspects[position]! - 1;
  if (parentIndex <= lastGoodIndex) return "passes";
  const runs = testRunsOf(ctx, ctx.commits[parentIndex]!.sha, picksAt(windows, parentIndex));
  const verdicts = runs.map((r) => runVerdict(r, tests));
  if (verdicts.includes("good")) return "passes";
  if (verdicts.filter((v) => v === "bad").length >= needed) return "fails";
  return runs.length > needed ? "unknown" : "open";
}

/** `parentStatus`, asking for one more run at the parent (away from hosts that failed there) while it is open. */
function parentCheck(
  round: SearchRound,
  requests: Requests,
  lastGoodIndex: number,
  position: number,
  tests: string[],
  needed: number,
): ParentStatus | "waiting" {
  const status = parentStatus(round, lastGoodIndex, position, tests, needed);
  if (status !== "open") return status;
  const { ctx, input, windows } = round;
  const parentIndex = input.suspects[position]! - 1;
  const parent = ctx.commits[parentIndex]!;
  const picks = picksAt(windows, parentIndex);
  if (hasPending(ctx, parent.sha, picks) || parentAbPending(round, position)) return "waiting";
  requests.add(
    parent.sha,
    "bisect",
    `check that ${shaTag(parent.sha)}, the parent of the culprit found, passes ${tests.join(", ")}${picks ? ` with ${picks.map(shaTag).join(", ")} cherry-picked` : ""}`,
    input.id,
    picks ? { cherryPicks: picks } : {},
    hostsToAvoid(ctx.fleet, failingHosts(testRunsOf(ctx, parent.sha, picks), tests)),
  );
  return "waiting";
}

/** An interleaved culprit-and-parent job of the suspect at `position` is in flight. */
function parentAbPending(round: SearchRound, position: number): boolean {
  const culprit = suspectAt(round, position);
  const index = round.input.suspects[position]!;
  return abState(round.ctx, culprit.sha, culprit.parent, picksAt(round.windows, index), picksAt(round.windows, index - 1)).pending;
}

/** The first checkpoint after `index` whose own runs saw every one of `tests` pass and none fail: the break was fixed there. */
function passingLater(ctx: SuiteContext, index: number, tests: string[]): LandedCommit | undefined {
  for (const checkpoint of checkpoints(ctx)) {
    if (ctx.indexOf.get(checkpoint.sha)! <= index) continue;
    const runs = regularRuns(runsOf(ctx, checkpoint.sha));
    const passes = passingIn(runs);
    const fails = failingIn(runs);
    if (tests.every((test) => passes.has(test) && !fails.has(test))) return checkpoint;
  }
  return undefined;
}

function suspectAt(round: SearchRound, position: number): LandedCommit {
  return round.ctx.commits[round.input.suspects[position]!]!;
}

/** The reverts to cherry-pick when measuring the suspect at `position` (under a hiding window). */
function picksAtPosition(round: SearchRound, position: number): string[] | undefined {
  return picksAt(round.windows, round.input.suspects[position]!);
}

/** The suspect's runs; the last suspect also counts the checkpoint's runs when it measures the same state. */
function runsAtPosition(round: SearchRound, position: number): RunRecord[] {
  const { ctx, input } = round;
  const sha = suspectAt(round, position).sha;
  const picks = picksAtPosition(round, position);
  const own = testRunsOf(ctx, sha, picks);
  return position === input.suspects.length - 1 && !picks && sha !== input.checkpoint.sha
    ? [...own, ...runsOf(ctx, input.checkpoint.sha)]
    : own;
}

function cherryPickOptions(round: SearchRound, position: number): { cherryPicks?: string[] } {
  const picks = picksAtPosition(round, position);
  return picks ? { cherryPicks: picks } : {};
}

function cherryPickNote(round: SearchRound, position: number): string {
  const picks = picksAtPosition(round, position);
  return picks ? ` with ${picks.map(shaTag).join(", ")} cherry-picked` : "";
}

/**
 * The bisection state of every suspect from `start` on, and its failing-run count (index
 * position - start, for the evidence the boundary needs). Records a flaky decision for each
 * commit where one of the tests both passed and failed.
 */
function bisectPositions(round: SearchRound, start: number, decisions: Decision[]): { positions: BisectPosition[]; badCounts: number[] } {
  const { ctx, input, tests } = round;
  const positions: BisectPosition[] = [];
  const badCounts: number[] = [];
  for (let position = start; position < input.suspects.length; position++) {
    const runs = runsAtPosition(round, position);
    const verdicts = runs.map((r) => runVerdict(r, tests));
    badCounts.push(verdicts.filter((v) => v === "bad").length);
    const mixed = mixedIn(runs).filter((test) => tests.includes(test));
    if (mixed.length) {
      decisions.push({
        type: "flaky",
        suite: ctx.name,
        sha: suspectAt(round, position).sha,
        tests: mixed,
        summary: `${mixed.join(", ")} both passed and failed at one commit during bisection`,
      });
    }
    positions.push({
      state: positionState(runs, verdicts),
      pending: hasPending(ctx, suspectAt(round, position).sha, picksAtPosition(round, position)),
    });
  }
  return { positions, badCounts };
}

function positionState(runs: RunRecord[], verdicts: ReturnType<typeof runVerdict>[]): BisectPosition["state"] {
  // A deterministic break never passes, so one pass clears a commit even if the test also flaked there.
  if (verdicts.includes("good")) return "good";
  if (verdicts.includes("bad")) return "bad";
  // A commit whose runs never reach the tests (an earlier crash culprit) cannot say where the break is.
  const crashed = runs.length > 0 && runs.every((r) => r.result.status !== "completed");
  return crashed || runs.length >= 2 ? "skip" : "unknown";
}

function requestBisectProbes(round: SearchRound, requests: Requests, start: number, probePositions: number[]): void {
  const { input, tests } = round;
  for (const probe of probePositions) {
    const position = start + probe;
    requests.add(
      suspectAt(round, position).sha,
      "bisect",
      `bisect ${tests.join(", ")} between ${shaTag(input.anchor.sha)} and ${shaTag(input.checkpoint.sha)}${cherryPickNote(round, position)}`,
      input.id,
      cherryPickOptions(round, position),
    );
  }
}

/**
 * Not enough failures at the boundary yet: one more run there (away from `avoidHosts`), unless one
 * is already queued; `withParent`: an interleaved job of the culprit and its parent.
 */
function requestBoundaryRepeat(round: SearchRound, requests: Requests, position: number, avoidHosts?: string[], withParent = false): void {
  const culprit = suspectAt(round, position);
  const index = round.input.suspects[position]!;
  if (hasPending(round.ctx, culprit.sha, picksAtPosition(round, position)) || parentAbPending(round, position)) return;
  const parentPicks = picksAt(round.windows, index - 1);
  const extra = {
    ...cherryPickOptions(round, position),
    ...(withParent ? { baselineSha: culprit.parent, ...(parentPicks ? { baselineCherryPicks: parentPicks } : {}) } : {}),
  };
  const what = withParent
    ? `repeat at the boundary ${shaTag(culprit.sha)} and check its parent ${shaTag(culprit.parent)} in one job`
    : `repeat at the boundary ${shaTag(culprit.sha)}`;
  requests.add(culprit.sha, withParent ? "ab" : "bisect", `${what}${cherryPickNote(round, position)}`, round.input.id, extra, avoidHosts);
}

/**
 * The streak the search's boundary needs: the suspect's, or longer where the range's own commits
 * caught one of the tests flaking (its failures there join the history's); undefined when too flaky to judge.
 */
function neededInRange(round: SearchRound, start: number, suspectNeeded: number): number | undefined {
  const { ctx, input, tests } = round;
  const { retries, flakeRisk } = ctx.suite.thresholds;
  let needed = suspectNeeded;
  for (const test of tests) {
    const seen = { runs: 0, intermittent: 0 };
    for (let position = start; position < input.suspects.length; position++) {
      const { fails, passes } = countOutcomes(runsAtPosition(round, position), test);
      if (!passes || !fails) continue;
      seen.runs += fails + passes;
      seen.intermittent += fails;
    }
    if (!seen.intermittent) continue;
    const streak = streakNeeded(input.history.flakeRateWith(test, seen), retries, flakeRisk);
    if (streak === undefined) return undefined;
    needed = Math.max(needed, streak);
  }
  return needed;
}

function correctnessRegression(
  round: SearchRound,
  culprit: LandedCommit,
  lastGood: string,
  broken: string[],
  badRuns: RunRecord[],
  runCount: number,
): Decision {
  const { ctx, input, windows } = round;
  const masked = windows.length
    ? `, measuring commits under reverted ${windows.map((w) => shaTag(ctx.commits[w.culprit]!.sha)).join(", ")} with the revert cherry-picked`
    : "";
  return {
    type: "regression",
    suite: ctx.name,
    kind: "correctness",
    culprit: culprit.sha,
    lastGood,
    failingTests: broken.map((name) => ({ name, message: firstMessage(badRuns, name) })),
    benchmarks: [],
    summary: `${shaTag(culprit.sha)} "${culprit.title}" breaks ${broken.join(", ")}: failed ${badRuns.length}/${runCount} runs, passed at ${shaTag(lastGood)}; searched ${input.suspects.length} suite commits after ${shaTag(input.anchor.sha)}${masked}`,
    investigation: input.id,
    range: { from: input.anchor.sha, to: input.checkpoint.sha, suspects: input.suspects.length },
  };
}
