import { buildContext, checkpoints, hasPending, runsOf, Requests, type SuiteContext } from "./context.js";
import { correctnessTrack } from "./correctness.js";
import { performanceTrack } from "./performance.js";
import type { Decision, DecisionEngine } from "../../model/engine.js";
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
 * `flaky` decisions are re-derived from the whole history on every call, like everything
 * else; the caller reports each (suite, sha, tests) once. Regressions are filtered by `declared`.
 */
export const decide: DecisionEngine = (input) => {
  const ctx = buildContext(input);
  const requests = new Requests(ctx);
  const verdicts = [...correctnessTrack(ctx, requests), ...performanceTrack(ctx, requests)];
  measureReverts(ctx, requests);
  const seen = new Set<string>();
  const unique: Decision[] = [];
  for (const d of verdicts) {
    const key = d.type === "regression" ? `r:${d.culprit}` : d.type === "flaky" ? `f:${d.sha}:${d.tests.join(",")}` : "";
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  return [...requests.decisions, ...unique];
};

function measureReverts(ctx: SuiteContext, requests: Requests): void {
  const first = checkpoints(ctx)[0];
  if (!first) return;
  for (const c of ctx.commits.slice(ctx.indexOf.get(first.sha)! + 1)) {
    if (!c.isRevert || !c.suites.includes(ctx.name) || runsOf(ctx, c.sha).length || hasPending(ctx, c.sha)) continue;
    requests.add(c.sha, "baseline", `measure the state restored by revert ${shaTag(c.sha)}`, `revert:${shaTag(c.sha)}`);
  }
}
