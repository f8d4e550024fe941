import { checkpoints, runsOf, type MaskScan, type SuiteContext } from "./context.js";
import { newFailures, regularFailures, type CorrectnessState } from "./correctness.js";
import { evaluate, unmeasuredReverts, type Evaluation } from "./engine.js";
import { awaitsRebaselineRun, type PerformanceState } from "./performance.js";
import { correctnessStart } from "./resume.js";
import { passingIn } from "./tests.js";
import type { CorrectnessCarry, Decision, EngineInput, EngineWindow, PerformanceCarry } from "../../model/engine.js";
import { revertedTitle } from "../../model/revertCommit.js";

/**
 * Folds the settled start of a suite's history into a carry, so the caller keeps only a window
 * of recent commits and `decide` costs what the window costs. Exact, not approximate: with the
 * carry and the commits from `from` on, `decide` reaches the decisions it reaches on the whole
 * history (flaky reports of commits before the correctness walk's resume point, which earlier
 * calls returned, are not repeated).
 *
 * A commit is settled when no job is in flight or still to be asked for at it, so its runs are
 * final. The correctness walk resumes at a checkpoint with no new failure where every test seen
 * passing before passed again (or is known broken and no reverted culprit can reopen it): no
 * later investigation can then search from further back. The performance walk resumes after a
 * settled checkpoint before that one, and the window keeps its accepted levels, since a later
 * screen may search from any of them. Anything unsettled (an open investigation, a test that
 * never passes again, an undeclared verdict) keeps the window open further back.
 *
 * Call it with the input `decide` was called with (or a newer one), then keep the commits from
 * `from` on and pass `carry` with them.
 */
export function advanceWindow(input: EngineInput): EngineWindow {
  const first = input.commits[0];
  if (!first) return input.carry ? { carry: input.carry } : {};
  // States the walks could resume from, copied shallowly (the walks replace entries, never mutate them).
  const correctness: { index: number; state: CorrectnessState }[] = [];
  const performance: { index: number; state: PerformanceState }[] = [];
  const maskScans = { correctness: [] as MaskScan[], performance: [] as MaskScan[] };
  const evaluation = evaluate(input, (ctx) => {
    const declarable = declarablePairs(ctx, input);
    return {
      maskScans,
      correctness: (index, state, verdicts) => {
        if (!correctnessCanResumeAt(ctx, index, state, verdicts)) return;
        if (!readsDeclarable(ctx, maskScans.correctness, declarable))
          correctness.push({ index, state: { ...state, lastPass: new Map(state.lastPass), lastSeen: new Map(state.lastSeen) } });
      },
      performance: (index, { anchors, effects }, verdicts) => {
        // Any verdict of this track is a regression not declared yet: its checkpoint is walked again until it is.
        if (verdicts.length || readsDeclarable(ctx, maskScans.performance, declarable)) return;
        performance.push({ index, state: { anchors, effects: new Map(effects) } });
      },
    };
  });
  const { ctx } = evaluation;
  const bounds = settledBounds(evaluation, input);
  const resumed = correctness.filter((r) => r.index <= bounds.correctness).pop();
  const correctnessCarry = resumed ? correctnessCarryAt(ctx, input, resumed.index, resumed.state) : input.carry?.correctness;
  if (!correctnessCarry) return { from: first.sha };
  const resumeIndex = ctx.indexOf.get(correctnessCarry.resumeAt)!;
  const settled = performance.filter((p) => p.index < resumeIndex && p.index <= bounds.performance).pop();
  const performanceCarry = settled
    ? performanceCarryAt(ctx, settled.index, settled.state)
    : (input.carry?.performance ?? { anchors: [], effects: [] });
  return {
    from: ctx.commits[windowStart(ctx, resumeIndex, performanceCarry)]!.sha,
    carry: {
      firstCheckpoint: input.carry?.firstCheckpoint ?? checkpoints(ctx)[0]!.sha,
      correctness: correctnessCarry,
      performance: performanceCarry,
    },
  };
}

/**
 * Whether the correctness walk can resume at checkpoint `index` with `state`: it has an anchor,
 * no verdict before it awaits declaring, nothing fails there anew, and every test seen passing
 * before and not forgotten since (renamed or removed) passed there again, or is known broken and
 * cannot be reopened (only a cherry-picking runner reopens one), so no later investigation
 * searches from before it.
 */
function correctnessCanResumeAt(ctx: SuiteContext, index: number, state: CorrectnessState, verdicts: readonly Decision[]): boolean {
  const { anchor, lastPass } = state;
  if (!anchor || verdicts.some((d) => d.type === "regression")) return false;
  const runs = runsOf(ctx, ctx.commits[index]!.sha);
  if (newFailures(ctx, anchor, lastPass, regularFailures(runs), index).length) return false;
  const passed = passingIn(runs);
  return [...lastPass.keys()].every((test) => passed.has(test) || (anchor.broken.has(test) && !ctx.cherryPick));
}

function correctnessCarryAt(ctx: SuiteContext, input: EngineInput, index: number, state: CorrectnessState): CorrectnessCarry {
  return {
    resumeAt: ctx.commits[index]!.sha,
    anchor: state.anchor!.sha,
    broken: [...state.anchor!.broken].sort(),
    lastPass: Object.fromEntries([...state.lastPass].map(([test, pass]) => [test, pass.sha])),
    reported: state.reported,
    lastSeen: Object.fromEntries(state.lastSeen),
    flakes: flakesBefore(ctx, input, index),
  };
}

function performanceCarryAt(ctx: SuiteContext, index: number, state: PerformanceState): PerformanceCarry {
  return {
    through: ctx.commits[index]!.sha,
    anchors: state.anchors.map(({ sha, note }) => (note === undefined ? { sha } : { sha, note })),
    effects: [...state.effects].map(([culprit, e]) => ({ culprit, title: e.title, evidence: e.evidence.map((c) => ({ ...c })) })),
  };
}

/** The flake records of every commit before `index`: the carried ones plus those of the window up to it. */
function flakesBefore(ctx: SuiteContext, input: EngineInput, index: number): CorrectnessCarry["flakes"] {
  const history = correctnessStart(ctx, input.carry).history;
  history.advanceTo(index);
  return history.counted();
}

/**
 * The latest checkpoint index each walk may resume at (correctness) or settle through
 * (performance) without a job still to come below it. A job asked for or in flight at a commit
 * changes its runs; a `landed` or `baseline` one, or a revert or rebaseline still to measure,
 * changes what fails there; an `ab` one changes what the performance walk reads, and, against the
 * commit's parent, what the correctness search sees at the parent too.
 */
function settledBounds(evaluation: Evaluation, input: EngineInput): { correctness: number; performance: number } {
  const { ctx, requests } = evaluation;
  let correctness = Infinity;
  let performance = Infinity;
  for (const job of [...requests, ...input.pending.filter((j) => j.suite === ctx.name)]) {
    const index = ctx.indexOf.get(job.sha);
    if (index === undefined) continue;
    performance = Math.min(performance, index - 1);
    // An `ab` job of a commit against its parent is also a correctness boundary check of both.
    const parentCheck = job.purpose === "ab" && job.baselineSha === ctx.commits[index]!.parent;
    if (job.purpose !== "ab")
      correctness = Math.min(correctness, job.purpose === "landed" || job.purpose === "baseline" ? index - 1 : index);
    else if (parentCheck) correctness = Math.min(correctness, index - 1);
  }
  for (const c of unmeasuredReverts(ctx, input)) correctness = Math.min(correctness, ctx.indexOf.get(c.sha)! - 1);
  for (const r of ctx.rebaselines) {
    if (awaitsRebaselineRun(runsOf(ctx, r.sha))) correctness = Math.min(correctness, ctx.indexOf.get(r.sha)! - 1);
  }
  return { correctness, performance };
}

/** A suite commit not declared (yet) and a later revert of its title. */
interface DeclarablePair {
  commit: number;
  revert: number;
}

/**
 * With a cherry-picking runner, the walks pair a revert with the nearest earlier declared commit
 * of its title. A suite commit the performance walk may still declare (one after its oldest
 * accepted level) that a revert of its title follows could change that pairing later.
 */
function declarablePairs(ctx: SuiteContext, input: EngineInput): DeclarablePair[] {
  if (!ctx.cherryPick) return [];
  const oldestLevel = input.carry?.performance.anchors[0];
  const searchable = oldestLevel ? ctx.indexOf.get(oldestLevel.sha)! : -1;
  const undeclared = new Map<string, number[]>();
  const pairs: DeclarablePair[] = [];
  for (let i = searchable + 1; i < ctx.commits.length; i++) {
    const commit = ctx.commits[i]!;
    const title = commit.isRevert ? revertedTitle(commit.title) : undefined;
    if (title !== undefined) for (const earlier of undeclared.get(title) ?? []) pairs.push({ commit: earlier, revert: i });
    if (commit.suites.includes(ctx.name) && !ctx.declared.has(commit.sha))
      undeclared.set(commit.title, [...(undeclared.get(commit.title) ?? []), i]);
  }
  return pairs;
}

/**
 * Whether a scan a walk made would change if the commit of a pair were declared: the scan spans
 * the pair and would count the commit, or would lose an older declared commit of that title.
 * A walk that read such a scan cannot be carried past it.
 */
function readsDeclarable(ctx: SuiteContext, scans: MaskScan[], pairs: DeclarablePair[]): boolean {
  return pairs.some(({ commit, revert }) =>
    scans.some((scan) => {
      if (scan.fromIndex >= commit || revert > scan.toIndex) return false;
      const title = ctx.commits[commit]!.title;
      const shadows = ctx.commits.slice(scan.fromIndex + 1, commit).some((c) => c.title === title && ctx.declared.has(c.sha));
      return shadows || scan.masks(ctx.commits[commit]!);
    }),
  );
}

/** The oldest commit either walk may still read: the correctness resume point, the accepted levels, unconsumed rebaselines. */
function windowStart(ctx: SuiteContext, resumeIndex: number, performance: PerformanceCarry): number {
  const { anchors, through } = performance;
  const throughIndex = through === undefined ? -1 : (ctx.indexOf.get(through) ?? -1);
  let start = Math.min(resumeIndex, anchors.length ? ctx.indexOf.get(anchors[0]!.sha)! : throughIndex + 1);
  // Rebaselines up to the latest accepted level are consumed; later ones are read when the walk reaches them.
  const latest = anchors.length ? ctx.indexOf.get(anchors[anchors.length - 1]!.sha)! : -1;
  for (const r of ctx.rebaselines) {
    const index = ctx.indexOf.get(r.sha)!;
    if (index > latest) start = Math.min(start, index);
  }
  return Math.max(0, start);
}
