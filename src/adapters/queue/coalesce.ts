import type { RedisHandle } from "../store/redis.js";
import { Lease, newLeaseToken } from "./lease.js";

/** A request is pending until a run that started after it finishes; then its job has nothing left to do. */
const ENTER = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 'served' end
if redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'NX') then return 'acquired' end
return 'busy'`;

/** Atomically with the check, so a request added just before the holder lets go is never left behind. */
const AGAIN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('HLEN', KEYS[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
redis.call('DEL', KEYS[1])
return 0`;

export interface PendingRequest {
  id: string;
  /** When it was requested (ms since the epoch): the newest one says what to run. */
  at: number;
  payload: unknown;
}

export type Entry = { kind: "served" } | { kind: "busy" } | { kind: "acquired"; lease: Lease };

/**
 * Runs of one key one at a time across processes, with the requests made meanwhile folded into
 * the next run. Each request is recorded as pending before its job is queued; the lease holder
 * takes every pending request, runs once for all of them, marks them served and goes again while
 * more arrived. A job whose request was served has nothing to do; one that finds the lease held
 * waits and checks again, which also covers a holder that died (its lease expires).
 */
export class Coalescer {
  constructor(
    private readonly store: RedisHandle,
    private readonly name: string,
    private readonly leaseMs = 30_000,
  ) {}

  private keys(key: string): [string, string] {
    return [this.store.key(this.name, "lease", key), this.store.key(this.name, "pending", key)];
  }

  async request(key: string, id: string, payload: unknown): Promise<void> {
    const request: Omit<PendingRequest, "id"> = { at: Date.now(), payload };
    await this.store.redis.hset(this.keys(key)[1], id, JSON.stringify(request));
  }

  async enter(key: string, id: string): Promise<Entry> {
    const [lease, pending] = this.keys(key);
    const token = newLeaseToken();
    const outcome = String(await this.store.redis.eval(ENTER, 2, lease, pending, id, token, this.leaseMs));
    if (outcome === "acquired") return { kind: "acquired", lease: new Lease(this.store.redis, lease, token, this.leaseMs) };
    return outcome === "served" ? { kind: "served" } : { kind: "busy" };
  }

  /** Every pending request of `key`, oldest first; one that is not JSON is returned with a null payload. */
  async pending(key: string): Promise<PendingRequest[]> {
    const all = await this.store.redis.hgetall(this.keys(key)[1]);
    return Object.entries(all)
      .map(([id, text]) => {
        try {
          const { at, payload } = JSON.parse(text) as Omit<PendingRequest, "id">;
          return { id, at: Number(at) || 0, payload };
        } catch {
          return { id, at: 0, payload: null };
        }
      })
      .sort((a, b) => a.at - b.at);
  }

  async served(key: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.store.redis.hdel(this.keys(key)[1], ...ids);
  }

  /** True when requests arrived during the last run: the lease is kept for one more. Otherwise it is released. */
  async again(lease: Lease, key: string): Promise<boolean> {
    const [, pending] = this.keys(key);
    return Number(await this.store.redis.eval(AGAIN, 2, lease.key, pending, lease.token, lease.ms)) === 1;
  }
}
