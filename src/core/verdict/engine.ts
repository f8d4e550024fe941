import { buildContext, checkpoints, hasPending, runsOf, Requests, type MaskScan, type SuiteContext } from "./context.js";
import { correctnessTrack, type CorrectnessObserver } from "./correctness.js";
import { performanceTrack, type PerformanceObserver } from "./performance.js";
import { correctnessStart, performanceStart } from "./resume.js";
import type { Decision, DecisionEngine, EngineInput } from "../../model/engine.js";
import type { JobRequest } from "../../model/jobs.js";
import { shaTag } from "../../model/sha.js";

/**
 * The decision engine: a pure function of one suite's input (see `types.ts`). Two tracks read
 * the same runs - correctness (retries, flake classification, bisection) and performance
 * (screening, interleaved A/B confirmation, A/B bisection, rebaselines) - and share one request
 * collector, so a job is never asked for twice and never while it is in `runs` or `pending`.
 *
 * It asks for `retry`, `bisect`, `ab` and `baseline` jobs, never `landed` ones: the app
 * schedules those for the newest commit of each push, and untested commits are what bisection
 * is for. `baseline` jobs measure a rebaselined commit, and a revert commit that was not
 * tested: a revert restores the good state, and measuring that state right away keeps a new
 * regression landing soon after from cancelling out, unseen, against the revert.
 *
 * `flaky` and `report` decisions are re-derived from the whole history on every call, like
 * everything else; the caller tells each once. Regressions are filtered by `declared`. With
 * `input.carry` the walks resume where the carry left them (see `window.ts`), so the flaky
 * decisions and reports of checkpoints before the correctness walk's resume point are not repeated.
 */
export const decide: DecisionEngine = (input) => evaluate(input).decisions;

/** What `advanceWindow` watches while the engine walks. */
export interface WalkObservers {
  correctness?: CorrectnessObserver;
  performance?: PerformanceObserver;
  /** Where each walk records the `maskWindows` scans it makes. */
  maskScans?: { correctness: MaskScan[]; performance: MaskScan[] };
}

export interface Evaluation {
  ctx: SuiteContext;
  decisions: Decision[];
  /** The jobs the `run` decisions ask for. */
  requests: JobRequest[];
}

/** One engine pass; `watch` sets observers up on the context the walks read. */
export function evaluate(input: EngineInput, watch: (ctx: SuiteContext) => WalkObservers = () => ({})): Evaluation {
  const ctx = buildContext(input);
  const observers = watch(ctx);
  const requests = new Requests(ctx);
  if (observers.maskScans) ctx.maskScans = observers.maskScans.correctness;
  const verdicts = correctnessTrack(ctx, requests, correctnessStart(ctx, input.carry), observers.correctness);
  if (observers.maskScans) ctx.maskScans = observers.maskScans.performance;
  verdicts.push(...performanceTrack(ctx, requests, performanceStart(ctx, input.carry), observers.performance));
  measureReverts(ctx, requests, input);
  const seen = new Set<string>();
  const unique: Decision[] = [];
  for (const d of verdicts) {
    const key =
      d.type === "regression"
        ? `r:${d.culprit}`
        : d.type === "flaky"
          ? `f:${d.sha}:${d.tests.join(",")}`
          : d.type === "report"
            ? `p:${d.kind}:${d.sha}:${d.tests.join(",")}`
            : "";
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  const jobs = requests.decisions.flatMap((d) => (d.type === "run" ? [d.job] : []));
  return { ctx, decisions: [...requests.decisions, ...unique], requests: jobs };
}

/** Index of the first checkpoint ever (-1 when a carry says it lies before the window), or undefined before any. */
export function firstCheckpointIndex(ctx: SuiteContext, input: EngineInput): number | undefined {
  if (input.carry) return ctx.indexOf.get(input.carry.firstCheckpoint) ?? -1;
  const first = checkpoints(ctx)[0];
  return first && ctx.indexOf.get(first.sha)!;
}

function measureReverts(ctx: SuiteContext, requests: Requests, input: EngineInput): void {
  for (const c of unmeasuredReverts(ctx, input)) {
    if (hasPending(ctx, c.sha)) continue;
    requests.add(c.sha, "baseline", `measure the state restored by revert ${shaTag(c.sha)}`, `revert:${shaTag(c.sha)}`);
  }
}

/** Revert commits after the first checkpoint with no run of their own yet. */
export function unmeasuredReverts(ctx: SuiteContext, input: EngineInput): SuiteContext["commits"] {
  const first = firstCheckpointIndex(ctx, input);
  if (first === undefined) return [];
  return ctx.commits.slice(first + 1).filter((c) => c.isRevert && c.suites.includes(ctx.name) && !runsOf(ctx, c.sha).length);
}
