import { randomUUID } from "node:crypto";
import { Job, Worker } from "bullmq";
import type { GpuJob } from "../../model/jobs.js";
import { GPU_QUEUE, type Queues } from "./queues.js";

/** A GPU job handed to a remote runner: the BullMQ job and the lock token that lets its holder finish it. */
export interface GpuLease {
  jobId: string;
  token: string;
}

export interface LeasedJob {
  lease: GpuLease;
  data: unknown;
  /** Attempts before this one: a runner that failed, or a lease that lapsed. */
  attemptsMade: number;
}

/** A lease lapses when its runner stops renewing it; the job then goes back to the queue. */
export const LEASE_MS = 60_000;

/**
 * GPU jobs taken from the queue on behalf of runners that cannot reach Redis: BullMQ's manual
 * processing, with the lock token as the lease. Any app process can renew or finish a lease,
 * since all it needs is in the token; a lapsed lease is retried by the stalled-job check.
 */
export class GpuLeases {
  private readonly worker: Worker;

  constructor(
    private readonly queues: Queues,
    private readonly leaseMs = LEASE_MS,
  ) {
    this.worker = new Worker(GPU_QUEUE, null, {
      connection: queues.store.redis,
      prefix: queues.store.prefix,
      autorun: false,
      lockDuration: leaseMs,
      stalledInterval: leaseMs / 2,
      maxStalledCount: 2,
    });
    // Without a listener a lost Redis connection would end the process; BullMQ reconnects.
    this.worker.on("error", () => undefined);
  }

  /** Puts lapsed leases back in the queue from now on. */
  async watchLapsed(): Promise<void> {
    await this.worker.startStalledCheckTimer();
  }

  /** The next waiting job, or null when there is none. */
  async take(): Promise<LeasedJob | null> {
    const token = randomUUID();
    const job = (await this.worker.getNextJob(token, { block: false })) as Job | undefined;
    if (!job?.id) return null;
    return { lease: { jobId: job.id, token }, data: job.data as unknown, attemptsMade: job.attemptsMade };
  }

  private async job(lease: GpuLease): Promise<Job<GpuJob>> {
    const job = (await Job.fromId(this.queues.gpu, lease.jobId)) as Job<GpuJob> | undefined;
    if (!job) throw new LeaseLostError(lease, "the job is gone");
    return job;
  }

  /** The leased job's data, checked against the token (a lapsed lease's job may be another runner's now). */
  async held(lease: GpuLease): Promise<Job<GpuJob>> {
    const job = await this.job(lease);
    const holder = await this.queues.store.redis.get(`${this.queues.gpu.toKey(lease.jobId)}:lock`);
    if (holder !== lease.token) throw new LeaseLostError(lease, "the lease lapsed and the job went back to the queue");
    return job;
  }

  async renew(lease: GpuLease): Promise<void> {
    const job = await this.held(lease);
    if (!(await job.extendLock(lease.token, this.leaseMs))) throw new LeaseLostError(lease, "the lease lapsed");
  }

  async complete(lease: GpuLease, value: unknown): Promise<void> {
    const job = await this.held(lease);
    await job.moveToCompleted(value, lease.token, false);
  }

  /** Puts the job back for another host to take after `delayMs`, with `data` (its routing state); not an attempt. */
  async handBack(lease: GpuLease, data: GpuJob, delayMs: number): Promise<void> {
    const job = await this.held(lease);
    await job.updateData(data);
    await job.moveToDelayed(Date.now() + delayMs, lease.token);
  }

  /** Fails this attempt; true when no attempt is left (the job failed for good). */
  async fail(lease: GpuLease, reason: string): Promise<boolean> {
    const job = await this.held(lease);
    await job.moveToFailed(new Error(reason), lease.token, false);
    return job.isFailed();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}

export class LeaseLostError extends Error {
  constructor(lease: GpuLease, why: string) {
    super(`lease of ${lease.jobId}: ${why}`);
    this.name = "LeaseLostError";
  }
}
