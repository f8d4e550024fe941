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
import type { Decision, LandedCommit } from "../../model/engine.js";
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

interface PerfAnchor {
  index: number;
  sha: string;
  /** Set when the level is a recorded rebaseline, for the evidence. */
  note?: string;
}

export function performanceTrack(ctx: SuiteContext, requests: Requests): Decision[] {
  const out: Decision[] = [];
  const t = ctx.suite.thresholds;
  const rebaselines = [...ctx.rebaselines].sort((a, b) => ctx.indexOf.get(a.sha)! - ctx.indexOf.get(b.sha)!);
  let next = 0;
  // The levels later commits are held to, oldest first; the last is the latest accepted one.
  let anchors: PerfAnchor[] = [];
  // Slowdowns this walk confirmed, by culprit: a revert of one is expected to take its ratio back off,
  // and without that a new slowdown landing next to the revert would cancel against it unseen.
  const effects = new Map<string, Comparison[]>();
  const factorsBetween = (from: number, to: number): Map<string, number> => {
    const out = new Map<string, number>();
    for (let i = from + 1; i <= to; i++) {
      const c = ctx.commits[i]!;
      if (!c.isRevert) continue;
      for (const [culprit, evidence] of effects) {
        if (c.title !== revertTitle(ctx.commits[ctx.indexOf.get(culprit)!]!.title)) continue;
        for (const e of evidence) out.set(e.name, (out.get(e.name) ?? 1) * e.ratio);
      }
    }
    return out;
  };
  for (const x of checkpoints(ctx)) {
    const index = ctx.indexOf.get(x.sha)!;
    const level = levelOfRuns(runsOf(ctx, x.sha));
    if (!level.size) continue;
    // A rebaseline accepts its commit's level as the expectation: later commits compare to it, earlier suspects are forgiven.
    while (next < rebaselines.length && ctx.indexOf.get(rebaselines[next]!.sha)! <= index) {
      const r = rebaselines[next++]!;
      const rIndex = ctx.indexOf.get(r.sha)!;
      const latest = anchors[anchors.length - 1];
      if (latest && rIndex <= latest.index) continue;
      const runs = runsOf(ctx, r.sha);
      if (!levelOfRuns(runs).size) {
        if (runs.length >= AB_ATTEMPTS) continue;
        requests.ensureRuns(
          r.sha,
          runs.length + 1,
          "baseline",
          `measure the rebaselined level at ${shaTag(r.sha)}`,
          `rebaseline:${shaTag(r.sha)}`,
        );
        return out;
      }
      anchors = [{ index: rIndex, sha: r.sha, note: `rebaseline at ${shaTag(r.sha)} by ${r.by} (${r.at}): ${r.reason}` }];
    }
    const latest = anchors[anchors.length - 1];
    if (!latest || latest.sha === x.sha) {
      if (!latest) anchors = [{ index, sha: x.sha }];
      continue;
    }
    // The latest level first, then the older ones: a step that hid in one job's noise when it
    // landed still shows against the levels before it at the next checkpoint. A dismissed alarm
    // against one level does not excuse the others.
    let shifted = false;
    for (const anchor of [...anchors].reverse()) {
      const from = anchor.index;
      const expected = scaleLevel(levelOfRuns(runsOf(ctx, anchor.sha)), factorsBetween(from, index));
      const suspicious = slowdowns(compareLevels(level, expected, 1 + SCREEN_FRACTION * t.slowdown), t, SCREEN_FRACTION);
      if (!suspicious.length) continue;
      const inv = investigate(ctx, requests, { anchor, x, xIndex: index, suspicious, effects, factorsAt: (i) => factorsBetween(from, i) });
      out.push(...inv.decisions);
      if (inv.waiting) return out;
      shifted = inv.shifted;
      if (shifted) break;
    }
    // Confirmed, dismissed or clean, this level is what later commits are held to; a revert brings
    // it back down. Past a confirmed shift (blamed or not) the older levels would only find it again.
    anchors = shifted ? [{ index, sha: x.sha }] : [...anchors, { index, sha: x.sha }].slice(-RECENT_LEVELS);
  }
  return out;
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
  const t = ctx.suite.thresholds;
  const state = abState(ctx, sha, base, picks.cherryPicks, picks.baselineCherryPicks);
  const usable = state.runs.filter((r) => compareAb(r, Infinity) !== null);
  if (usable.length) {
    const comparisons = compareLevels(
      levelOf(usable.map((r) => r.result)),
      scaleLevel(levelOf(usable.map((r) => r.baselineResult!)), adjust),
      1 + SCREEN_FRACTION * t.slowdown,
    );
    const borderline = !slowdowns(comparisons, t, CONFIRM_FRACTION).length && slowdowns(comparisons, t, SCREEN_FRACTION).length > 0;
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
  x: LandedCommit;
  xIndex: number;
  suspicious: Comparison[];
  effects: Map<string, Comparison[]>;
  /** Known reverted effects between the anchor and commit index `i`. */
  factorsAt: (i: number) => Map<string, number>;
}

/** `shifted`: the interleaved A/B of the range confirmed a slowdown, whether or not a culprit could be blamed. */
interface PerfOutcome {
  waiting: boolean;
  decisions: Decision[];
  shifted: boolean;
}

function investigate(ctx: SuiteContext, requests: Requests, inv: PerfInvestigation): PerfOutcome {
  const { anchor, x, xIndex, suspicious } = inv;
  const id = `performance:${shaTag(anchor.sha)}..${shaTag(x.sha)}`;
  const waiting = { waiting: true, decisions: [], shifted: false };
  const dismissed = { waiting: false, decisions: [], shifted: false };
  const suspectIndexes = suspectsInRange(ctx.commits, anchor.index, xIndex, ctx.name);
  const suspects = suspectIndexes.map((i) => ctx.commits[i]!);
  // A level shift with no suite commit in range is the machine, not the code.
  if (!suspects.length) return dismissed;
  const t = ctx.suite.thresholds;
  const top = suspects[suspects.length - 1]!;
  const topBase = suspects.length === 1 ? top.parent : anchor.sha;
  const screened = suspicious.map((c) => `${c.name} ${pct(c.ratio)}`).join(", ");
  const topAdjust = suspects.length === 1 ? new Map<string, number>() : inv.factorsAt(suspectIndexes[suspectIndexes.length - 1]!);
  const topAb = abOutcome(
    ctx,
    requests,
    top.sha,
    topBase,
    `${screened} at ${shaTag(x.sha)}: interleaved A/B against ${shaTag(topBase)}`,
    id,
    topAdjust,
  );
  if (topAb.kind === "waiting") return waiting;
  if (topAb.kind === "failed") return dismissed;
  const confirmedTop = slowdowns(topAb.comparisons, t, CONFIRM_FRACTION);
  if (!confirmedTop.length) return dismissed;
  const regression = (culprit: LandedCommit, base: string, evidence: Comparison[]): Decision[] => {
    inv.effects.set(culprit.sha, evidence);
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
      range: { from: anchor.sha, to: x.sha, suspects: suspects.length },
    };
    return [decision];
  };
  if (suspects.length === 1) return { waiting: false, decisions: regression(top, topBase, confirmedTop), shifted: true };

  // Benchmarks are searched one at a time, largest slowdown first: two culprits slowing different
  // benchmarks in one range are both found, and the A/B probes against the anchor serve every search.
  const decisions: Decision[] = [];
  const windows = crashWindows(ctx, anchor.index, xIndex);
  const picks = (p: number) => picksAt(windows, suspectIndexes[p]!);
  // A lead is one benchmark's slowdown still to place, with the culprits of it found so far in
  // this range (suspect position and ratio): from each one on, its share of the ratio is explained.
  interface Lead {
    name: string;
    ratio: number;
    found: { pos: number; ratio: number }[];
    lowered: boolean;
  }
  const explainedAt = (lead: Lead, p: number) => lead.found.reduce((f, c) => (c.pos <= p ? f * c.ratio : f), 1);
  let remaining: Lead[] = [...confirmedTop]
    .sort((a, b) => b.ratio - a.ratio)
    .map((c) => ({ name: c.name, ratio: c.ratio, found: [], lowered: false }));
  const lowCut = 1 + SCREEN_FRACTION * t.slowdown;
  while (remaining.length) {
    const lead = remaining[0]!;
    const residual = lead.ratio / explainedAt(lead, suspects.length - 1);
    // The geometric midpoint of the (residual) ratio is the widest margin for one culprit. Two
    // culprits of similar size put the midpoint right at the first one's level, where noise picks
    // the boundary: if its confirmation fails, the search runs once more with a low cut, which
    // finds the earliest commit that slowed the benchmark at all.
    const cut = lead.lowered ? Math.min(lowCut, Math.sqrt(residual)) : Math.sqrt(residual);
    // The unexplained part is searched over the whole range: a second culprit can sit before the first.
    const positions: BisectPosition[] = suspects.slice(0, -1).map((s, p) => {
      const state = abState(ctx, s.sha, anchor.sha, picks(p));
      const ratio = state.runs
        .map((r) => compareAb(r, Infinity))
        .find((c) => c !== null)
        ?.find((c) => c.name === lead.name)?.ratio;
      if (ratio !== undefined) {
        const expected = inv.factorsAt(suspectIndexes[p]!).get(lead.name) ?? 1;
        return { state: (ratio * expected) / explainedAt(lead, p) >= cut ? "bad" : "good", pending: false };
      }
      // A commit that could not be timed (it crashed) is skipped at once: crashes repeat.
      // Under a reverted crash it is timed with the revert cherry-picked instead.
      const crashed = !picks(p) && runsOf(ctx, s.sha).some((r) => r.result.status === "crashed");
      return { state: crashed || (!state.pending && state.runs.length > 0) ? "skip" : "unknown", pending: state.pending };
    });
    positions.push({ state: "bad", pending: false });
    // Past a few unmeasurable commits the culprit is most likely hidden under a crash: stop spending GPUs on it.
    if (positions.filter((p) => p.state === "skip").length > MAX_SKIPS) {
      remaining = remaining.slice(1);
      continue;
    }
    const step = nextBisectStep(positions, ctx.parallelism);
    if (step.kind === "wait") return { ...waiting, decisions };
    if (step.kind === "probe") {
      for (const p of step.positions) {
        const sha = suspects[p]!.sha;
        const withPicks = definedPicks({ cherryPicks: picks(p) });
        const note = withPicks.cherryPicks ? ` with ${withPicks.cherryPicks.map(shaTag).join(", ")} cherry-picked` : "";
        requests.add(sha, "ab", `bisect ${lead.name} ${pct(residual)} between ${shaTag(anchor.sha)} and ${shaTag(x.sha)}${note}`, id, {
          baselineSha: anchor.sha,
          ...withPicks,
        });
      }
      return { ...waiting, decisions };
    }
    if (step.kind !== "boundary") {
      remaining = remaining.slice(1);
      continue;
    }
    const culprit = suspects[step.hi]!;
    const cIndex = suspectIndexes[step.hi]!;
    // Landing on a culprit this lead already has means the remainder was noise.
    if (lead.found.some((c) => c.pos === step.hi)) {
      remaining = remaining.slice(1);
      continue;
    }
    const confirm = abOutcome(
      ctx,
      requests,
      culprit.sha,
      culprit.parent,
      `confirm ${shaTag(culprit.sha)} against its parent`,
      id,
      undefined,
      {
        cherryPicks: picksAt(windows, cIndex),
        baselineCherryPicks: picksAt(windows, cIndex - 1),
      },
    );
    if (confirm.kind === "waiting") return { ...waiting, decisions };
    const confirmed = confirm.kind === "done" ? slowdowns(confirm.comparisons, t, CONFIRM_FRACTION) : [];
    const mine = confirmed.find((c) => c.name === lead.name);
    if (mine && !decisions.some((d) => d.type === "regression" && d.culprit === culprit.sha)) {
      decisions.push(...regression(culprit, culprit.parent, confirmed));
    }
    if (!mine) {
      if (!lead.lowered && lowCut < cut) remaining = [{ ...lead, lowered: true }, ...remaining.slice(1)];
      else remaining = remaining.slice(1);
      continue;
    }
    // What this culprit explains comes off the lead; a clear remainder is another culprit.
    const next = { ...lead, found: [...lead.found, { pos: step.hi, ratio: mine.ratio }], lowered: false };
    const rest = remaining.slice(1).filter((c) => !confirmed.some((k) => k.name === c.name));
    const more =
      lead.ratio / explainedAt(next, suspects.length - 1) >= 1 + CONFIRM_FRACTION * t.slowdown && suspects.length > next.found.length;
    remaining = more ? [next, ...rest] : rest;
  }
  return { waiting: false, decisions, shifted: true };
}

function pct(ratio: number): string {
  return `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%`;
}
