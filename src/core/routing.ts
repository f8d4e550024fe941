import type { Placement } from "../model/jobs.js";

/**
 * Which host runs a GPU job. Workers pull from one queue, so a host that should not run a job
 * hands it back for a while: a job that checks failures stays off the hosts that produced them
 * (else a broken machine confirms its own failures), a quarantined host runs only its canaries,
 * and a canary runs only on its host. None of it may lose the job: a job waits for the right host
 * only so long, then runs where it can (the engine still needs two hosts' failures to blame).
 */

/** How long a job avoiding some hosts waits for another before any host may take it. */
export const AVOID_WAIT_MS = 10 * 60_000;
/** How long a canary waits for its host before it is dropped (the host left the fleet). */
export const CANARY_WAIT_MS = 30 * 60_000;
const FIRST_DELAY_MS = 250;
// Short enough that a job another host could take soon is not left waiting long (hosts race for it).
const MAX_DELAY_MS = 5_000;

export type Routing =
  | { kind: "run" }
  /** Hand it back for `delayMs`, with `passedOver` recorded in the job. */
  | { kind: "pass"; delayMs: number; passedOver: NonNullable<Placement["passedOver"]>; reason: string }
  | { kind: "drop"; reason: string };

export interface Taker {
  host: string;
  /** Whether `host` is quarantined for the job's repository. */
  quarantined: boolean;
}

export function routeGpuJob(placement: Placement, taker: Taker, now: Date): Routing {
  const since = placement.passedOver ? Date.parse(placement.passedOver.since) : now.getTime();
  const waited = now.getTime() - since;
  const times = (placement.passedOver?.times ?? 0) + 1;
  const pass = (reason: string): Routing => ({
    kind: "pass",
    delayMs: Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(times - 1, 10)),
    passedOver: { since: new Date(since).toISOString(), times },
    reason,
  });
  if (placement.onlyHost !== undefined) {
    if (placement.onlyHost === taker.host) return { kind: "run" };
    if (waited >= CANARY_WAIT_MS) return { kind: "drop", reason: `canary for ${placement.onlyHost}: no such host took it` };
    return pass(`a canary for ${placement.onlyHost}`);
  }
  if (waited >= AVOID_WAIT_MS) return { kind: "run" };
  if (taker.quarantined) return pass(`${taker.host} is quarantined`);
  if (placement.avoidHosts?.includes(taker.host)) return pass(`checks failures seen on ${taker.host}`);
  return { kind: "run" };
}
