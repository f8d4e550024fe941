import { MAX_SKIPS, nextBisectStep, suspectsInRange, type BisectPosition } from "../culprit/bisect.js";
import { compareAb, compareLevels, levelOf, levelOfRuns, scaleLevel, slowdowns, type Comparison } from "./benchmarks.js";
import {
  abState,
  anyRunsOf,
  checkpoints,
  maskWindows,
  picksAt,
  runsOf,
  type MaskWindow,
  type Requests,
  type SuiteContext,
} from "./context.js";
import type { Decision, LandedCommit, RunRecord } from "../../model/engine.js";
import { shaTag } from "../../model/sha.js";
import { revertTitle } from "../../model/revertCommit.js";

/**
 * The performance track. Timings from different jobs differ by more than the noise inside
 * one job (GPU clocks, thermals, neighbours), so a cross-job comparison only screens; every
 * verdict rests on interleaved A/B jobs, where suspect and baseline share one GPU and one
 * time window:
 *   1. screen each checkpoint against the last few accepted levels (ratio of medians + rank-sum);
 *   2. confirm the whole range with one A/B (last suspect against the anchor) - noise stops here;
 *   3. bisect with A/B probes against the anchor, splitting at the geometric midpoint of the
 *      confirmed ratio;
 *   4. confirm the boundary with an A/B of the culprit against its own parent.
 */

/** Screening is loose: a false alarm costs one A/B job, a miss costs a regression. */
export const SCREEN_FRACTION = 0.6;
/**
 * A measured ratio is an estimate: a true 5% slowdown measures under 5% about half the time.
 * So an A/B counts a slowdown as large enough from 80% of the threshold, when it is also clear.
 */
export const CONFIRM_FRACTION = 0.8;
const AB_ATTEMPTS = 2;
/** Accepted levels a checkpoint is screened against. */
const RECENT_LEVELS = 3;

export interface PerfAnchor {
  index: number;
  sha: string;
  /** Set when the level is a recorded rebaseline, for the evidence. */
  note?: string;
}

/** A confirmed slowdown: a later revert titled after its culprit is expected to take its ratio back off. */
export interface SlowdownEffect {
  title: string;
  evidence: Comparison[];
}

/** What the walk carries from one checkpoint to the next. */
export interface PerformanceState {
  // The levels later commits are held to, oldest first; the last is the latest accepted one.
  anchors: PerfAnchor[];
  // Slowdowns this walk confirmed, by culprit: a revert of one is expected to take its ratio back off,
  // and without that a new slowdown landing next to the revert would cancel against it unseen.
  effects: Map<string, SlowdownEffect>;
}

/** Where a walk starts: the state after checkpoint index `afterIndex` (-1: from the first checkpoint). */
export interface PerformanceStart extends PerformanceState {
  afterIndex: number;
}

/** Sees the state after each checkpoint the walk settles, and the verdicts reached up to it. */
export type PerformanceObserver = (checkpointIndex: number, state: PerformanceState, verdicts: readonly Decision[]) => void;

export function performanceTrack(
  ctx: SuiteContext,
  requests: Requests,
  start: PerformanceStart = { afterIndex: -1, anchors: [], effects: new Map() },
  observe?: PerformanceObserver,
): Decision[] {
  const out: Decision[] = [];
  const thresholds = ctx.suite.thresholds;
  const rebaselines = [...ctx.rebaselines].sort((a, b) => ctx.indexOf.get(a.sha)! - ctx.indexOf.get(b.sha)!);
  let next = 0;
  let anchors = start.anchors;
  const effects = start.effects;
  const factorsBetween = (from: number, to: number): Map<string, number> => {
    const out = new Map<string, number>();
    for (let i = from + 1; i <= to; i++) {
      const commit = ctx.commits[i]!;
      if (!commit.isRevert) continue;
      for (const effect of effects.values()) {
        if (commit.title !== revertTitle(effect.title)) continue;
        for (const slowdown of effect.evidence) out.set(slowdown.name, (out.get(slowdown.name) ?? 1) * slowdown.ratio);
      }
    }
    return out;
  };
  for (const checkpoint of checkpoints(ctx)) {
    const index = ctx.indexOf.get(checkpoint.sha)!;
    if (index <= start.afterIndex) continue;
    const settled = () => observe?.(index, { anchors, effects }, out);
    const checkpointRuns = runsOf(ctx, checkpoint.sha);
    const level = levelOfRuns(checkpointRuns);
    if (!level.size) {
      settled();
      continue;
    }
    // A rebaseline accepts its commit's level as the expectation: later commits compare to it, earlier suspects are forgiven.
    while (next < rebaselines.length && ctx.indexOf.get(rebaselines[next]!.sha)! <= index) {
      const rebaseline = rebaselines[next++]!;
      const rebaselineIndex = ctx.indexOf.get(rebaseline.sha)!;
      const latest = anchors[anchors.length - 1];
      if (latest && rebaselineIndex <= latest.index) continue;
      const runs = runsOf(ctx, rebaseline.sha);
      if (!levelOfRuns(runs).size) {
        if (!awaitsRebaselineRun(runs)) continue;
        requests.ensureRuns(
          rebaseline.sha,
          runs.length + 1,
          "baseline",
          `measure the rebaselined level at ${shaTag(rebaseline.sha)}`,
          `rebaseline:${shaTag(rebaseline.sha)}`,
        );
        return out;
      }
      anchors = [
        {
          index: rebaselineIndex,
          sha: rebaseline.sha,
          note: `rebaseline at ${shaTag(rebaseline.sha)} by ${rebaseline.by} (${rebaseline.at}): ${rebaseline.reason}`,
        },
      ];
    }
    const latest = anchors[anchors.length - 1];
    if (!latest || latest.sha === checkpoint.sha) {
      if (!latest) anchors = [{ index, sha: checkpoint.sha }];
      settled();
      continue;
    }
    // The latest level first, then the older ones: a step that hid in one job's noise when it
    // landed still shows against the levels before it at the next checkpoint. A dismissed alarm
    // against one level does not excuse the others.
    let shifted = false;
    let screened = false;
    for (const anchor of [...anchors].reverse()) {
      const from = anchor.index;
      // GPU models differ in speed by more than a slowdown: a level is only held to levels of its own model.
      const anchorRuns = sameGpuModel(runsOf(ctx, anchor.sha), checkpointRuns);
      if (!anchorRuns.length) continue;
      screened = true;
      const expected = scaleLevel(levelOfRuns(anchorRuns), factorsBetween(from, index));
      const suspicious = slowdowns(compareLevels(level, expected, 1 + SCREEN_FRACTION * thresholds.slowdown), thresholds, SCREEN_FRACTION);
      if (!suspicious.length) continue;
      const outcome = investigate(ctx, requests, {
        anchor,
        checkpoint,
        checkpointIndex: index,
        suspicious,
        effects,
        factorsAt: (i) => factorsBetween(from, i),
      });
      out.push(...outcome.decisions);
      if (outcome.waiting) return out;
      shifted = outcome.shifted;
      if (shifted) break;
    }
    // Confirmed, dismissed or clean, this level is what later commits are held to; a revert brings
    // it back down. Past a confirmed shift (blamed or not) the older levels would only find it again.
    // A level no accepted one of its model could screen is not accepted either: a step hidden there must still show.
    if (shifted) anchors = [{ index, sha: checkpoint.sha }];
    else if (screened) anchors = [...anchors, { index, sha: checkpoint.sha }].slice(-RECENT_LEVELS);
    settled();
  }
  return out;
}

/** The runs of `runs` on a GPU model that `like` ran on (all of them where results name no model). */
function sameGpuModel(runs: RunRecord[], like: RunRecord[]): RunRecord[] {
  const models = new Set(like.map((r) => r.result.environment.gpu));
  return models.has(undefined) ? runs : runs.filter((r) => models.has(r.result.environment.gpu));
}

/** A rebaselined commit with no level yet gets a `baseline` run, up to `AB_ATTEMPTS` of them. */
export function awaitsRebaselineRun(runs: RunRecord[]): boolean {
  return !levelOfRuns(runs).size && runs.length < AB_ATTEMPTS;
}

type AbOutcome = { kind: "waiting" } | { kind: "failed" } | { kind: "done"; comparisons: Comparison[] };

/**
 * The comparison from the interleaved runs of `sha` against `base`, pooling attempts. A result
 * that is clear but just under the size bar gets one more attempt, since the estimate's own
 * spread (about 1% at 3% noise) decides such cases more than the code does.
 */
function abOutcome(
  ctx: SuiteContext,
  requests: Requests,
  sha: string,
  base: string,
  reason: string,
  id: string,
  adjust = new Map<string, number>(),
  picks: { cherryPicks?: string[]; baselineCherryPicks?: string[] } = {},
): AbOutcome {
  const thresholds = ctx.suite.thresholds;
  const state = abState(ctx, sha, base, picks.cherryPicks, picks.baselineCherryPicks);
  const usable = state.runs.filter((r) => compareAb(r, Infinity) !== null);
  if (usable.length) {
    const comparisons = compareLevels(
      levelOf(usable.map((r) => r.result)),
      scaleLevel(levelOf(usable.map((r) => r.baselineResult!)), adjust),
      1 + SCREEN_FRACTION * thresholds.slowdown,
    );
    const borderline =
      !slowdowns(comparisons, thresholds, CONFIRM_FRACTION).length && slowdowns(comparisons, thresholds, SCREEN_FRACTION).length > 0;
    if (!borderline || state.runs.length >= AB_ATTEMPTS) return { kind: "done", comparisons };
  }
  if (state.pending) return { kind: "waiting" };
  if (state.runs.length >= AB_ATTEMPTS) return { kind: "failed" };
  requests.add(sha, "ab", usable.length ? `${reason} (borderline: one more interleaved run)` : reason, id, {
    baselineSha: base,
    ...definedPicks(picks),
  });
  return { kind: "waiting" };
}

function definedPicks(picks: { cherryPicks?: string[] | undefined; baselineCherryPicks?: string[] | undefined }): {
  cherryPicks?: string[];
  baselineCherryPicks?: string[];
} {
  const out: { cherryPicks?: string[]; baselineCherryPicks?: string[] } = {};
  if (picks.cherryPicks?.length) out.cherryPicks = picks.cherryPicks;
  if (picks.baselineCherryPicks?.length) out.baselineCherryPicks = picks.baselineCherryPicks;
  return out;
}

/**
 * Declared culprits in the range whose every run crashed and that were reverted by its end: no
 * commit of their window could be timed on the branch, so the search times those commits with
 * the revert cherry-picked on top (when the runner can).
 */
function crashWindows(ctx: SuiteContext, fromIndex: number, toIndex: number): MaskWindow[] {
  return maskWindows(ctx, fromIndex, toIndex, (c) => {
    const runs = anyRunsOf(ctx, c.sha);
    return runs.length > 0 && runs.every((r) => r.result.status !== "completed");
  });
}

interface PerfInvestigation {
  anchor: PerfAnchor;
  checkpoint: LandedCommit;
  checkpointIndex: number;
  suspicious: Comparison[];
  effects: Map<string, SlowdownEffect>;
  /** Known reverted effects between the anchor and commit index `commitIndex`. */
  factorsAt: (commitIndex: number) => Map<string, number>;
}

/** `shifted`: the interleaved A/B of the range confirmed a slowdown, whether or not a culprit could be blamed. */
interface PerfOutcome {
  waiting: boolean;
  decisions: Decision[];
  shifted: boolean;
}

/** One investigation's fixed facts, shared by its steps. */
interface PerfRange {
  ctx: SuiteContext;
  requests: Requests;
  inv: PerfInvestigation;
  id: string;
  /** Commit indexes of the suite-touching commits in (anchor, checkpoint]. */
  suspectIndexes: number[];
  suspects: LandedCommit[];
}

function waitingOutcome(decisions: Decision[] = []): PerfOutcome {
  return { waiting: true, decisions, shifted: false };
}

function dismissedOutcome(): PerfOutcome {
  return { waiting: false, decisions: [], shifted: false };
}

function investigate(ctx: SuiteContext, requests: Requests, inv: PerfInvestigation): PerfOutcome {
  const { anchor, checkpoint, checkpointIndex } = inv;
  const id = `performance:${shaTag(anchor.sha)}..${shaTag(checkpoint.sha)}`;
  const suspectIndexes = suspectsInRange(ctx.commits, anchor.index, checkpointIndex, ctx.name);
  const suspects = suspectIndexes.map((i) => ctx.commits[i]!);
  // A level shift with no suite commit in range is the machine, not the code.
  if (!suspects.length) return dismissedOutcome();
  const range: PerfRange = { ctx, requests, inv, id, suspectIndexes, suspects };
  const shift = confirmRangeShift(range);
  if (shift.kind === "waiting") return waitingOutcome();
  if (shift.kind === "dismissed") return dismissedOutcome();
  // A single suspect was measured against its own parent: the range A/B is its confirmation.
  if (suspects.length === 1) {
    return { waiting: false, decisions: regressionDecisions(range, shift.top, shift.base, shift.confirmed), shifted: true };
  }
  return searchLeads(range, shift.confirmed);
}

type RangeShift =
  { kind: "waiting" } | { kind: "dismissed" } | { kind: "confirmed"; top: LandedCommit; base: string; confirmed: Comparison[] };

/** Step 2: one interleaved A/B of the last suspect against the anchor (or its parent when alone); noise stops here. */
function confirmRangeShift(range: PerfRange): RangeShift {
  const { ctx, requests, inv, id, suspects, suspectIndexes } = range;
  const top = suspects[suspects.length - 1]!;
  const base = suspects.length === 1 ? top.parent : inv.anchor.sha;
  const screened = inv.suspicious.map((c) => `${c.name} ${pct(c.ratio)}`).join(", ");
  const adjust = suspects.length === 1 ? new Map<string, number>() : inv.factorsAt(suspectIndexes[suspectIndexes.length - 1]!);
  const reason = `${screened} at ${shaTag(inv.checkpoint.sha)}: interleaved A/B against ${shaTag(base)}`;
  const ab = abOutcome(ctx, requests, top.sha, base, reason, id, adjust);
  if (ab.kind === "waiting") return { kind: "waiting" };
  if (ab.kind === "failed") return { kind: "dismissed" };
  const confirmed = slowdowns(ab.comparisons, ctx.suite.thresholds, CONFIRM_FRACTION);
  if (!confirmed.length) return { kind: "dismissed" };
  return { kind: "confirmed", top, base, confirmed };
}

/** Records the culprit's effect (a later revert takes it back off) and blames it unless already declared. */
function regressionDecisions(range: PerfRange, culprit: LandedCommit, base: string, evidence: Comparison[]): Decision[] {
  const { ctx, inv, id, suspects } = range;
  const { anchor, checkpoint } = inv;
  inv.effects.set(culprit.sha, { title: culprit.title, evidence });
  if (ctx.declared.has(culprit.sha)) return [];
  const slows = evidence.map((c) => `${c.name} by ${pct(c.ratio)} (p=${c.pValue.toPrecision(2)})`).join(", ");
  const decision: Decision = {
    type: "regression",
    suite: ctx.name,
    kind: "performance",
    culprit: culprit.sha,
    lastGood: base,
    failingTests: [],
    benchmarks: evidence,
    summary: `${shaTag(culprit.sha)} "${culprit.title}" slows ${slows} in an interleaved A/B run against ${shaTag(base)}; expected level: ${anchor.note ?? shaTag(anchor.sha)}`,
    investigation: id,
    range: { from: anchor.sha, to: checkpoint.sha, suspects: suspects.length },
  };
  return [decision];
}

// A lead is one benchmark's slowdown still to place, with the culprits of it found so far in
// this range (suspect position and ratio): from each one on, its share of the ratio is explained.
interface Lead {
  name: string;
  ratio: number;
  found: { pos: number; ratio: number }[];
  lowered: boolean;
}

/** The multi-suspect search: the range plus the reverted crash windows and the decisions so far. */
interface LeadSearch extends PerfRange {
  windows: MaskWindow[];
  decisions: Decision[];
  lowCut: number;
}

type LeadStep = { kind: "waiting" } | { kind: "next"; remaining: Lead[] };

/**
 * Steps 3 and 4. Benchmarks are searched one at a time, largest slowdown first: two culprits slowing different
 * benchmarks in one range are both found, and the A/B probes against the anchor serve every search.
 */
function searchLeads(range: PerfRange, confirmedTop: Comparison[]): PerfOutcome {
  const decisions: Decision[] = [];
  const search: LeadSearch = {
    ...range,
    windows: crashWindows(range.ctx, range.inv.anchor.index, range.inv.checkpointIndex),
    decisions,
    lowCut: 1 + SCREEN_FRACTION * range.ctx.suite.thresholds.slowdown,
  };
  let remaining: Lead[] = [...confirmedTop]
    .sort((a, b) => b.ratio - a.ratio)
    .map((c) => ({ name: c.name, ratio: c.ratio, found: [], lowered: false }));
  while (remaining.length) {
    const step = advanceLead(search, remaining);
    if (step.kind === "waiting") return waitingOutcome(decisions);
    remaining = step.remaining;
  }
  return { waiting: false, decisions, shifted: true };
}

function explainedAt(lead: Lead, position: number): number {
  return lead.found.reduce((factor, c) => (c.pos <= position ? factor * c.ratio : factor), 1);
}

function picksAtPosition(search: LeadSearch, position: number): string[] | undefined {
  return picksAt(search.windows, search.suspectIndexes[position]!);
}

/** One bisection round for the first lead: probe, wait, drop it, or confirm the boundary it found. */
function advanceLead(search: LeadSearch, remaining: Lead[]): LeadStep {
  const { ctx, suspects, lowCut } = search;
  const lead = remaining[0]!;
  const dropLead: LeadStep = { kind: "next", remaining: remaining.slice(1) };
  const residual = lead.ratio / explainedAt(lead, suspects.length - 1);
  // The geometric midpoint of the (residual) ratio is the widest margin for one culprit. Two
  // culprits of similar size put the midpoint right at the first one's level, where noise picks
  // the boundary: if its confirmation fails, the search runs once more with a low cut, which
  // finds the earliest commit that slowed the benchmark at all.
  const cut = lead.lowered ? Math.min(lowCut, Math.sqrt(residual)) : Math.sqrt(residual);
  const positions = leadPositions(search, lead, cut);
  // Past a few unmeasurable commits the culprit is most likely hidden under a crash: stop spending GPUs on it.
  if (positions.filter((p) => p.state === "skip").length > MAX_SKIPS) return dropLead;
  const step = nextBisectStep(positions, ctx.parallelism);
  if (step.kind === "wait") return { kind: "waiting" };
  if (step.kind === "probe") {
    requestLeadProbes(search, lead, residual, step.positions);
    return { kind: "waiting" };
  }
  if (step.kind !== "boundary") return dropLead;
  // Landing on a culprit this lead already has means the remainder was noise.
  if (lead.found.some((c) => c.pos === step.hi)) return dropLead;
  return confirmLeadBoundary(search, remaining, cut, step.hi);
}

/** Each suspect's state for the lead's benchmark, from its A/B against the anchor; the checkpoint itself is bad. */
function leadPositions(search: LeadSearch, lead: Lead, cut: number): BisectPosition[] {
  const { ctx, inv, suspects, suspectIndexes } = search;
  // The unexplained part is searched over the whole range: a second culprit can sit before the first.
  const positions: BisectPosition[] = suspects.slice(0, -1).map((suspect, position) => {
    const picks = picksAtPosition(search, position);
    const state = abState(ctx, suspect.sha, inv.anchor.sha, picks);
    const ratio = state.runs
      .map((r) => compareAb(r, Infinity))
      .find((c) => c !== null)
      ?.find((c) => c.name === lead.name)?.ratio;
    if (ratio !== undefined) {
      const expected = inv.factorsAt(suspectIndexes[position]!).get(lead.name) ?? 1;
      return { state: (ratio * expected) / explainedAt(lead, position) >= cut ? "bad" : "good", pending: false };
    }
    // A commit that could not be timed (it crashed) is skipped at once: crashes repeat.
    // Under a reverted crash it is timed with the revert cherry-picked instead.
    const crashed = !picks && runsOf(ctx, suspect.sha).some((r) => r.result.status === "crashed");
    return { state: crashed || (!state.pending && state.runs.length > 0) ? "skip" : "unknown", pending: state.pending };
  });
  positions.push({ state: "bad", pending: false });
  return positions;
}

function requestLeadProbes(search: LeadSearch, lead: Lead, residual: number, probePositions: number[]): void {
  const { requests, inv, id, suspects } = search;
  for (const position of probePositions) {
    const sha = suspects[position]!.sha;
    const withPicks = definedPicks({ cherryPicks: picksAtPosition(search, position) });
    const note = withPicks.cherryPicks ? ` with ${withPicks.cherryPicks.map(shaTag).join(", ")} cherry-picked` : "";
    requests.add(
      sha,
      "ab",
      `bisect ${lead.name} ${pct(residual)} between ${shaTag(inv.anchor.sha)} and ${shaTag(inv.checkpoint.sha)}${note}`,
      id,
      {
        baselineSha: inv.anchor.sha,
        ...withPicks,
      },
    );
  }
}

/** Step 4: the A/B of the boundary commit against its own parent (reverted crashes cherry-picked into both). */
function confirmLeadBoundary(search: LeadSearch, remaining: Lead[], cut: number, hi: number): LeadStep {
  const { ctx, requests, id, windows, decisions, lowCut } = search;
  const lead = remaining[0]!;
  const culprit = search.suspects[hi]!;
  const culpritIndex = search.suspectIndexes[hi]!;
  const confirm = abOutcome(
    ctx,
    requests,
    culprit.sha,
    culprit.parent,
    `confirm ${shaTag(culprit.sha)} against its parent`,
    id,
    undefined,
    {
      cherryPicks: picksAt(windows, culpritIndex),
      baselineCherryPicks: picksAt(windows, culpritIndex - 1),
    },
  );
  if (confirm.kind === "waiting") return { kind: "waiting" };
  const confirmed = confirm.kind === "done" ? slowdowns(confirm.comparisons, ctx.suite.thresholds, CONFIRM_FRACTION) : [];
  const mine = confirmed.find((c) => c.name === lead.name);
  if (!mine) {
    // Not confirmed: retry once with the low cut, else give the lead up.
    const retryLow = !lead.lowered && lowCut < cut;
    return { kind: "next", remaining: retryLow ? [{ ...lead, lowered: true }, ...remaining.slice(1)] : remaining.slice(1) };
  }
  if (!decisions.some((d) => d.type === "regression" && d.culprit === culprit.sha)) {
    decisions.push(...regressionDecisions(search, culprit, culprit.parent, confirmed));
  }
  return { kind: "next", remaining: leadsAfterCulprit(search, remaining, hi, mine, confirmed) };
}

/** What this culprit explains comes off the lead; a clear remainder is another culprit. */
function leadsAfterCulprit(search: LeadSearch, remaining: Lead[], hi: number, mine: Comparison, confirmed: Comparison[]): Lead[] {
  const { suspects } = search;
  const lead = remaining[0]!;
  const next = { ...lead, found: [...lead.found, { pos: hi, ratio: mine.ratio }], lowered: false };
  const rest = remaining.slice(1).filter((c) => !confirmed.some((k) => k.name === c.name));
  const more =
    lead.ratio / explainedAt(next, suspects.length - 1) >= 1 + CONFIRM_FRACTION * search.ctx.suite.thresholds.slowdown &&
    suspects.length > next.found.length;
  return more ? [next, ...rest] : rest;
}

function pct(ratio: number): string {
  return `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%`;
}
