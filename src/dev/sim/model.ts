import { suiteConfigSchema, type SuiteConfig } from "../../model/config.js";
import { RESULT_SCHEMA_VERSION, type SuiteResult } from "../../model/result.js";
import type { LandedCommit } from "../../model/engine.js";
import { Rng } from "./prng.js";
import { faultyTests, gpuEnvironment, gpuSpeed, type FleetFault } from "./fleet.js";

/** What the simulated repository and GPU fleet look like. Times are minutes on the simulated clock. */
export interface SimOptions {
  commits: number;
  /** Share of commits that are culprits (only suite-touching commits can be). */
  culpritRate: number;
  /** Probability that a run shows a spurious failure of one of the suite's flaky tests. */
  flakeRate: number;
  /** Relative per-sample timing noise (log-normal sigma); jobs also differ by a third of it. */
  noise: number;
  /** Relative size of each performance culprit's slowdown (0.05 = 5%). */
  slowdown: number;
  gpus: number;
  seed: number;
  /** Share of culprits that break correctness (the rest slow a benchmark down). */
  correctnessShare: number;
  /** Share of correctness culprits that crash the job instead of failing a test. */
  crashShare: number;
  /** Probability that a commit touches the suite's paths at all. */
  touchRate: number;
  commitIntervalMin: number;
  maxPushSize: number;
  jobMin: number;
  /** An interleaved A/B job times two builds, so it takes longer. */
  abJobFactor: number;
  /** From the regression decision to the revert landing (PR, checks, merge). */
  revertDelayMin: number;
  samples: number;
  /**
   * The simulated runner honours `JobRequest.cherryPicks` (builds a commit with reverts applied).
   * The app's runners do too; `false` shows the engine with a runner that cannot.
   */
  cherryPick: boolean;
  tests: number;
  flakyTests: number;
  /** Correctness culprits may break a flaky test too (by default they break stable ones only). */
  breakFlakyTests: boolean;
  /**
   * Every this many commits, one test is renamed (the tests take turns), as refactors of a kernel
   * suite do: its old name never shows up again. Absent: tests keep their names.
   */
  renameEvery?: number;
  /** GPUs per host (hosts take GPUs in index order); absent: every GPU on one host. */
  gpusPerHost?: number;
  /** Each GPU's model name (default "SimGPU"), and its speed: its timings are that many times a reference GPU's. */
  gpuModels?: string[];
  gpuSpeeds?: number[];
  /** Faults of the machines, not the code. */
  faults?: FleetFault[];
  /** Test -> probability that it fails on its own in any run, on top of `flakeRate`'s spurious failures. */
  testFlakeRates?: Record<string, number>;
  /** Culprits and fixes placed by hand, on top of the random ones. */
  script?: ScriptedCommit[];
  thresholds: SuiteConfig["thresholds"];
}

/** A commit placed by hand: its effect, or the earlier scripted commit whose effect it removes (a fix-forward). */
export interface ScriptedCommit {
  /** Index in the stream, from 0. */
  at: number;
  effect?: EffectSpec;
  /** Index (`at`) of an earlier scripted commit: this one undoes its effect without being its revert. */
  fixes?: number;
  /** Whether its files touch the suite's paths (default true): a culprit outside every glob does not. */
  touches?: boolean;
}

export const DEFAULT_OPTIONS: SimOptions = {
  commits: 1000,
  culpritRate: 0.02,
  flakeRate: 0.05,
  noise: 0.01,
  slowdown: 0.05,
  gpus: 2,
  seed: 1,
  correctnessShare: 0.5,
  crashShare: 0.2,
  touchRate: 0.7,
  commitIntervalMin: 5,
  maxPushSize: 3,
  jobMin: 20,
  abJobFactor: 1.6,
  revertDelayMin: 15,
  samples: 30,
  cherryPick: true,
  tests: 20,
  flakyTests: 3,
  breakFlakyTests: false,
  thresholds: suiteConfigSchema.parse({ kind: "command", name: "sim", command: "sim", paths: ["**"] }).thresholds,
};

export const SUITE = "sim-kernels";
export const BENCHMARKS: ReadonlyArray<{ name: string; us: number }> = [
  { name: "attention_fwd", us: 480 },
  { name: "index_reduce", us: 120 },
  { name: "fp16_convert", us: 35 },
];

/** `rate`: an intermittent culprit (a race) breaks the test, or crashes the job, in that share of runs. */
export type Effect =
  | { id: number; kind: "break"; test: string; rate?: number }
  | { id: number; kind: "crash"; rate?: number }
  | { id: number; kind: "slow"; bench: string; factor: number };
export type EffectSpec = Effect extends infer E ? (E extends Effect ? Omit<E, "id"> : never) : never;

export interface SimCommit extends LandedCommit {
  landedAt: number;
  /** Culprit effects live at this commit: its ancestors' minus the reverted ones. */
  active: Effect[];
  /** The culprit effect this commit introduces, if it is a culprit. */
  effect?: Effect;
  /** For a revert or a fix: the culprit effect it takes out (so cherry-picking it elsewhere does too). */
  undoes?: Effect;
  /** Test renames landed so far, this commit's included (a revert does not undo them). */
  renames: number;
}

export interface PlannedCommit {
  title: string;
  touches: boolean;
  effect?: Effect;
  /** This commit renames the next test in turn. */
  renames?: true;
  /** A fix-forward: the culprit effect it takes out. */
  fixes?: Effect;
}

export interface PlannedPush {
  at: number;
  commits: PlannedCommit[];
}

/** The tests by their first names, which culprit effects and flakes refer to whatever a test is called later. */
export function testNames(o: SimOptions): { all: string[]; flaky: string[] } {
  const all = Array.from({ length: o.tests }, (_, i) => `test_${String(i).padStart(2, "0")}`);
  return { all, flaky: all.slice(o.tests - o.flakyTests) };
}

/** What test `slot` (of `testNames`) is called after `renames` renames: the r-th rename (from 0) renames slot r mod tests. */
export function currentName(name: string, slot: number, renames: number, o: SimOptions): string {
  const generation = renames > slot ? Math.floor((renames - slot - 1) / o.tests) + 1 : 0;
  return generation ? `${name}_v${generation}` : name;
}

/** The landing schedule: pushes of 1..maxPushSize commits, culprits placed on random suite-touching commits. */
export function planStream(o: SimOptions): PlannedPush[] {
  const rng = new Rng(o.seed).fork(1);
  const { all, flaky } = testNames(o);
  const stable = all.filter((t) => !flaky.includes(t));
  const commits: PlannedCommit[] = Array.from({ length: o.commits }, (_, i) => ({
    title: `change ${i + 1}`,
    touches: i < 3 || rng.chance(o.touchRate),
    ...(o.renameEvery && (i + 1) % o.renameEvery === 0 ? { renames: true as const } : {}),
  }));
  // The first few commits stay clean so the suite has a baseline before anything breaks.
  const scripted = new Set((o.script ?? []).map((s) => s.at));
  const eligible = commits.map((c, i) => (c.touches && i >= 3 && !scripted.has(i) ? i : -1)).filter((i) => i >= 0);
  const count = Math.min(eligible.length, Math.round(o.commits * o.culpritRate));
  for (let i = eligible.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
  }
  const nCorrectness = Math.round(count * o.correctnessShare);
  const nCrash = Math.round(nCorrectness * o.crashShare);
  eligible.slice(0, count).forEach((index, k) => {
    const id = k + 1;
    const commit = commits[index]!;
    if (k < nCrash) commit.effect = { id, kind: "crash" };
    else if (k < nCorrectness) {
      const pool = o.breakFlakyTests ? all : stable;
      commit.effect = { id, kind: "break", test: pool[rng.int(pool.length)]! };
    } else commit.effect = { id, kind: "slow", bench: BENCHMARKS[rng.int(BENCHMARKS.length)]!.name, factor: 1 + o.slowdown };
  });
  applyScript(commits, o.script ?? [], count);
  const pushes: PlannedPush[] = [];
  let at = 0;
  for (let i = 0; i < commits.length;) {
    const size = 1 + rng.int(o.maxPushSize);
    at += rng.exponential(o.commitIntervalMin * ((o.maxPushSize + 1) / 2));
    pushes.push({ at, commits: commits.slice(i, i + size) });
    i += size;
  }
  return pushes;
}

function applyScript(commits: PlannedCommit[], script: ScriptedCommit[], randomCulprits: number): void {
  const effects = new Map<number, Effect>();
  script.forEach((s, k) => {
    const commit = commits[s.at];
    if (!commit) return;
    commit.touches = s.touches ?? true;
    if (s.effect) {
      commit.effect = { ...s.effect, id: randomCulprits + k + 1 } as Effect;
      effects.set(s.at, commit.effect);
    }
    const fixed = s.fixes === undefined ? undefined : effects.get(s.fixes);
    if (fixed) commit.fixes = fixed;
  });
}

export function shaFor(n: number, seed: number): string {
  const salt = (Math.imul(seed, 2654435761) >>> 0).toString(16).padStart(8, "0").repeat(4);
  return (n.toString(16).padStart(12, "0") + salt).slice(0, 40);
}

const EPOCH = Date.parse("2026-11-25T00:00:00Z");

export function iso(minutes: number): string {
  return new Date(EPOCH + Math.round(minutes * 60_000)).toISOString();
}

export interface RunWindow {
  start: number;
  end: number;
  gpuIndex: number;
  /** The job's machine-level speed factor; both halves of an A/B share it, which is the point of A/B. */
  jobFactor: number;
  /** The GPU's fast-failing fault ended the job before the suite could run. */
  fastFailed?: boolean;
}

/** One half of a GPU job: what running the suite at `commit`, with `picks` cherry-picked onto it, would report. */
export function synthesize(at: SimCommit, o: SimOptions, rng: Rng, w: RunWindow, picks: SimCommit[] = []): SuiteResult {
  const undone = picks.flatMap((p) => (p.undoes ? [p.undoes] : []));
  const commit = undone.length ? { ...at, active: at.active.filter((e) => !undone.includes(e)) } : at;
  const base = {
    schema: RESULT_SCHEMA_VERSION,
    suite: SUITE,
    commit: commit.sha,
    startedAt: iso(w.start),
    finishedAt: iso(w.end),
    environment: { commit: commit.sha, executor: `sim-gpu-${w.gpuIndex}`, gpuIndex: w.gpuIndex, ...gpuEnvironment(o, w.gpuIndex, w.start) },
  } as const;
  // Rates are drawn only where they are set, so a stream without them replays as before.
  const live = (e: Effect) => !("rate" in e) || e.rate === undefined || rng.chance(e.rate);
  if (w.fastFailed || commit.active.some((e) => e.kind === "crash" && live(e))) {
    return { ...base, status: "crashed", tests: [], benchmarks: [], log: "illegal memory access (simulated)" };
  }
  const { all, flaky } = testNames(o);
  const flaked = new Set<string>();
  if (rng.chance(o.flakeRate)) flaked.add(flaky[rng.int(flaky.length)]!);
  for (const [test, rate] of Object.entries(o.testFlakeRates ?? {})) if (rng.chance(rate)) flaked.add(test);
  const broken = new Set(commit.active.flatMap((e) => (e.kind === "break" && live(e) ? [e.test] : [])));
  const machine = faultyTests(o, w.gpuIndex, w.start, rng);
  const tests = all.map((slotName, slot) => {
    const name = currentName(slotName, slot, commit.renames, o);
    const fails = broken.has(slotName) || flaked.has(slotName) || machine.has(slotName);
    return fails
      ? {
          name,
          outcome: "fail" as const,
          message: broken.has(slotName) ? "max error 3.1e-2 > tolerance 1e-3" : "timeout waiting for stream",
        }
      : { name, outcome: "pass" as const };
  });
  const speed = gpuSpeed(o, w.gpuIndex);
  const benchmarks = BENCHMARKS.map((b) => {
    const factor = commit.active.reduce((f, e) => (e.kind === "slow" && e.bench === b.name ? f * e.factor : f), 1) * speed;
    const samples = Array.from({ length: o.samples }, () => +(b.us * factor * w.jobFactor * Math.exp(o.noise * rng.normal())).toFixed(3));
    return { name: b.name, unit: "us" as const, samples };
  });
  return { ...base, status: "completed", tests, benchmarks };
}
