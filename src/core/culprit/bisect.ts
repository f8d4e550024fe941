import type { LandedCommit } from "../../model/engine.js";

/**
 * Culprit search over a suspect range. The range is always "last good tested commit
 * (exclusive) .. first bad tested commit (inclusive)", narrowed to the commits that touch the
 * suite: a commit whose files no suite path covers cannot change the suite's outcome, so it
 * is never probed and never blamed.
 */

/** `skip`: probed but unmeasurable (it crashed, say), like `git bisect skip`. */
export type ProbeState = "good" | "bad" | "unknown" | "skip";

export interface BisectPosition {
  state: ProbeState;
  /** A job for this commit is queued or running, so its state may change soon. */
  pending: boolean;
}

export type BisectStep =
  /** `lo` is the last good position (-1: the range's known-good start), `hi` the first bad one. */
  | { kind: "boundary"; lo: number; hi: number }
  | { kind: "probe"; positions: number[] }
  | { kind: "wait" }
  /** Only unmeasurable commits are left between `lo` and `hi`: the culprit is one of them or `hi`. */
  | { kind: "ambiguous"; lo: number; hi: number }
  /** No position is bad: nothing to search (the caller's evidence changed under it). */
  | { kind: "none" };

/** Indexes into `commits` of the suite-touching commits strictly after `fromIndex` up to and including `toIndex`. */
export function suspectsInRange(commits: LandedCommit[], fromIndex: number, toIndex: number, suite: string): number[] {
  const out: number[] = [];
  for (let i = fromIndex + 1; i <= toIndex; i++) if (commits[i]?.suites.includes(suite)) out.push(i);
  return out;
}

/**
 * The next step of a k-ary search: with `parallelism` free GPUs, up to that many probes split
 * the open interval evenly, so a round shrinks it by a factor of k+1 instead of 2. The search
 * waits while any commit inside the interval has a job in flight rather than stacking a second
 * round on a stale interval, which keeps repeated calls from spending duplicate jobs.
 */
export function nextBisectStep(positions: BisectPosition[], parallelism: number): BisectStep {
  const hi = positions.findIndex((p) => p.state === "bad");
  if (hi < 0) return { kind: "none" };
  let lo = -1;
  for (let i = hi - 1; i >= 0; i--) {
    if (positions[i]!.state === "good") {
      lo = i;
      break;
    }
  }
  const candidates: number[] = [];
  for (let i = lo + 1; i < hi; i++) if (positions[i]!.state !== "skip") candidates.push(i);
  if (candidates.length === 0) return hi - lo > 1 ? { kind: "ambiguous", lo, hi } : { kind: "boundary", lo, hi };
  if (candidates.some((i) => positions[i]!.pending)) return { kind: "wait" };
  const m = candidates.length;
  const k = Math.min(Math.max(1, Math.floor(parallelism)), m);
  const chosen = new Set<number>();
  for (let j = 1; j <= k; j++) chosen.add(candidates[Math.min(m, Math.max(1, Math.round((j * (m + 1)) / (k + 1)))) - 1]!);
  return { kind: "probe", positions: [...chosen].sort((a, b) => a - b) };
}

/** Past this many unmeasurable commits in one range the culprit is most likely hidden under a crash: searches give up. */
export const MAX_SKIPS = 3;

/** The job budget for one culprit on a range of `suspects` commits: ceil(log2(range)) + 1. */
export function probeBudget(suspects: number): number {
  return Math.ceil(Math.log2(Math.max(1, suspects))) + 1;
}
