import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A lock in Redis that expires unless renewed, so a process that dies holding it blocks others
 * for one lease at most. Renewal and release check the token: a holder whose lease ran out never
 * extends or frees the lock someone else took since.
 */
export class Lease {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly token: string,
    readonly ms: number,
  ) {}

  async renew(): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key, this.token, this.ms)) === 1;
  }

  async release(): Promise<boolean> {
    return Number(await this.redis.eval(RELEASE, 1, this.key, this.token)) === 1;
  }
}

export function newLeaseToken(): string {
  return randomUUID();
}

/**
 * Runs `fn` while renewing `lease` every third of its length, and releases it afterwards
 * (a release after the lease was handed on, or lost, changes nothing).
 */
export async function holding<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => void lease.renew().catch(() => undefined), Math.max(1, Math.floor(lease.ms / 3)));
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    await lease.release();
  }
}
