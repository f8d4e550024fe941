import { describe, expect, it } from "vitest";
import { FORGET_AFTER_CHECKPOINTS } from "../../../src/core/verdict/correctness.js";
import { decide } from "../../../src/core/verdict/engine.js";
import { advanceWindow } from "../../../src/core/verdict/window.js";
import { simulate, type EngineCall } from "../../../src/dev/sim/driver.js";
import type { SimOptions } from "../../../src/dev/sim/model.js";
import { Rng } from "../../../src/dev/sim/prng.js";
import type { Decision, EngineInput, EngineWindow, RunRecord } from "../../../src/model/engine.js";
import type { JobPurpose } from "../../../src/model/jobs.js";
import { shaTag } from "../../../src/model/sha.js";
import { SUITE, history, result, revertOf, sha, type Spec } from "./harness.js";

/**
 * The windowed engine against the whole-history one, at every call of many simulated streams: the
 * simulator drives the engine over its window and carry, and each call is replayed over the full
 * history. The only difference allowed is that flaky reports and reports of commits before the
 * correctness walk's resume point (returned by earlier calls) are not repeated.
 *
 * WINDOW_STREAMS=N runs N seeds per option set instead of the quick default; WINDOW_COMMITS=N
 * scales every stream to N commits.
 */

const SEEDS = Number(process.env.WINDOW_STREAMS ?? 5);
const COMMITS = process.env.WINDOW_COMMITS === undefined ? undefined : Number(process.env.WINDOW_COMMITS);

/**
 * `window`: the longest window a stream of the set may need. Undefined where streams keep a question
 * open for long: crashes that hide every test for a hundred commits, a crash nobody can bisect past
 * without cherry-picks, an overloaded single GPU with culprits left unfound, tests renamed more often
 * than `FORGET_AFTER_CHECKPOINTS` checkpoints apart (some renamed test is then always remembered, and
 * no checkpoint sees every remembered test pass); exactness is checked all the same.
 */
const OPTION_SETS: { options: Partial<SimOptions>; window?: number }[] = [
  { options: { commits: 300 }, window: 160 },
  { options: { commits: 300, flakeRate: 0.15, noise: 0.03, gpus: 3 }, window: 160 },
  { options: { commits: 250, culpritRate: 0.06, crashShare: 0.5, breakFlakyTests: true } },
  { options: { commits: 250, culpritRate: 0.06, crashShare: 0.5, cherryPick: false } },
  { options: { commits: 250, culpritRate: 0.05, correctnessShare: 0.2, slowdown: 0.1, noise: 0.02, gpus: 4 }, window: 160 },
  { options: { commits: 250, culpritRate: 0.05, flakeRate: 0.1, flakyTests: 6, gpus: 1, maxPushSize: 6 } },
  { options: { commits: 250, culpritRate: 0.04, flakeRate: 0.3 } },
  { options: { commits: 250, culpritRate: 0.08, noise: 0.03, correctnessShare: 0.4, crashShare: 0.3, gpus: 6, cherryPick: false } },
  // A renamed test's last pass holds the window until it is forgotten, some 50 checkpoints later.
  { options: { commits: 700, renameEvery: 250 }, window: 320 },
  { options: { commits: 400, culpritRate: 0.05, flakeRate: 0.15, breakFlakyTests: true, renameEvery: 3 } },
  // Hosts as evidence: a GPU failing a test from hour 5 on is quarantined, its results discounted, canaries re-run.
  { options: { commits: 300, gpus: 4, gpusPerHost: 1, faults: [{ gpus: [1], from: 300, test: "test_03" }] } },
  {
    options: {
      commits: 250,
      gpus: 4,
      gpusPerHost: 2,
      testFlakeRates: { test_19: 0.3 },
      faults: [{ gpus: [2, 3], from: 200, to: 900, test: "test_05", driver: "d2" }],
    },
  },
];

/** What the whole-history call decides, less the flaky reports the window's carry has already passed. */
function expectedFromFull(call: EngineCall): Decision[] {
  const full = call.full();
  const decisions = decide(full);
  const resumeAt = call.input.carry?.correctness.resumeAt;
  if (resumeAt === undefined) return decisions;
  const index = new Map(full.commits.map((c, i) => [c.sha, i] as const));
  const resumeIndex = index.get(resumeAt)!;
  // Reports, like flaky reports, are about the checkpoint whose investigation made them (`range.to`).
  const about = (d: Decision) => (d.type === "report" ? (d.range?.to ?? d.sha) : d.type === "flaky" ? d.sha : undefined);
  return decisions.filter((d) => about(d) === undefined || index.get(about(d)!)! >= resumeIndex);
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

describe("advanceWindow", () => {
  const rng = new Rng(3);
  const run = (i: number, purpose: JobPurpose, spec: Spec): RunRecord => ({
    job: { sha: sha(i), suite: SUITE.name, purpose, attempt: purpose === "landed" ? 0 : 1 },
    result: result(sha(i), { bench: { k: 100 }, ...spec }, rng),
  });
  const inputOf = (n: number, runs: RunRecord[]): EngineInput => ({
    suite: SUITE,
    commits: history(n),
    runs,
    pending: [],
    rebaselines: [],
    declared: [],
    parallelism: 1,
  });
  /** What a caller keeps: the commits from `from` on, their runs, and the carry (through JSON, as a store keeps it). */
  const windowOf = (input: EngineInput, window: EngineWindow): EngineInput => {
    const from = input.commits.findIndex((c) => c.sha === window.from);
    const commits = input.commits.slice(from);
    const kept = new Set(commits.map((c) => c.sha));
    return { ...input, commits, runs: input.runs.filter((r) => kept.has(r.job.sha)), carry: JSON.parse(JSON.stringify(window.carry)) };
  };
  const evens = (n: number, spec: (i: number) => Spec) => Array.from({ length: n / 2 }, (_, k) => run(2 * k, "landed", spec(2 * k)));

  it("keeps a clean history's window to the last accepted levels", () => {
    const input = inputOf(
      20,
      evens(20, () => ({})),
    );
    const window = advanceWindow(input);
    // The walks resume at the newest checkpoint; the performance walk's three levels before it stay in the window.
    expect(window.carry?.correctness.resumeAt).toBe(sha(18));
    expect(window.carry?.performance.anchors.map((a) => a.sha)).toEqual([sha(12), sha(14), sha(16)]);
    expect(window.from).toBe(sha(12));
    expect(decide(windowOf(input, window))).toEqual(decide(input));
  });

  it("keeps an open investigation's last good commit in the window", () => {
    // t_a breaks at commit 15: checkpoint 16 fails anew, so it is retried there and at last good 14.
    const input = inputOf(
      20,
      evens(18, (i) => ({ fail: i >= 15 ? ["t_a"] : [] })),
    );
    const window = advanceWindow(input);
    expect(window.carry?.correctness.resumeAt).toBe(sha(14));
    expect(window.from).toBe(sha(8));
    const decisions = decide(input);
    expect(decisions.filter((d) => d.type === "run").map((d) => (d.type === "run" ? d.job.sha : ""))).toEqual([sha(16), sha(14)]);
    expect(decide(windowOf(input, window))).toEqual(decisions);
  });

  it("folds only after a new failure's retries are in, and then reaches the same verdict", () => {
    const base = evens(18, (i) => ({ fail: i >= 15 ? ["t_a"] : [] }));
    const input = inputOf(20, [...base, run(16, "retry", { fail: ["t_a"] }), run(14, "retry", {})]);
    const first = advanceWindow(input);
    const windowed = windowOf(input, first);
    expect(decide(windowed)).toEqual(decide(input));
    // Folding again from the windowed input moves nothing the search still needs.
    const second = advanceWindow(windowed);
    expect(decide(windowOf(windowed, second))).toEqual(decide(input));
  });

  it("keeps rebaselines the performance walk has not reached yet", () => {
    const at = (i: number) => ({ suite: SUITE.name, sha: sha(i), reason: "new kernel", by: "alice", at: "2026-11-25T00:00:00Z" });
    const runs = evens(20, (i) => ({ bench: { k: i > 10 ? 110 : 100 } }));
    const input = { ...inputOf(20, runs), rebaselines: [at(12), at(19)] };
    const window = advanceWindow(input);
    // The rebaseline at 12 is the first of the accepted levels; the one at 19 still waits for a checkpoint.
    expect(window.carry?.performance.anchors.map((a) => a.sha)).toEqual([sha(12), sha(14), sha(16)]);
    expect(window.carry?.performance.anchors[0]!.note).toContain("rebaseline");
    expect(window.from).toBe(sha(12));
    const windowed = { ...windowOf(input, window), rebaselines: [at(12), at(19)] };
    expect(decide(windowed)).toEqual(decide(input));
    const more = [...runs, run(19, "landed", { bench: { k: 110 } })];
    const later = { ...windowed, runs: [...windowed.runs, more[more.length - 1]!] };
    expect(decide(later)).toEqual(decide({ ...input, runs: more }));
  });

  it("folds past a revert of a commit nobody declared, which no walk read", () => {
    // Someone reverted commit 5 by hand at 8; the performance walk could still blame 5, but nothing searched over it.
    const input = {
      ...inputOf(
        20,
        evens(20, () => ({})),
      ),
      commits: revertOf(history(20), 8, 5),
      capabilities: { cherryPick: true },
    };
    const window = advanceWindow(input);
    expect(window.carry?.correctness.resumeAt).toBe(sha(18));
    expect(decide(windowOf(input, window))).toEqual(decide(input));
  });

  it("says what to pass when the window lost its resume point", () => {
    const input = inputOf(
      20,
      evens(20, () => ({})),
    );
    const window = advanceWindow(input);
    expect(() => decide({ ...windowOf(input, window), commits: input.commits.slice(19) })).toThrow(/advanceWindow's `from`/);
  });
});

describe("forgetting tests that stopped appearing", () => {
  const N = FORGET_AFTER_CHECKPOINTS;
  const rng = new Rng(5);
  const run = (i: number, spec: Spec, purpose: JobPurpose = "landed", attempt = 0): RunRecord => ({
    job: { sha: sha(i), suite: SUITE.name, purpose, attempt },
    result: result(sha(i), { bench: {}, ...spec }, rng),
  });
  const inputOf = (n: number, runs: RunRecord[], declared: string[] = []): EngineInput => ({
    suite: SUITE,
    commits: history(n),
    runs,
    pending: [],
    rebaselines: [],
    declared,
    parallelism: 1,
  });
  const windowOf = (input: EngineInput, window: EngineWindow): EngineInput => {
    const from = input.commits.findIndex((c) => c.sha === window.from);
    const kept = new Set(input.commits.slice(from).map((c) => c.sha));
    return {
      ...input,
      commits: input.commits.slice(from),
      runs: input.runs.filter((r) => kept.has(r.job.sha)),
      declared: input.declared.filter((d) => kept.has(d)),
      carry: JSON.parse(JSON.stringify(window.carry)),
    };
  };
  /**
   * Lands commits 0..n-1 one at a time, each tested (`runsAt(i)`), and calls the engine on the
   * window after each as the app does, checking every call against the whole history.
   */
  const stream = (n: number, runsAt: (i: number) => RunRecord[], declared: string[] = []) => {
    const runs: RunRecord[] = [];
    const windowStarts: number[] = [];
    let window: EngineWindow | undefined;
    let full = inputOf(0, runs, declared);
    let windowed = full;
    for (let i = 0; i < n; i++) {
      runs.push(...runsAt(i));
      full = inputOf(i + 1, [...runs], declared);
      windowed = window?.carry ? windowOf(full, window) : full;
      expect(decide(windowed)).toEqual(decide(full));
      windowStarts.push(i + 1 - windowed.commits.length);
      window = advanceWindow(windowed);
    }
    return { windowStarts, full, windowed, carry: window!.carry! };
  };
  const retriedAt = (decisions: Decision[]) => decisions.flatMap((d) => (d.type === "run" ? [d.job.sha] : []));
  /** t_c passes at commits 0..9, is absent from `absent` checkpoints, then comes back failing. */
  const reappearing = (absent: number) => (i: number) => [
    run(i, i < 10 ? {} : i < 10 + absent ? { tests: ["t_a", "t_b"] } : { fail: ["t_c"] }),
  ];

  it("folds the window past a renamed test's last pass once it has been absent long enough", () => {
    // t_c is renamed t_d at commit 10: its last pass (9) holds the window until it is forgotten.
    const { windowStarts, carry } = stream(10 + N + 30, (i) => [run(i, i < 10 ? {} : { tests: ["t_a", "t_b", "t_d"] })]);
    expect(windowStarts.slice(10, 11 + N)).toEqual(Array<number>(N + 1).fill(9));
    // Then it keeps to the newest checkpoints (the previous one and this one) as commits keep landing.
    const lengths = windowStarts.map((start, i) => i + 1 - start).slice(11 + N);
    expect(Math.max(...lengths)).toBe(2);
    expect(Object.keys(carry.correctness.lastPass).sort()).toEqual(["(job did not complete)", "t_a", "t_b", "t_d"]);
    expect(carry.correctness.lastSeen).not.toHaveProperty("t_c");
  });

  it(`counts a test back after ${N} checkpoints away, failing, as never seen passing`, () => {
    const { windowStarts, full, windowed, carry } = stream(10 + N + 3, reappearing(N));
    expect(retriedAt(decide(full))).toEqual([]);
    expect(windowStarts[windowStarts.length - 1]).toBeGreaterThan(9);
    expect(decide(windowed)).toEqual(decide(full));
    expect(carry.correctness.broken).toContain("t_c");
  });

  it(`investigates a test back after fewer than ${N} checkpoints away from its last pass`, () => {
    const { full, windowed } = stream(10 + N, reappearing(N - 1));
    expect(retriedAt(decide(full))).toEqual([sha(10 + N - 1), sha(9)]);
    expect(windowed.commits[0]!.sha).toBe(sha(9));
    expect(decide(windowed)).toEqual(decide(full));
  });

  it("forgets nothing a crash hid, however long it stayed", () => {
    // Commit 10 crashes every run until 10 + N + 9, is declared, and t_a broke meanwhile: searched from its last pass at 9.
    const crashes = (i: number) => i >= 10 && i < 10 + N + 10;
    const evidence = (i: number) =>
      i === 10
        ? [run(10, { status: "crashed" }, "retry", 1), run(10, { status: "crashed" }, "retry", 2)]
        : i === 9
          ? [run(9, {}, "retry", 1)]
          : [];
    const { full, windowed } = stream(
      10 + N + 11,
      (i) => [run(i, crashes(i) ? { status: "crashed" } : i > 10 ? { fail: ["t_a"] } : {}), ...evidence(i)],
      [sha(10)],
    );
    // The crash's own investigation already ran the last good commit twice: only the new checkpoint is retried.
    const runs = decide(full).flatMap((d) => (d.type === "run" ? [[d.job.sha, d.investigation]] : []));
    expect(runs).toEqual([[sha(10 + N + 10), `correctness:${shaTag(sha(9))}..${shaTag(sha(10 + N + 10))}`]]);
    expect(decide(windowed)).toEqual(decide(full));
  });
});
