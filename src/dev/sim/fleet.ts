import type { Rng } from "./prng.js";

/**
 * The simulated GPU fleet: which host each GPU sits in, what it reports about itself, and the
 * faults that belong to the machines rather than to the code. A fault hits the GPUs it names
 * (every GPU when it names none: an outage) between `from` and `to` on the simulated clock.
 */
export interface FleetFault {
  gpus?: number[];
  from: number;
  to?: number;
  /** A test that fails on those GPUs, with probability `rate` (default 1). */
  test?: string;
  rate?: number;
  /** Every job there fails within this many minutes: a host that empties the queue onto itself. */
  fastFailMin?: number;
  /** The driver those GPUs report while the fault lasts: a rollout to some hosts. */
  driver?: string;
}

/** The part of the simulator's options that describes the fleet. */
export interface FleetOptions {
  gpus: number;
  gpusPerHost?: number;
  gpuModels?: string[];
  gpuSpeeds?: number[];
  faults?: FleetFault[];
}

export const DEFAULT_DRIVER = "sim-560.35";

/** The host of GPU `gpu`: every GPU on one host unless `gpusPerHost` says otherwise. */
export function hostOf(gpu: number, o: FleetOptions): string {
  return `sim-host-${Math.floor(gpu / (o.gpusPerHost ?? o.gpus))}`;
}

/** Every host of the fleet, in GPU order. */
export function fleetHosts(o: FleetOptions): string[] {
  return [...new Set(Array.from({ length: o.gpus }, (_, g) => hostOf(g, o)))];
}

export function activeFaults(o: FleetOptions, gpu: number, at: number): FleetFault[] {
  return (o.faults ?? []).filter((f) => (f.gpus ?? [gpu]).includes(gpu) && at >= f.from && (f.to === undefined || at < f.to));
}

/** What the GPU says about itself in a result's environment. */
export function gpuEnvironment(o: FleetOptions, gpu: number, at: number): { host: string; gpu: string; driver: string } {
  const driver = activeFaults(o, gpu, at).find((f) => f.driver)?.driver ?? DEFAULT_DRIVER;
  return { host: hostOf(gpu, o), gpu: o.gpuModels?.[gpu] ?? "SimGPU", driver };
}

/** Tests the fleet's faults fail on this GPU for this run (rng drawn only for faults with a rate below 1). */
export function faultyTests(o: FleetOptions, gpu: number, at: number, rng: Rng): Set<string> {
  const out = new Set<string>();
  for (const f of activeFaults(o, gpu, at)) {
    if (f.test && (f.rate === undefined || f.rate >= 1 || rng.chance(f.rate))) out.add(f.test);
  }
  return out;
}

/** Minutes after which a job on this GPU fails outright, when a fast-failing fault is on. */
export function fastFailMinutes(o: FleetOptions, gpu: number, at: number): number | undefined {
  return activeFaults(o, gpu, at).find((f) => f.fastFailMin !== undefined)?.fastFailMin;
}

/** The GPU's speed: timings on it are this many times those of a reference GPU. */
export function gpuSpeed(o: FleetOptions, gpu: number): number {
  return o.gpuSpeeds?.[gpu] ?? 1;
}
