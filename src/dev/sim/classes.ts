import type { SimOptions, ScriptedCommit } from "./model.js";
import { Rng } from "./prng.js";

/**
 * Streams of the kinds a real GPU fleet produces beyond independent flakes: machines that fail
 * for reasons of their own, flaky tests that really break, races, fixes that land before a
 * revert, culprits no glob covers, drift and mixed GPU models. Each class draws its particulars
 * (which GPU, from which hour, how flaky) from the seed, on top of the usual random culprits.
 */
export interface StreamClass {
  name: string;
  what: string;
  options: (seed: number) => Partial<SimOptions>;
}

const HOUR = 60;
/** Stable tests (the last three of the default twenty are the flaky ones). */
const stableTest = (rng: Rng) => `test_${String(rng.int(10)).padStart(2, "0")}`;
const between = (rng: Rng, lo: number, hi: number) => lo + rng.next() * (hi - lo);
const fourHosts = { gpus: 4, gpusPerHost: 1 };
/** A commit index well inside the stream, so there is history before and after it. */
const midStream = (rng: Rng) => 200 + rng.int(500);

function script(...commits: ScriptedCommit[]): { script: ScriptedCommit[] } {
  return { script: commits };
}

export const STREAM_CLASSES: StreamClass[] = [
  {
    name: "gpu-fails-test-1of4",
    what: "one of 4 GPUs (each its own host) fails one test from some hour on",
    options: (seed) => {
      const rng = new Rng(seed).fork(11);
      return { ...fourHosts, faults: [{ gpus: [rng.int(4)], from: between(rng, 5, 40) * HOUR, test: stableTest(rng) }] };
    },
  },
  {
    name: "gpu-fails-test-2of4",
    what: "two of 4 GPUs fail one test from some hour on",
    options: (seed) => {
      const rng = new Rng(seed).fork(12);
      const first = rng.int(4);
      return { ...fourHosts, faults: [{ gpus: [first, (first + 1) % 4], from: between(rng, 5, 40) * HOUR, test: stableTest(rng) }] };
    },
  },
  {
    name: "fast-failing-host",
    what: "a host fails every job within 2 minutes for an hour, so it takes most of the queue",
    options: (seed) => {
      const rng = new Rng(seed).fork(13);
      const from = between(rng, 5, 60) * HOUR;
      return { ...fourHosts, faults: [{ gpus: [rng.int(4)], from, to: from + HOUR, fastFailMin: 2 }] };
    },
  },
  {
    name: "driver-rollout",
    what: "a new driver on one of two 2-GPU hosts fails one test from some hour on",
    options: (seed) => {
      const rng = new Rng(seed).fork(14);
      const gpus = rng.chance(0.5) ? [0, 1] : [2, 3];
      return { gpus: 4, gpusPerHost: 2, faults: [{ gpus, from: between(rng, 5, 40) * HOUR, test: stableTest(rng), driver: "sim-570.10" }] };
    },
  },
  {
    name: "outage",
    what: "a 3-hour outage fails one test half the time on every GPU (2-4 GPUs)",
    options: (seed) => {
      const rng = new Rng(seed).fork(15);
      const from = between(rng, 5, 60) * HOUR;
      return { gpus: 2 + (seed % 3), gpusPerHost: 1, faults: [{ from, to: from + 3 * HOUR, test: stableTest(rng), rate: 0.5 }] };
    },
  },
  {
    name: "flaky-test-breaks",
    what: "a test that flakes 20-60% of runs is really broken by one commit",
    options: (seed) => {
      const rng = new Rng(seed).fork(16);
      return {
        ...fourHosts,
        testFlakeRates: { test_19: between(rng, 0.2, 0.6) },
        ...script({ at: midStream(rng), effect: { kind: "break", test: "test_19" } }),
      };
    },
  },
  {
    name: "race",
    what: "a commit makes a test fail 30-80% of runs, or the suite crash 50-80%",
    options: (seed) => {
      const rng = new Rng(seed).fork(17);
      const at = midStream(rng);
      const effect =
        seed % 2
          ? { kind: "break" as const, test: stableTest(rng), rate: between(rng, 0.3, 0.8) }
          : { kind: "crash" as const, rate: between(rng, 0.5, 0.8) };
      return { ...fourHosts, ...script({ at, effect }) };
    },
  },
  {
    name: "cold-start-flaky",
    what: "Sheriff adopted on a repository with one test flaking 10-60% from the first commit",
    options: (seed) => {
      const rng = new Rng(seed).fork(18);
      return { testFlakeRates: { test_12: between(rng, 0.1, 0.6) } };
    },
  },
  {
    name: "outside-globs",
    what: "a culprit whose files match none of the suite's globs",
    options: (seed) => {
      const rng = new Rng(seed).fork(19);
      return script({ at: midStream(rng), effect: { kind: "break", test: stableTest(rng) }, touches: false });
    },
  },
  {
    name: "crash-fixed-forward",
    what: "a crash fixed forward (not reverted) a few commits later, with a break landing under it",
    options: (seed) => {
      const rng = new Rng(seed).fork(20);
      const at = midStream(rng);
      return script(
        { at, effect: { kind: "crash" } },
        { at: at + 2, effect: { kind: "break", test: stableTest(rng) } },
        { at: at + 4, fixes: at },
      );
    },
  },
  {
    name: "unrelated-fix",
    what: "a break fixed by a later commit that is not its revert",
    options: (seed) => {
      const rng = new Rng(seed).fork(21);
      const at = midStream(rng);
      return script({ at, effect: { kind: "break", test: stableTest(rng) } }, { at: at + 3, fixes: at });
    },
  },
  {
    name: "break-fix-rebreak",
    what: "a break, its fix, and a second break of the same test",
    options: (seed) => {
      const rng = new Rng(seed).fork(22);
      const at = midStream(rng);
      const test = stableTest(rng);
      return script({ at, effect: { kind: "break", test } }, { at: at + 3, fixes: at }, { at: at + 6, effect: { kind: "break", test } });
    },
  },
  {
    name: "drift",
    what: "a benchmark 0.5% slower at each of 20 consecutive suite commits",
    options: (seed) => {
      const rng = new Rng(seed).fork(23);
      const at = midStream(rng);
      return script(
        ...Array.from({ length: 20 }, (_, k) => ({ at: at + k, effect: { kind: "slow" as const, bench: "attention_fwd", factor: 1.005 } })),
      );
    },
  },
  {
    name: "speedup-and-slowdown",
    what: "a 15% speed-up and a 10% slowdown of one benchmark in consecutive commits",
    options: (seed) => {
      const rng = new Rng(seed).fork(24);
      const at = midStream(rng);
      return script(
        { at, effect: { kind: "slow", bench: "index_reduce", factor: 0.85 } },
        { at: at + 1, effect: { kind: "slow", bench: "index_reduce", factor: 1.1 } },
      );
    },
  },
  {
    name: "uniform-fleet",
    what: "4 GPUs of one model (the reference for the mixed fleet)",
    options: () => ({ ...fourHosts, correctnessShare: 0.2 }),
  },
  {
    name: "mixed-fleet",
    what: "4 GPUs of two models, one 8% slower",
    options: () => ({
      ...fourHosts,
      correctnessShare: 0.2,
      gpuModels: ["SimGPU-A", "SimGPU-A", "SimGPU-B", "SimGPU-B"],
      gpuSpeeds: [1, 1, 1.08, 1.08],
    }),
  },
];
