import { MAX_SKIPS, nextBisectStep, suspectsInRange, type BisectPosition } from "../culprit/bisect.js";
import { anyRunsOf, checkpoints, hasPending, maskWindows, picksAt, runsOf, type Requests, type SuiteContext } from "./context.js";
import { FlakeHistory, MAX_RUNS_PER_COMMIT } from "./flakes.js";
import { classifyNewFailures, countOutcomes, failingIn, firstMessage, INCOMPLETE_RUN, mixedIn, passingIn, runVerdict } from "./tests.js";
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

interface Anchor {
  index: number;
  sha: string;
  broken: Set<string>;
}

export function correctnessTrack(ctx: SuiteContext, requests: Requests): Decision[] {
  const out: Decision[] = [];
  const history = new FlakeHistory(ctx);
  // Where each test last passed: after a crash hid the tests, "last good" must mean last seen passing.
  const lastPass = new Map<string, { index: number; sha: string }>();
  let anchor: Anchor | undefined;
  for (const x of checkpoints(ctx)) {
    const index = ctx.indexOf.get(x.sha)!;
    const runs = runsOf(ctx, x.sha);
    // Regular runs decide what is new; retries and probes here are evidence for investigations,
    // and a flake in one must not open a fresh investigation at an already-settled commit.
    const fails = failingIn(runs.filter((r) => r.job.purpose === "landed" || r.job.purpose === "baseline"));
    const fixed = passingIn(runs);
    const seen = () => fixed.forEach((t) => lastPass.set(t, { index, sha: x.sha }));
    if (!anchor) {
      // The first tested commit is the baseline: whatever fails there predates Sheriff.
      anchor = { index, sha: x.sha, broken: fails };
      seen();
      continue;
    }
    // A test never seen passing has no good commit to search from: it counts as already broken.
    // A known-broken test still failing after its culprit's revert was broken twice: search again.
    const reopened = (t: string) => anchor!.broken.has(t) && brokenAgain(ctx, t, lastPass.get(t)?.index, anchor!.index, index);
    const newFails = [...fails].filter((t) => (!anchor!.broken.has(t) || reopened(t)) && lastPass.has(t)).sort();
    const stillBroken = new Set([...anchor.broken].filter((t) => !fixed.has(t) || fails.has(t)));
    if (newFails.length === 0) {
      anchor = { index, sha: x.sha, broken: new Set([...stillBroken, ...[...fails].filter((t) => !lastPass.has(t))]) };
      seen();
      continue;
    }
    const good = newFails.map((t) => lastPass.get(t)!).reduce((a, b) => (b.index < a.index ? b : a));
    history.advanceTo(good.index + 1);
    const inv = investigate(ctx, requests, { ...good, broken: anchor.broken }, x, index, newFails, history);
    out.push(...inv.decisions);
    if (inv.waiting) break;
    anchor = { index, sha: x.sha, broken: new Set([...stillBroken, ...inv.deterministic]) };
    seen();
  }
  return out;
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
function hidingWindows(ctx: SuiteContext, fromIndex: number, toIndex: number, tests: string[]) {
  return maskWindows(ctx, fromIndex, toIndex, (c) => {
    const fails = failingIn(anyRunsOf(ctx, c.sha));
    return fails.has(INCOMPLETE_RUN) || tests.some((t) => fails.has(t));
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
  x: LandedCommit,
  xIndex: number,
  newFails: string[],
  history: FlakeHistory,
): Investigation {
  const id = `correctness:${shaTag(anchor.sha)}..${shaTag(x.sha)}`;
  const { retries, flakeRisk } = ctx.suite.thresholds;
  const xRuns = runsOf(ctx, x.sha);
  const executor = xRuns.find((r) => r.result.status !== "completed" || failingIn([r]).size > 0)?.result.environment.executor;
  // A test already caught flaking needs a streak its own flake rate is unlikely to produce; one
  // that has since passed here is flaky and needs nothing more.
  const passedHere = passingIn(xRuns);
  const open = newFails.filter((t) => !passedHere.has(t));
  const needed = Math.max(retries + 1, ...open.map((t) => history.failuresNeeded(t, retries, flakeRisk)));
  const reason = `new failure of ${newFails.join(", ")} at ${shaTag(x.sha)}: retry here and at last good ${shaTag(anchor.sha)}`;
  // `retries` runs at once, then one at a time while `more` holds (capped): true once settled.
  const settle = (sha: string, have: number, more: boolean): boolean => {
    const target = Math.min(MAX_RUNS_PER_COMMIT, Math.max(retries + 1, more ? have + 1 : 0));
    return requests.ensureRuns(sha, target, "retry", reason, id, executor) && !(more && have < MAX_RUNS_PER_COMMIT);
  };
  // At the suspect, until the streak is long enough: a flaky test usually passes on the next run, which ends it.
  const xDone = settle(x.sha, xRuns.length, xRuns.length < needed);
  // At the last good commit, until a tie between its passes and failures is broken: a flake there
  // is outvoted by one more pass, a runner broken since by one more failure.
  const gRuns = runsOf(ctx, anchor.sha);
  const tied = open.some((t) => {
    const c = countOutcomes(gRuns, t);
    return c.fails > 0 && c.fails === c.passes;
  });
  const gDone = settle(anchor.sha, gRuns.length, tied);
  const waiting: Investigation = { waiting: true, decisions: [], deterministic: [] };
  if (!xDone || !gDone || hasPending(ctx, x.sha) || hasPending(ctx, anchor.sha)) return waiting;

  const verdict = classifyNewFailures(newFails, xRuns, gRuns);
  const decisions: Decision[] = [];
  if (verdict.flaky.length) {
    decisions.push({
      type: "flaky",
      suite: ctx.name,
      sha: x.sha,
      tests: verdict.flaky,
      summary: `${verdict.flaky.join(", ")} failed intermittently at ${shaTag(x.sha)}, or as often as not at last good ${shaTag(anchor.sha)}; not a regression`,
    });
  }
  const done = (): Investigation => ({ waiting: false, decisions, deterministic: verdict.deterministic });
  if (!verdict.deterministic.length) return done();

  const suspects = suspectsInRange(ctx.commits, anchor.index, xIndex, ctx.name);
  if (!suspects.length) {
    decisions.push({
      type: "flaky",
      suite: ctx.name,
      sha: x.sha,
      tests: verdict.deterministic,
      summary: `${verdict.deterministic.join(", ")} fail at ${shaTag(x.sha)} but no commit since ${shaTag(anchor.sha)} touches the suite: environment, not a commit`,
    });
    return done();
  }
  const search = searchCulprits(ctx, requests, { id, anchor, x, xIndex, suspects, tests: verdict.deterministic, needed });
  decisions.push(...search.decisions);
  if (search.waiting) return { ...waiting, decisions };
  return done();
}

interface SearchInput {
  id: string;
  anchor: Anchor;
  x: LandedCommit;
  xIndex: number;
  /** Commit indexes of the suite-touching commits in (anchor, x]. */
  suspects: number[];
  tests: string[];
  /** Failing runs the suspect `x` needed before the search; the culprit is blamed on one more. */
  needed: number;
}

/**
 * Bisects for the earliest commit that breaks any of `tests`, declares it, then searches
 * after it for whatever tests it did not break (two culprits in one range). The last suspect
 * also carries the evidence of `x` itself, whose state it shares.
 */
function searchCulprits(ctx: SuiteContext, requests: Requests, s: SearchInput): { waiting: boolean; decisions: Decision[] } {
  const decisions: Decision[] = [];
  let remaining = s.tests;
  let start = 0;
  let lastGood = s.anchor.sha;
  while (remaining.length && start < s.suspects.length) {
    const tests = remaining;
    const windows = hidingWindows(ctx, s.anchor.index, s.xIndex, tests);
    const picks = (i: number) => picksAt(windows, s.suspects[i]!);
    const runsAtPos = (i: number): RunRecord[] => {
      const sha = ctx.commits[s.suspects[i]!]!.sha;
      const own = runsOf(ctx, sha, picks(i));
      return i === s.suspects.length - 1 && !picks(i) && sha !== s.x.sha ? [...own, ...runsOf(ctx, s.x.sha)] : own;
    };
    const withPicks = (i: number) => {
      const p = picks(i);
      return p ? { cherryPicks: p } : {};
    };
    const reverted = (i: number) => {
      const p = picks(i);
      return p ? ` with ${p.map(shaTag).join(", ")} cherry-picked` : "";
    };
    const positions: BisectPosition[] = [];
    // Failing runs per position (index i - start), for the evidence the boundary needs.
    const badCounts: number[] = [];
    for (let i = start; i < s.suspects.length; i++) {
      const runs = runsAtPos(i);
      const verdicts = runs.map((r) => runVerdict(r, tests));
      badCounts.push(verdicts.filter((v) => v === "bad").length);
      const mixed = mixedIn(runs).filter((t) => tests.includes(t));
      if (mixed.length) {
        decisions.push({
          type: "flaky",
          suite: ctx.name,
          sha: ctx.commits[s.suspects[i]!]!.sha,
          tests: mixed,
          summary: `${mixed.join(", ")} both passed and failed at one commit during bisection`,
        });
      }
      // A deterministic break never passes, so one pass clears a commit even if the test also flaked there.
      // A commit whose runs never reach the tests (an earlier crash culprit) cannot say where the break is.
      const crashed = runs.length > 0 && runs.every((r) => r.result.status !== "completed");
      const state = verdicts.includes("good")
        ? "good"
        : verdicts.includes("bad")
          ? "bad"
          : crashed || runs.length >= 2
            ? "skip"
            : "unknown";
      positions.push({ state, pending: hasPending(ctx, ctx.commits[s.suspects[i]!]!.sha, picks(i)) });
    }
    if (positions.filter((p) => p.state === "skip").length > MAX_SKIPS) break;
    const step = nextBisectStep(positions, ctx.parallelism);
    // Unmeasurable commits hide the boundary: blaming any one of them would be a guess.
    if (step.kind === "none" || step.kind === "ambiguous") break;
    if (step.kind === "wait") return { waiting: true, decisions };
    if (step.kind === "probe") {
      for (const p of step.positions) {
        const sha = ctx.commits[s.suspects[start + p]!]!.sha;
        requests.add(
          sha,
          "bisect",
          `bisect ${tests.join(", ")} between ${shaTag(s.anchor.sha)} and ${shaTag(s.x.sha)}${reverted(start + p)}`,
          s.id,
          withPicks(start + p),
        );
      }
      return { waiting: true, decisions };
    }
    const hi = start + step.hi;
    const culprit = ctx.commits[s.suspects[hi]!]!;
    const culpritRuns = runsAtPos(hi);
    const badRuns = culpritRuns.filter((r) => runVerdict(r, tests) === "bad");
    // Flaky-aware boundary: the culprit fails at least twice, and the search ends with one run
    // more than the suspect needed (a culprit found at the suspect itself runs there once more).
    const failures = badCounts.slice(step.hi).reduce((a, b) => a + b, 0);
    if (badRuns.length < 2 || failures < s.needed + 1) {
      if (!hasPending(ctx, culprit.sha, picks(hi)))
        requests.add(culprit.sha, "bisect", `repeat at the boundary ${shaTag(culprit.sha)}${reverted(hi)}`, s.id, withPicks(hi));
      return { waiting: true, decisions };
    }
    if (step.lo >= 0) lastGood = ctx.commits[s.suspects[start + step.lo]!]!.sha;
    const broken = tests.filter((t) => failingIn(badRuns).has(t));
    if (!ctx.declared.has(culprit.sha)) {
      decisions.push({
        type: "regression",
        suite: ctx.name,
        kind: "correctness",
        culprit: culprit.sha,
        lastGood,
        failingTests: broken.map((name) => ({ name, message: firstMessage(badRuns, name) })),
        benchmarks: [],
        summary: `${shaTag(culprit.sha)} "${culprit.title}" breaks ${broken.join(", ")}: failed ${badRuns.length}/${culpritRuns.length} runs, passed at ${shaTag(lastGood)}; searched ${s.suspects.length} suite commits after ${shaTag(s.anchor.sha)}${windows.length ? `, measuring commits under reverted ${windows.map((w) => shaTag(ctx.commits[w.culprit]!.sha)).join(", ")} with the revert cherry-picked` : ""}`,
        investigation: s.id,
        range: { from: s.anchor.sha, to: s.x.sha, suspects: s.suspects.length },
      });
    }
    remaining = remaining.filter((t) => !broken.includes(t));
    start = hi + 1;
    lastGood = culprit.sha;
  }
  return { waiting: false, decisions };
}
