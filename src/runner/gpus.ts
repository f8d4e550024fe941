import { AsyncLocalStorage } from "node:async_hooks";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { SuiteResult } from "../model/result.js";

const execFileAsync = promisify(execFile);

/** One GPU of this host: a job slot. `index` is the index nvidia-smi and CUDA_VISIBLE_DEVICES use. */
export interface GpuSlot {
  index: number;
  name?: string;
  uuid?: string;
}

/** Parses `nvidia-smi -L` output: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)". */
export function parseNvidiaSmiList(text: string): GpuSlot[] {
  const gpus: GpuSlot[] = [];
  for (const line of text.split("\n")) {
    const m = /^GPU (\d+): (.*?)(?: \(UUID: ([^)]+)\))?\s*$/.exec(line.trim());
    if (m) gpus.push({ index: Number(m[1]), name: m[2]!, ...(m[3] ? { uuid: m[3] } : {}) });
  }
  return gpus;
}

/** Parses SHERIFF_GPUS: "0,1" (indices), "" or "none" (no GPU). */
export function parseGpuList(value: string): GpuSlot[] {
  const trimmed = value.trim();
  if (trimmed === "" || trimmed === "none") return [];
  const seen = new Set<number>();
  return trimmed.split(",").map((part) => {
    const index = Number(part.trim());
    if (!Number.isInteger(index) || index < 0) throw new Error(`SHERIFF_GPUS: "${part}" is not a GPU index (expected e.g. "0,1")`);
    if (seen.has(index)) throw new Error(`SHERIFF_GPUS: GPU ${index} listed twice`);
    seen.add(index);
    return { index };
  });
}

/**
 * The GPUs this host offers jobs: SHERIFF_GPUS when set (an override, also how tests simulate
 * GPUs on a CPU host), else `nvidia-smi -L`; no nvidia-smi or no GPU gives [].
 */
export async function discoverGpus(env: NodeJS.ProcessEnv = process.env): Promise<GpuSlot[]> {
  if (env.SHERIFF_GPUS !== undefined) return parseGpuList(env.SHERIFF_GPUS);
  try {
    const { stdout } = await execFileAsync("nvidia-smi", ["-L"], { timeout: 20_000 });
    return parseNvidiaSmiList(stdout);
  } catch {
    return [];
  }
}

/** Name and driver version of one physical GPU (best effort: {} without nvidia-smi). */
export async function queryGpu(index: number): Promise<{ name?: string; driver?: string }> {
  try {
    const { stdout } = await execFileAsync(
      "nvidia-smi",
      ["--query-gpu=name,driver_version", "--format=csv,noheader", "-i", String(index)],
      { timeout: 20_000 },
    );
    const [name, driver] = stdout
      .trim()
      .split(",")
      .map((s) => s.trim());
    return { ...(name ? { name } : {}), ...(driver ? { driver } : {}) };
  } catch {
    return {};
  }
}

const slotContext = new AsyncLocalStorage<GpuSlot>();

/** The GPU slot the current job runs on (set by `GpuSlots.run`), or undefined on a CPU-only worker. */
export function currentGpu(): GpuSlot | undefined {
  return slotContext.getStore();
}

/** Environment that pins a child process to one GPU. */
export function gpuEnv(slot: GpuSlot | undefined): NodeJS.ProcessEnv {
  return slot ? { CUDA_VISIBLE_DEVICES: String(slot.index), SHERIFF_GPU_INDEX: String(slot.index) } : {};
}

/**
 * A pool of GPU slots: each job holds one GPU for its whole run (for an A/B job, both sides run
 * on the same GPU). With no GPU the pool has `cpuSlots` anonymous slots and pins nothing.
 */
export class GpuSlots {
  private readonly free: (GpuSlot | null)[];
  private readonly waiters: ((slot: GpuSlot | null) => void)[] = [];
  readonly size: number;

  constructor(gpus: GpuSlot[], cpuSlots = 1) {
    this.free = gpus.length > 0 ? [...gpus] : Array.from({ length: Math.max(1, cpuSlots) }, () => null);
    this.size = this.free.length;
  }

  private acquire(): Promise<GpuSlot | null> {
    if (this.free.length > 0) return Promise.resolve(this.free.shift()!);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(slot: GpuSlot | null): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** Runs `fn` holding a slot; `currentGpu()` inside it returns that slot. */
  async run<T>(fn: (slot: GpuSlot | undefined) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return slot ? await slotContext.run(slot, () => fn(slot)) : await fn(undefined);
    } finally {
      this.release(slot);
    }
  }
}

/** Stamps the slot's GPU index into a result (the runner may already have). */
export function withGpuIndex(result: SuiteResult, slot: GpuSlot | undefined): SuiteResult {
  if (!slot) return result;
  return { ...result, environment: { ...result.environment, gpuIndex: slot.index } };
}
