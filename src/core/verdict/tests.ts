import type { SuiteResult } from "../../model/result.js";
import type { RunRecord } from "../../model/engine.js";
import { hostOfRun } from "./hosts.js";

/**
 * Test-outcome comparison and flake classification. A run that did not complete
 * (crashed, timed out, errored) counts as a failure of one pseudo-test, so a crash goes
 * through the same retry and bisection path as a failing test, and a crash that repeats
 * deterministically becomes a correctness regression like any other.
 */

export const INCOMPLETE_RUN = "(job did not complete)";

export interface RunOutcomes {
  /** Failing test -> its message. */
  fails: Map<string, string | undefined>;
  passes: Set<string>;
}

const cache = new WeakMap<SuiteResult, RunOutcomes>();

export function outcomesOf(result: SuiteResult): RunOutcomes {
  const hit = cache.get(result);
  if (hit) return hit;
  const fails = new Map<string, string | undefined>();
  const passes = new Set<string>();
  for (const t of result.tests) {
    if (t.outcome === "fail" || t.outcome === "error") fails.set(t.name, t.message);
    else if (t.outcome === "pass") passes.add(t.name);
  }
  if (result.status === "completed") passes.add(INCOMPLETE_RUN);
  else fails.set(INCOMPLETE_RUN, `job ${result.status}`);
  const out = { fails, passes };
  cache.set(result, out);
  return out;
}

export function failingIn(runs: RunRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of runs) for (const name of outcomesOf(r.result).fails.keys()) out.add(name);
  return out;
}

export function passingIn(runs: RunRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of runs) for (const name of outcomesOf(r.result).passes) out.add(name);
  return out;
}

/** Tests seen both failing and passing at one commit: proof of flakiness, whatever else is true. */
export function mixedIn(runs: RunRecord[]): string[] {
  const fails = failingIn(runs);
  return [...passingIn(runs)].filter((t) => fails.has(t));
}

/** Landed and baseline runs: the ones that decide what is new at a checkpoint (retries and probes are evidence). */
export function regularRuns(runs: RunRecord[]): RunRecord[] {
  return runs.filter((r) => r.job.purpose === "landed" || r.job.purpose === "baseline");
}

/** Distinct hosts among the runs that failed any of `tests`. */
export function failingHosts(runs: RunRecord[], tests: string[]): string[] {
  const out = new Set<string>();
  for (const run of runs) {
    const fails = outcomesOf(run.result).fails;
    const host = hostOfRun(run);
    if (host !== undefined && tests.some((t) => fails.has(t))) out.add(host);
  }
  return [...out].sort();
}

export function countOutcomes(runs: RunRecord[], test: string): { fails: number; passes: number } {
  let fails = 0;
  let passes = 0;
  for (const r of runs) {
    const o = outcomesOf(r.result);
    if (o.fails.has(test)) fails++;
    else if (o.passes.has(test)) passes++;
  }
  return { fails, passes };
}

export interface RetryVerdict {
  /** Failed in every run at the suspect, and passed in most runs at the last good commit. */
  deterministic: string[];
  flaky: string[];
}

/**
 * After the retries: a new failure is deterministic only when it failed in every run at the
 * suspect that observed it (at least twice, so one repeat) and passed in most runs at the last
 * good commit. A failure there too is a flake of a flaky test (which a real break of it must
 * still be found past) unless it fails there as often as it passes: then the test, or the
 * runner, is broken on both sides and a revert of the suspect would not fix it. Intermittent at
 * the suspect is flaky, and so is a failure seen on fewer than `hosts` hosts: it follows a machine.
 */
export function classifyNewFailures(tests: string[], suspectRuns: RunRecord[], goodRuns: RunRecord[], hosts = 1): RetryVerdict {
  const deterministic: string[] = [];
  const flaky: string[] = [];
  for (const t of tests) {
    const atSuspect = countOutcomes(suspectRuns, t);
    const atGood = countOutcomes(goodRuns, t);
    const onHosts = hosts <= 1 || failingHosts(suspectRuns, [t]).length >= hosts;
    if (atSuspect.passes === 0 && atSuspect.fails >= 2 && onHosts && atGood.passes > atGood.fails) deterministic.push(t);
    else flaky.push(t);
  }
  return { deterministic, flaky };
}

/** Whether a run fails any of `tests` ("bad"), observes them all passing or absent ("good"), or saw none of them. */
export function runVerdict(run: RunRecord, tests: string[]): "bad" | "good" | "none" {
  const o = outcomesOf(run.result);
  if (tests.some((t) => o.fails.has(t))) return "bad";
  return tests.some((t) => o.passes.has(t)) ? "good" : "none";
}

export function firstMessage(runs: RunRecord[], test: string): string | undefined {
  for (const r of runs) {
    const m = outcomesOf(r.result).fails.get(test);
    if (m !== undefined) return m;
  }
  return undefined;
}
