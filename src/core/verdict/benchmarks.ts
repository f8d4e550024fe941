import { errorFunction, median, wilcoxonRankSum } from "simple-statistics";
import type { SuiteResult } from "../../model/result.js";
import type { BenchmarkEvidence, RunRecord } from "../../model/engine.js";

/**
 * Slowdown statistics on raw samples. The size of a change is the ratio of medians (robust
 * to the odd preempted repetition); whether it is real is a one-sided Wilcoxon rank-sum
 * test. simple-statistics gives the rank sum and the normal CDF; only the normal
 * approximation's variance (with the tie correction timers' quantised readings need) is here.
 * It is deterministic, unlike a permutation test, so the engine stays a pure function.
 */

export type Level = Map<string, { samples: number[]; median: number }>;

const levelCache = new WeakMap<SuiteResult, { results: SuiteResult[]; level: Level }>();

/** Pooled samples per benchmark over completed runs; cached per run object, since the app and simulator pass the same ones each call. */
export function levelOf(results: SuiteResult[]): Level {
  const done = results.filter((r) => r.status === "completed" && r.benchmarks.length > 0);
  const first = done[0];
  if (!first) return new Map();
  const hit = levelCache.get(first);
  if (hit && hit.results.length === done.length && hit.results.every((r, i) => r === done[i])) return hit.level;
  const pooled = new Map<string, number[]>();
  for (const r of done) for (const b of r.benchmarks) pooled.set(b.name, [...(pooled.get(b.name) ?? []), ...b.samples]);
  const level: Level = new Map([...pooled].map(([name, samples]) => [name, { samples, median: median(samples) }]));
  levelCache.set(first, { results: done, level });
  return level;
}

export function levelOfRuns(runs: RunRecord[]): Level {
  return levelOf(runs.map((r) => r.result));
}

/**
 * The level expected once known effects are undone: `factors` maps a benchmark to the ratio a
 * reverted culprit had added, so the reference is divided by it.
 */
export function scaleLevel(level: Level, factors: Map<string, number>): Level {
  if (!factors.size) return level;
  return new Map(
    [...level].map(([name, l]) => {
      const f = factors.get(name) ?? 1;
      return [name, f === 1 ? l : { samples: l.samples.map((v) => v / f), median: l.median / f }];
    }),
  );
}

/** One-sided p-value that `slower` is not stochastically larger than `faster`. */
export function slowerPValue(slower: number[], faster: number[]): number {
  const n1 = slower.length;
  const n2 = faster.length;
  if (n1 === 0 || n2 === 0) return 1;
  const n = n1 + n2;
  const w = wilcoxonRankSum(slower, faster);
  const counts = new Map<number, number>();
  for (const v of [...slower, ...faster]) counts.set(v, (counts.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) ties += t * t * t - t;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (w - (n1 * (n + 1)) / 2 - 0.5) / Math.sqrt(variance);
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

export type Comparison = BenchmarkEvidence;

/**
 * Compares a candidate level with a reference, benchmark by benchmark. The rank-sum test only
 * runs where the ratio already reaches `minRatio`: it is the costly part and below that size
 * the answer cannot matter.
 */
export function compareLevels(candidate: Level, reference: Level, minRatio: number): Comparison[] {
  const out: Comparison[] = [];
  for (const [name, c] of [...candidate].sort(([a], [b]) => a.localeCompare(b))) {
    const r = reference.get(name);
    if (!r || r.median <= 0) continue;
    const ratio = c.median / r.median;
    out.push({ name, ratio, pValue: ratio >= minRatio ? slowerPValue(c.samples, r.samples) : 1 });
  }
  return out;
}

/** Benchmarks whose slowdown is both at least `fraction` of the threshold and statistically clear. */
export function slowdowns(comparisons: Comparison[], threshold: { slowdown: number; pValue: number }, fraction: number): Comparison[] {
  return comparisons.filter((c) => c.ratio >= 1 + fraction * threshold.slowdown && c.pValue < threshold.pValue);
}

/** The interleaved A/B run as a comparison, or null when either half has no timings. */
export function compareAb(run: RunRecord, minRatio: number): Comparison[] | null {
  if (!run.baselineResult || run.result.status !== "completed" || run.baselineResult.status !== "completed") return null;
  const suspect = levelOf([run.result]);
  const base = levelOf([run.baselineResult]);
  if (!suspect.size || !base.size) return null;
  return compareLevels(suspect, base, minRatio);
}
