import type { HostQuarantine, RunRecord } from "../../model/engine.js";

/**
 * Hosts as evidence. A failure that follows a machine (a bad GPU, a driver rolled out to some
 * hosts) repeats on that machine at any commit, so retries and boundary checks that land on it
 * confirm it. Where the fleet has a second host, the engine asks for those runs elsewhere and
 * blames a commit only once its failures were seen on two hosts.
 */

/** The machine a run names, if it names one (`executor` says what ran the suite, not where). */
export function hostOfRun(run: RunRecord): string | undefined {
  return run.result.environment.host;
}

/**
 * How many hosts a failure must be seen on before it is blamed on a commit: two where the fleet
 * had two admitted (not quarantined) when `runs`, the runs that raised it, finished.
 */
export function hostsNeeded(fleet: readonly string[], quarantines: HostQuarantine[], runs: RunRecord[]): number {
  const at = runs.reduce((latest, r) => (r.result.finishedAt > latest ? r.result.finishedAt : latest), "");
  const admitted = fleet.filter((host) => !quarantines.some((q) => q.host === host && q.from <= at && (q.to === undefined || at < q.to)));
  return Math.min(2, admitted.length);
}

/** The hosts to keep a confirming run away from, or undefined where no admitted host is left outside them. */
export function hostsToAvoid(fleet: readonly string[], failing: readonly string[]): string[] | undefined {
  if (!failing.length || !fleet.some((h) => !failing.includes(h))) return undefined;
  return [...failing];
}

/** Whether a run's result came from a host while it was quarantined. */
export function discounted(run: RunRecord, quarantines: HostQuarantine[]): boolean {
  const host = hostOfRun(run);
  if (host === undefined) return false;
  const at = run.result.finishedAt;
  return quarantines.some((q) => q.host === host && q.from <= at && (q.to === undefined || at < q.to));
}
