/**
 * The ledger page: what Sheriff did about culprits lately, by outcome, which tests flaked most,
 * which hosts are quarantined, and how busy each GPU was with the repository's jobs.
 * Pure: it gets the newest records, already bounded by the caller.
 */
import type { RevertOutcome } from "../../model/ledger.js";

export interface LedgerInput {
  reverts: {
    culprit: string;
    suite: string;
    outcome: RevertOutcome;
    revertPr?: number;
    originalPr?: number;
    reason: string;
    at: string;
    /** A later commit that landed the culprit's change again, unchanged. */
    relandedAs?: string;
  }[];
  flakes: { suite: string; sha: string; tests: string[]; at: string }[];
  /** Sheriff's revert PRs as GitHub has them now. */
  revertPulls: { number: number; state: "open" | "merged" | "closed" }[];
  /** Host quarantines open now or ended lately. */
  quarantines?: { host: string; from: string; to?: string; summary: string }[];
  /** GPU jobs per host and GPU over the last `gpuWindowHours`. */
  gpuTime?: { host: string; gpu: number | null; runs: number; seconds: number }[];
  gpuWindowHours?: number;
}

export interface GpuUseRow {
  host: string;
  gpu: number | null;
  runs: number;
  hours: number;
  /** Share of the window the GPU spent on this repository's jobs. */
  utilisation: number;
  quarantined: boolean;
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
  /**
   * Of Sheriff's revert PRs that were decided: merged ones are right unless their culprit was
   * relanded unchanged; those, and ones closed unmerged, count against it.
   */
  precision: { merged: number; relanded: number; closedUnmerged: number; open: number; ratio: number | null };
  /** Open quarantines first, then the ended ones, newest first. */
  quarantines: { host: string; from: string; to?: string; summary: string; open: boolean }[];
  /** Busiest first. */
  gpus: GpuUseRow[];
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
  const relandedPrs = new Set(input.reverts.flatMap((r) => (r.relandedAs && r.revertPr ? [r.revertPr] : [])));
  const relanded = input.revertPulls.filter((p) => p.state === "merged" && relandedPrs.has(p.number)).length;
  const quarantines = (input.quarantines ?? [])
    .map((q) => ({ ...q, open: q.to === undefined }))
    .sort((a, b) => Number(b.open) - Number(a.open) || b.from.localeCompare(a.from));
  const out = new Set(quarantines.filter((q) => q.open).map((q) => q.host));
  const windowSeconds = (input.gpuWindowHours ?? 24) * 3600;
  const gpus = (input.gpuTime ?? [])
    .map((g) => ({
      host: g.host,
      gpu: g.gpu,
      runs: g.runs,
      hours: g.seconds / 3600,
      utilisation: Math.min(1, g.seconds / windowSeconds),
      quarantined: out.has(g.host),
    }))
    .sort((a, b) => b.utilisation - a.utilisation || a.host.localeCompare(b.host) || (a.gpu ?? -1) - (b.gpu ?? -1));
  return {
    quarantines,
    gpus,
    precision: {
      merged,
      relanded,
      closedUnmerged,
      open: count("open"),
      ratio: merged + closedUnmerged > 0 ? (merged - relanded) / (merged + closedUnmerged) : null,
    },
    outcomes: [...outcomes].map(([outcome, count]) => ({ outcome, count })).sort((a, b) => b.count - a.count),
    flakyTests: [...tests.values()].sort((a, b) => b.times - a.times || b.lastAt.localeCompare(a.lastAt)),
  };
}
