import { describe, expect, it } from "vitest";
import { decide } from "../../../src/core/verdict/engine.js";
import { simulate, type EngineCall } from "../../../src/dev/sim/driver.js";
import type { SimOptions } from "../../../src/dev/sim/model.js";
import type { Decision } from "../../../src/model/engine.js";

/**
 * The windowed engine against the whole-history one, at every call of many simulated streams: the
 * simulator drives the engine over its window and carry, and each call is replayed over the full
 * history. The only difference allowed is that flaky reports of commits before the correctness
 * walk's resume point (returned by earlier calls) are not repeated.
 *
 * WINDOW_STREAMS=N runs N seeds per option set instead of the quick default; WINDOW_COMMITS=N
 * scales every stream to N commits.
 */

const SEEDS = Number(process.env.WINDOW_STREAMS ?? 3);
const COMMITS = process.env.WINDOW_COMMITS === undefined ? undefined : Number(process.env.WINDOW_COMMITS);

/**
 * `window`: the longest window a stream of the set may need. Undefined where streams keep a question
 * open for long: crashes that hide every test for a hundred commits, a crash nobody can bisect past
 * without cherry-picks, an overloaded single GPU with culprits left unfound; exactness is checked
 * all the same.
 */
const OPTION_SETS: { options: Partial<SimOptions>; window?: number }[] = [
  { options: { commits: 300 }, window: 160 },
  { options: { commits: 300, flakeRate: 0.15, noise: 0.03, gpus: 3 }, window: 160 },
  { options: { commits: 250, culpritRate: 0.06, crashShare: 0.5, breakFlakyTests: true } },
  { options: { commits: 250, culpritRate: 0.06, crashShare: 0.5, cherryPick: false } },
  { options: { commits: 250, culpritRate: 0.05, correctnessShare: 0.2, slowdown: 0.1, noise: 0.02, gpus: 4 }, window: 160 },
  { options: { commits: 250, culpritRate: 0.05, flakeRate: 0.1, flakyTests: 6, gpus: 1, maxPushSize: 6 } },
];

/** What the whole-history call decides, less the flaky reports the window's carry has already passed. */
function expectedFromFull(call: EngineCall): Decision[] {
  const full = call.full();
  const decisions = decide(full);
  const resumeAt = call.input.carry?.correctness.resumeAt;
  if (resumeAt === undefined) return decisions;
  const index = new Map(full.commits.map((c, i) => [c.sha, i] as const));
  const resumeIndex = index.get(resumeAt)!;
  return decisions.filter((d) => d.type !== "flaky" || index.get(d.sha)! >= resumeIndex);
}

function firstDifference(a: Decision[], b: Decision[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `decision ${i}:\n  windowed: ${x}\n  full:     ${y}`;
  }
  return undefined;
}

interface StreamCheck {
  calls: number;
  longestWindow: number;
  commits: number;
}

function checkStream(options: Partial<SimOptions>): StreamCheck {
  let calls = 0;
  let longestWindow = 0;
  const trace = simulate(options, decide, (call) => {
    calls++;
    longestWindow = Math.max(longestWindow, call.windowLength);
    const difference = firstDifference(call.decisions, expectedFromFull(call));
    if (difference) {
      throw new Error(
        `windowed and full engine differ at call ${calls} of ${JSON.stringify(options)} (window of ${call.windowLength} commits)\n${difference}`,
      );
    }
  });
  return { calls, longestWindow, commits: trace.chain.length };
}

describe("windowed engine", () => {
  for (const [set, { options, window }] of OPTION_SETS.entries()) {
    it(`decides as the whole-history engine at every call: option set ${set} ${JSON.stringify(options)}`, () => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const check = checkStream({ ...options, ...(COMMITS ? { commits: COMMITS } : {}), seed: seed * 7 + set });
        expect(check.calls).toBeGreaterThan(check.commits / 2);
        // Bounded by open investigations, not by the stream.
        if (window !== undefined) expect(check.longestWindow).toBeLessThan(window);
      }
    }, 600_000);
  }
});
