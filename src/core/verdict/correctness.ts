import { MAX_SKIPS, nextBisectStep, suspectsInRange, type BisectPosition } from "../culprit/bisect.js";
import {
  anyRunsOf,
  checkpoints,
  hasPending,
  maskWindows,
  picksAt,
  runsOf,
  type MaskWindow,
  type Requests,
  type SuiteContext,
} from "./context.js";
import { FlakeHistory, MAX_RUNS_PER_COMMIT, streakNeeded } from "./flakes.js";
import { hostsNeeded, hostsToAvoid } from "./hosts.js";
import {
  classifyNewFailures,
  countOutcomes,
  failingHosts,
  failingIn,
  firstMessage,
  INCOMPLETE_RUN,
  mixedIn,
  passingIn,
  runVerdict,
} from "./tests.js";
import type { Decision, LandedCommit, RunRecord } from "../../model/engine.js";
import { shaTag } from "../../model/sha.js";

/**
 * The correctness track. It walks the checkpoints (commits with a `landed`/`baseline` run)
 * oldest first, carrying an anchor: the last good checkpoint and the tests already known
 * broken there (pre-existing failures, or ones an already-declared culprit broke and a revert
 * has not fixed yet). A checkpoint with no new failure becomes the anchor. The first one with
 * a new failure is investigated; the walk stops there until that investigation concludes, so
 * one open question at a time per suite and later evidence never races an earlier verdict.
 */

export interface Anchor {
  index: number;
  sha: string;
  broken: Set<string>;
}

/** A checkpoint where a test was last seen passing. */
export interface LastPass {
  index: number;
  sha: string;
}

/**
 * A test absent from this many checkpoints in a row (counting those whose runs reported any
 * test) was renamed or removed: the walk forgets it, so its last pass stops holding the window
 * open, and if the name comes back failing it counts as a test never seen passing.
 */
export const FORGET_AFTER_CHECKPOINTS = 50;

/** The walk's state before a checkpoint: all it carries from one checkpoint to the next. */
export interface CorrectnessState {
  anchor?: Anchor;
  // Where each test last passed: after a crash hid the tests, "last good" must mean last seen passing.
  lastPass: Map<string, LastPass>;
  /** Checkpoints walked whose runs reported any test: the clock tests are forgotten by. */
  reported: number;
  /** Test -> `reported` as of the last checkpoint where it appeared, passing or failing. */
  lastSeen: Map<string, number>;
}

/** Where a walk starts: from the first checkpoint, or from a carried state at `fromIndex`. */
export interface CorrectnessStart extends CorrectnessState {
  fromIndex: number;
  history: FlakeHistory;
}

/** Sees the state before each checkpoint the walk reaches, and the verdicts reached before it. */
export type CorrectnessObserver = (checkpointIndex: number, state: CorrectnessState, verdicts: readonly Decision[]) => void;

export function walkFromStart(ctx: SuiteContext): CorrectnessStart {
  return { fromIndex: 0, lastPass: new Map(), reported: 0, lastSeen: new Map(), history: new FlakeHistory(ctx) };
}

export function correctnessTrack(
  ctx: SuiteContext,
  requests: Requests,
  start: CorrectnessStart = walkFromStart(ctx),
  observe?: CorrectnessObserver,
): Decision[] {
  const out: Decision[] = [];
  const { history, lastPass, lastSeen } = start;
  let { anchor, reported } = start;
  for (const checkpoint of checkpoints(ctx)) {
    const index = ctx.indexOf.get(checkpoint.sha)!;
    if (index < start.fromIndex) continue;
    anchor = forget(forgotten(lastSeen, reported), anchor, lastPass, lastSeen);
    observe?.(index, { anchor, lastPass, reported, lastSeen }, out);
    const runs = runsOf(ctx, checkpoint.sha);
    const fails = regularFailures(runs);
    const fixed = passingIn(runs);
    const seen = () => {
      fixed.forEach((test) => lastPass.set(test, { index, sha: checkpoint.sha }));
      reported = appear(runs, reported, lastSeen);
    };
    if (!anchor) {
      // The first tested commit is the baseline: whatever fails there predates Sheriff.
      anchor = { index, sha: checkpoint.sha, broken: fails };
      seen();
      continue;
    }
    const newFails = newFailures(ctx, anchor, lastPass, fails, index);
    const stillBroken = new Set([...anchor.broken].filter((test) => !fixed.has(test) || fails.has(test)));
    if (newFails.length === 0) {
      anchor = { index, sha: checkpoint.sha, broken: new Set([...stillBroken, ...[...fails].filter((test) => !lastPass.has(test))]) };
      seen();
      continue;
    }
    const good = newFails.map((test) => lastPass.get(test)!).reduce((a, b) => (b.index < a.index ? b : a));
    history.advanceTo(good.index + 1);
    const outcome = investigate(ctx, requests, { ...good, broken: anchor.broken }, checkpoint, index, newFails, history);
    out.push(...outcome.decisions);
    if (outcome.waiting) break;
    anchor = { index, sha: checkpoint.sha, broken: new Set([...stillBroken, ...outcome.deterministic]) };
    seen();
  }
  return out;
}

/** Tests last seen `FORGET_AFTER_CHECKPOINTS` or more reporting checkpoints ago. */
function forgotten(lastSeen: Map<string, number>, reported: number): string[] {
  return [...lastSeen].filter(([, at]) => reported - at >= FORGET_AFTER_CHECKPOINTS).map(([test]) => test);
}

/** Drops `tests` from the walk's state (the maps in place; the anchor is replaced, since observers keep the old one). */
function forget(
  tests: string[],
  anchor: Anchor | undefined,
  lastPass: Map<string, LastPass>,
  lastSeen: Map<string, number>,
): Anchor | undefined {
  if (!tests.length) return anchor;
  const gone = new Set(tests);
  for (const test of gone) {
    lastPass.delete(test);
    lastSeen.delete(test);
  }
  return anchor && { ...anchor, broken: new Set([...anchor.broken].filter((test) => !gone.has(test))) };
}

/**
 * Marks every test the checkpoint's runs name as seen, and returns the clock after it: a
 * checkpoint whose runs reported no test (every one crashed) does not count, so a long-lived
 * crash forgets nothing it hid.
 */
function appear(runs: RunRecord[], reported: number, lastSeen: Map<string, number>): number {
  const named = new Set([...failingIn(runs), ...passingIn(runs)]);
  const now = [...named].some((test) => test !== INCOMPLETE_RUN) ? reported + 1 : reported;
  for (const test of named) lastSeen.set(test, now);
  return now;
}

/**
 * Regular runs decide what is new; retries and probes at a checkpoint are evidence for
 * investigations, and a flake in one must not open a fresh investigation at an already-settled commit.
 */
export function regularFailures(runs: RunRecord[]): Set<string> {
  return failingIn(runs.filter((r) => r.job.purpose === "landed" || r.job.purpose === "baseline"));
}

/**
 * The failures at checkpoint `index` that open an investigation. A test never seen passing has no
 * good commit to search from: it counts as already broken. A known-broken test still failing after
 * its culprit's revert was broken twice: search again.
 */
export function newFailures(
  ctx: SuiteContext,
  anchor: Anchor,
  lastPass: Map<string, LastPass>,
  fails: Set<string>,
  index: number,
): string[] {
  const reopened = (test: string) => anchor.broken.has(test) && brokenAgain(ctx, test, lastPass.get(test)?.index, anchor.index, index);
  return [...fails].filter((test) => (!anchor.broken.has(test) || reopened(test)) && lastPass.has(test)).sort();
}

/**
 * Whether `test`, known broken at the anchor, still fails at commit `index` although a declared
 * culprit that broke it (it failed at that culprit, after the test last passed) was reverted
 * since the anchor. Another commit inside that culprit's window broke it too: only a runner that
 * can cherry-pick the revert into the window can find which, so without one this stays false.
 */
function brokenAgain(ctx: SuiteContext, test: string, passIndex: number | undefined, anchorIndex: number, index: number): boolean {
  if (passIndex === undefined) return false;
  const windows = maskWindows(ctx, passIndex, index, (c) => failingIn(anyRunsOf(ctx, c.sha)).has(test));
  return windows.some((w) => w.revert > anchorIndex);
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

interface Investigation {
  waiting: boolean;
  decisions: Decision[];
  deterministic: string[];
}

function investigate(
  ctx: SuiteContext,
  requests: Requests,
  anchor: Anchor,
  checkpoint: LandedCommit,
  checkpointIndex: number,
  newFails: string[],
  history: FlakeHistory,
): Investigation {
  const id = `correctness:${shaTag(anchor.sha)}..${shaTag(checkpoint.sha)}`;
  const { retries, flakeRisk } = ctx.suite.thresholds;
  const checkpointRuns = runsOf(ctx, checkpoint.sha);
  // A test already caught flaking needs a streak its own flake rate is unlikely to produce; one
  // that has since passed here is flaky and needs nothing more.
  const passedHere = passingIn(checkpointRuns);
  const open = newFails.filter((test) => !passedHere.has(test));
  const tooFlaky = open.filter((test) => history.failuresNeeded(test, retries, flakeRisk) === undefined);
  // Held as broken, like a pre-existing failure, until it passes again: reported once, not at every checkpoint.
  if (tooFlaky.length)
    return { waiting: false, decisions: [tooFlakyReport(ctx, anchor, checkpoint, tooFlaky, history)], deterministic: tooFlaky };
  const needed = Math.max(retries + 1, ...open.map((test) => history.failuresNeeded(test, retries, flakeRisk)!));
  const reason = `new failure of ${newFails.join(", ")} at ${shaTag(checkpoint.sha)}: retry here and at last good ${shaTag(anchor.sha)}`;
  // Confirming runs go to other hosts than the ones that failed, so a broken machine cannot confirm itself.
  const failedOn = failingHosts(checkpointRuns, newFails);
  const avoid = hostsToAvoid(ctx.fleet, failedOn);
  const moreHosts = open.length > 0 && failedOn.length < hostsNeeded(ctx.fleet);
  // `retries` runs at once, then one at a time while `more` holds (capped): true once settled.
  const settle = (sha: string, have: number, more: boolean): boolean => {
    const target = Math.min(MAX_RUNS_PER_COMMIT, Math.max(retries + 1, more ? have + 1 : 0));
    return requests.ensureRuns(sha, target, "retry", reason, id, avoid) && !(more && have < MAX_RUNS_PER_COMMIT);
  };
  // At the suspect, until the streak is long enough (on enough hosts): a flaky test usually passes on the next run, which ends it.
  const checkpointSettled = settle(checkpoint.sha, checkpointRuns.length, checkpointRuns.length < needed || moreHosts);
  // At the last good commit, until a tie between its passes and failures is broken: a flake there
  // is outvoted by one more pass, a runner broken since by one more failure.
  const anchorRuns = runsOf(ctx, anchor.sha);
  const tied = open.some((test) => {
    const counts = countOutcomes(anchorRuns, test);
    return counts.fails > 0 && counts.fails === counts.passes;
  });
  const anchorSettled = settle(anchor.sha, anchorRuns.length, tied);
  const waiting: Investigation = { waiting: true, decisions: [], deterministic: [] };
  if (!checkpointSettled || !anchorSettled || hasPending(ctx, checkpoint.sha) || hasPending(ctx, anchor.sha)) return waiting;

  const verdict = classifyNewFailures(newFails, checkpointRuns, anchorRuns, hostsNeeded(ctx.fleet));
  const decisions: Decision[] = [];
  if (verdict.flaky.length) {
    decisions.push({
      type: "flaky",
      suite: ctx.name,
      sha: checkpoint.sha,
      tests: verdict.flaky,
      summary: `${verdict.flaky.join(", ")} failed intermittently at ${shaTag(checkpoint.sha)}, or as often as not at last good ${shaTag(anchor.sha)}; not a regression`,
    });
  }
  const done = (): Investigation => ({ waiting: false, decisions, deterministic: verdict.deterministic });
  if (!verdict.deterministic.length) return done();

  const suspects = suspectsInRange(ctx.commits, anchor.index, checkpointIndex, ctx.name);
  if (!suspects.length) {
    decisions.push({
      type: "flaky",
      suite: ctx.name,
      sha: checkpoint.sha,
      tests: verdict.deterministic,
      summary: `${verdict.deterministic.join(", ")} fail at ${shaTag(checkpoint.sha)} but no commit since ${shaTag(anchor.sha)} touches the suite: environment, not a commit`,
    });
    return done();
  }
  const search = searchCulprits(ctx, requests, {
    id,
    anchor,
    checkpoint,
    checkpointIndex,
    suspects,
    tests: verdict.deterministic,
    needed,
    history,
  });
  decisions.push(...search.decisions);
  if (search.waiting) return { ...waiting, decisions };
  return done();
}

/** A test whose flake rate no streak within `MAX_RUNS_PER_COMMIT` runs can outvote: reported, never reverted for. */
function tooFlakyReport(ctx: SuiteContext, anchor: Anchor, checkpoint: LandedCommit, tests: string[], history: FlakeHistory): Decision {
  const rates = tests.map((test) => `${test} ${(history.flakeRate(test)! * 100).toFixed(0)}%`).join(", ");
  return {
    type: "report",
    suite: ctx.name,
    kind: "too-flaky",
    sha: checkpoint.sha,
    tests,
    summary: `${tests.join(", ")} failed at ${shaTag(checkpoint.sha)} but flake${tests.length > 1 ? "" : "s"} too often to judge (${rates} of runs): no ${MAX_RUNS_PER_COMMIT} failures in a row would make a break more likely than chance at flakeRisk ${ctx.suite.thresholds.flakeRisk}; quarantine the test until it is fixed`,
    range: {
      from: anchor.sha,
      to: checkpoint.sha,
      suspects: suspectsInRange(ctx.commits, anchor.index, ctx.indexOf.get(checkpoint.sha)!, ctx.name).length,
    },
  };
}

interface SearchInput {
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
}

interface SearchResult {
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
function searchCulprits(ctx: SuiteContext, requests: Requests, input: SearchInput): SearchResult {
  const decisions: Decision[] = [];
  let remaining = input.tests;
  let start = 0;
  let lastGood = input.anchor.sha;
  while (remaining.length && start < input.suspects.length) {
    const tests = remaining;
    const round: SearchRound = { ctx, input, tests, windows: hidingWindows(ctx, input.anchor.index, input.checkpointIndex, tests) };
    const { positions, badCounts } = bisectPositions(round, start, decisions);
    if (positions.filter((p) => p.state === "skip").length > MAX_SKIPS) break;
    const step = nextBisectStep(positions, ctx.parallelism);
    // Unmeasurable commits hide the boundary: blaming any one of them would be a guess.
    if (step.kind === "none" || step.kind === "ambiguous") break;
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
      decisions.push(tooFlakyReport(ctx, input.anchor, input.checkpoint, tests, input.history));
      break;
    }
    // The boundary: the culprit fails as often as the suspect had to, on two hosts where the fleet
    // has two, and the search ends with one run more than the suspect needed (a culprit found at
    // the suspect itself runs there once more).
    const failures = badCounts.slice(step.hi).reduce((a, b) => a + b, 0);
    const hosts = failingHosts(badRuns, tests);
    const fewHosts = hosts.length < hostsNeeded(ctx.fleet);
    if (badRuns.length < Math.max(2, needed) || failures < needed + 1 || fewHosts) {
      requestBoundaryRepeat(round, requests, hi, fewHosts ? hostsToAvoid(ctx.fleet, hosts) : undefined);
      return { waiting: true, decisions };
    }
    if (step.lo >= 0) lastGood = suspectAt(round, start + step.lo).sha;
    const broken = tests.filter((test) => failingIn(badRuns).has(test));
    if (!ctx.declared.has(culprit.sha))
      decisions.push(correctnessRegression(round, culprit, lastGood, broken, badRuns, culpritRuns.length));
    remaining = remaining.filter((test) => !broken.includes(test));
    start = hi + 1;
    lastGood = culprit.sha;
  }
  return { waiting: false, decisions };
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
  const own = runsOf(ctx, sha, picks);
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

/** Not enough failures at the boundary yet: one more run there (away from `avoidHosts`), unless one is already queued. */
function requestBoundaryRepeat(round: SearchRound, requests: Requests, position: number, avoidHosts?: string[]): void {
  const culprit = suspectAt(round, position);
  if (hasPending(round.ctx, culprit.sha, picksAtPosition(round, position))) return;
  requests.add(
    culprit.sha,
    "bisect",
    `repeat at the boundary ${shaTag(culprit.sha)}${cherryPickNote(round, position)}`,
    round.input.id,
    cherryPickOptions(round, position),
    avoidHosts,
  );
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
