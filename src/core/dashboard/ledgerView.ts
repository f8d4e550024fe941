/**
 * The ledger page: what Sheriff did about culprits lately, by outcome, and which tests flaked most.
 * Pure: it gets the newest records, already bounded by the caller.
 */
import type { RevertOutcome } from "../../model/ledger.js";

export interface LedgerInput {
  reverts: { culprit: string; suite: string; outcome: RevertOutcome; revertPr?: number; originalPr?: number; reason: string; at: string }[];
  flakes: { suite: string; sha: string; tests: string[]; at: string }[];
  /** Sheriff's revert PRs as GitHub has them now. */
  revertPulls: { number: number; state: "open" | "merged" | "closed" }[];
}

export interface FlakyTestRow {
  suite: string;
  test: string;
  /** Flaky verdicts naming it among those read. */
  times: number;
  lastSha: string;
  lastAt: string;
}

export interface LedgerView {
  outcomes: { outcome: RevertOutcome; count: number }[];
  flakyTests: FlakyTestRow[];
  /** Of Sheriff's revert PRs that were decided: merged ones are right, ones closed unmerged count against it. */
  precision: { merged: number; closedUnmerged: number; open: number; ratio: number | null };
}

export function ledgerView(input: LedgerInput): LedgerView {
  const outcomes = new Map<RevertOutcome, number>();
  for (const revert of input.reverts) outcomes.set(revert.outcome, (outcomes.get(revert.outcome) ?? 0) + 1);
  const tests = new Map<string, FlakyTestRow>();
  // Newest first, so the first sighting of a test is its last flake.
  for (const flake of input.flakes)
    for (const test of flake.tests) {
      const key = `${flake.suite}\u0000${test}`;
      const row = tests.get(key);
      if (row) row.times++;
      else tests.set(key, { suite: flake.suite, test, times: 1, lastSha: flake.sha, lastAt: flake.at });
    }
  const count = (state: string) => input.revertPulls.filter((p) => p.state === state).length;
  const merged = count("merged");
  const closedUnmerged = count("closed");
  return {
    precision: {
      merged,
      closedUnmerged,
      open: count("open"),
      ratio: merged + closedUnmerged > 0 ? merged / (merged + closedUnmerged) : null,
    },
    outcomes: [...outcomes].map(([outcome, count]) => ({ outcome, count })).sort((a, b) => b.count - a.count),
    flakyTests: [...tests.values()].sort((a, b) => b.times - a.times || b.lastAt.localeCompare(a.lastAt)),
  };
}
