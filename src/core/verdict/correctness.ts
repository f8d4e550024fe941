import { suspectsInRange } from "../culprit/bisect.js";
import { checkpoints, hasPending, maskWindows, runsOf, type Requests, type SuiteContext, anyRunsOf } from "./context.js";
import { FlakeHistory, MAX_RUNS_PER_COMMIT } from "./flakes.js";
import { hostsNeeded, hostsToAvoid } from "./hosts.js";
import { tooFlakyReport } from "./reports.js";
import { searchCulprits, type Anchor } from "./search.js";
import { classifyNewFailures, countOutcomes, failingHosts, failingIn, INCOMPLETE_RUN, passingIn, regularRuns } from "./tests.js";
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
  return failingIn(regularRuns(runs));
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
    return {
      waiting: false,
      decisions: [
        tooFlakyReport(
          ctx,
          tooFlaky,
          { from: ctx.commits[anchor.index] ?? checkpoint, fromIndex: anchor.index, to: checkpoint, toIndex: checkpointIndex },
          history,
        ),
      ],
      deterministic: tooFlaky,
    };
  const needed = Math.max(retries + 1, ...open.map((test) => history.failuresNeeded(test, retries, flakeRisk)!));
  const reason = `new failure of ${newFails.join(", ")} at ${shaTag(checkpoint.sha)}: retry here and at last good ${shaTag(anchor.sha)}`;
  // Confirming runs go to other hosts than the ones that failed, so a broken machine cannot confirm itself.
  const failedOn = failingHosts(checkpointRuns, newFails);
  const avoid = hostsToAvoid(ctx.fleet, failedOn);
  const hosts = hostsNeeded(ctx.fleet, ctx.quarantines, regularRuns(checkpointRuns));
  const moreHosts = open.length > 0 && hosts > 1 && failedOn.length < hosts;
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

  const verdict = classifyNewFailures(newFails, checkpointRuns, anchorRuns, hosts);
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
    hosts,
  });
  decisions.push(...search.decisions);
  if (search.waiting) return { ...waiting, decisions };
  return done();
}
