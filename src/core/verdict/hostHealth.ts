import type { HostQuarantine, RunRecord } from "../../model/engine.js";
import { stateKey } from "./context.js";
import { discounted, hostOfRun } from "./hosts.js";
import { outcomesOf } from "./tests.js";

/**
 * Per-host health across suites and commits. Two runs of one state (suite, commit, cherry-picks)
 * on different hosts that disagree about a test (one fails it, the other passes it) count against
 * the host that failed. A flaky test or an outage spreads those disagreements over the fleet; a
 * broken GPU or driver piles them onto its host, for one test (or every run: a crash), at commit after commit. Such a host is
 * quarantined: its results are discounted from then on and its jobs go elsewhere, except canary
 * runs of states other hosts passed, and `CANARY_RUNS` clean canaries in a row re-admit it.
 */

/** Disagreements against a host about one test, at this many distinct states, before it can be quarantined. */
export const QUARANTINE_STATES = 8;
/** ... and this many times the most any other host has about that test (plus one), so fleet-wide flakes never quarantine. */
export const QUARANTINE_RATIO = 3;
/** Clean canary runs in a row that re-admit a quarantined host. */
export const CANARY_RUNS = 3;

export interface HostHealthInput {
  /** Recent runs of every suite (the caller's window of the fleet's history). */
  runs: RunRecord[];
  /** Quarantines recorded so far, open or closed. */
  quarantines: HostQuarantine[];
  now: string;
}

export type HostDecision =
  | { type: "quarantine"; host: string; evidence: string[]; summary: string }
  | { type: "readmit"; host: string; summary: string }
  /** Run `run`'s state again on `host` (a quarantined one): `run` passed there on another host. */
  | { type: "canary"; host: string; run: RunRecord };

interface Disagreement {
  state: string;
  test: string;
}

export function hostHealth(input: HostHealthInput): HostDecision[] {
  const open = new Map(input.quarantines.filter((q) => q.to === undefined).map((q) => [q.host, q] as const));
  const admitted = input.runs.filter((r) => !discounted(r, input.quarantines));
  const against = disagreements(admitted);
  const out: HostDecision[] = [];
  for (const [host, list] of against) {
    if (open.has(host)) continue;
    const worst = worstTest(host, list, against);
    if (!worst) continue;
    const evidence = list
      .filter((d) => d.test === worst.test)
      .slice(-5)
      .map((d) => `${d.test} at ${d.state}`);
    out.push({
      type: "quarantine",
      host,
      evidence,
      summary: `${host} failed ${worst.test} where other hosts passed it at ${worst.states} states (the most on any other host: ${worst.others}): its failures follow the host, not the code`,
    });
  }
  for (const q of open.values()) out.push(...canaryStep(input, q));
  return out;
}

/** The test whose disagreements single `host` out (enough states, and `QUARANTINE_RATIO` times any other host's), if any. */
function worstTest(
  host: string,
  list: Disagreement[],
  against: Map<string, Disagreement[]>,
): { test: string; states: number; others: number } | undefined {
  const statesOf = (l: Disagreement[], test: string) => new Set(l.filter((d) => d.test === test).map((d) => d.state)).size;
  let worst: { test: string; states: number; others: number } | undefined;
  for (const test of new Set(list.map((d) => d.test))) {
    const states = statesOf(list, test);
    const others = Math.max(0, ...[...against].filter(([h]) => h !== host).map(([, l]) => statesOf(l, test)));
    if (states < QUARANTINE_STATES || states < QUARANTINE_RATIO * (others + 1)) continue;
    if (!worst || states > worst.states) worst = { test, states, others };
  }
  return worst;
}

/** Host -> the disagreements counted against it, in run order. */
function disagreements(runs: RunRecord[]): Map<string, Disagreement[]> {
  const byState = new Map<string, RunRecord[]>();
  for (const run of runs) {
    if (run.job.purpose === "ab" || hostOfRun(run) === undefined) continue;
    const key = `${run.job.suite}@${stateKey(run.job.sha, run.job.cherryPicks)}`;
    byState.set(key, [...(byState.get(key) ?? []), run]);
  }
  const out = new Map<string, Disagreement[]>();
  for (const [state, list] of byState) {
    for (const run of list) {
      const host = hostOfRun(run)!;
      const elsewhere = list.filter((r) => hostOfRun(r) !== host);
      for (const test of outcomesOf(run.result).fails.keys()) {
        if (!elsewhere.some((r) => outcomesOf(r.result).passes.has(test))) continue;
        const mine = out.get(host) ?? [];
        if (!mine.some((d) => d.state === state && d.test === test)) mine.push({ state, test });
        out.set(host, mine);
      }
    }
  }
  return out;
}

/** A quarantined host's canaries: re-admitted after `CANARY_RUNS` clean ones in a row, else one more is asked for. */
function canaryStep(input: HostHealthInput, q: HostQuarantine): HostDecision[] {
  const canaries = input.runs.filter((r) => hostOfRun(r) === q.host && r.result.finishedAt >= q.from);
  let clean = 0;
  for (const run of canaries) clean = agreesWithFleet(run, input.runs) ? clean + 1 : 0;
  if (clean >= CANARY_RUNS) {
    return [
      { type: "readmit", host: q.host, summary: `${q.host} passed ${clean} canary runs in a row that other hosts passed: re-admitted` },
    ];
  }
  const reference = [...input.runs]
    .reverse()
    .find((r) => r.job.purpose !== "ab" && hostOfRun(r) !== q.host && !discounted(r, input.quarantines) && cleanRun(r));
  return reference ? [{ type: "canary", host: q.host, run: reference }] : [];
}

function cleanRun(run: RunRecord): boolean {
  return run.result.status === "completed" && outcomesOf(run.result).fails.size === 0;
}

/** The run failed nothing that a run of the same state on another host passed. */
function agreesWithFleet(run: RunRecord, runs: RunRecord[]): boolean {
  const state = stateKey(run.job.sha, run.job.cherryPicks);
  const others = runs.filter(
    (r) => r.job.suite === run.job.suite && stateKey(r.job.sha, r.job.cherryPicks) === state && hostOfRun(r) !== hostOfRun(run),
  );
  if (!others.length) return false;
  const fails = [...outcomesOf(run.result).fails.keys()];
  return fails.every((test) => !others.some((r) => outcomesOf(r.result).passes.has(test)));
}
