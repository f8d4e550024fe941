import type { SuiteContext } from "./context.js";
import { walkFromStart, type CorrectnessStart } from "./correctness.js";
import { FlakeHistory } from "./flakes.js";
import type { PerformanceStart } from "./performance.js";
import type { EngineCarry } from "../../model/engine.js";
import { shortSha } from "../../model/sha.js";

/**
 * Turns a carry back into the states the walks resume from. Commits the carry names that lie
 * before the window get index -1: the walks only compare such indexes, never search from them
 * (`advanceWindow` keeps every commit a walk may still search from inside the window).
 */

function indexIn(ctx: SuiteContext, sha: string): number {
  return ctx.indexOf.get(sha) ?? -1;
}

function requireInWindow(ctx: SuiteContext, sha: string, what: string): number {
  const index = ctx.indexOf.get(sha);
  if (index === undefined) {
    throw new Error(`the carry's ${what} ${shortSha(sha)} is not in commits: pass the commits from advanceWindow's \`from\` on`);
  }
  return index;
}

export function correctnessStart(ctx: SuiteContext, carry: EngineCarry | undefined): CorrectnessStart {
  if (!carry) return walkFromStart(ctx);
  const { resumeAt, anchor, broken, lastPass, reported, lastSeen, flakes } = carry.correctness;
  const fromIndex = requireInWindow(ctx, resumeAt, "correctness resume point");
  return {
    fromIndex,
    anchor: { index: indexIn(ctx, anchor), sha: anchor, broken: new Set(broken) },
    lastPass: new Map(Object.entries(lastPass).map(([test, sha]) => [test, { index: indexIn(ctx, sha), sha }])),
    reported,
    lastSeen: new Map(Object.entries(lastSeen)),
    history: new FlakeHistory(ctx, flakes, fromIndex),
  };
}

export function performanceStart(ctx: SuiteContext, carry: EngineCarry | undefined): PerformanceStart {
  if (!carry) return { afterIndex: -1, anchors: [], effects: new Map() };
  const { through, anchors, effects } = carry.performance;
  return {
    afterIndex: through === undefined ? -1 : indexIn(ctx, through),
    anchors: anchors.map((a) => ({ ...a, index: requireInWindow(ctx, a.sha, "performance anchor") })),
    effects: new Map(effects.map((e) => [e.culprit, { title: e.title, evidence: e.evidence.map((c) => ({ ...c })) }])),
  };
}
