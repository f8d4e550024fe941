import type { RedisHandle } from "../store/redis.js";

/** A ticket from one counter: later joins sort after earlier ones, whichever process made them. */
const JOIN = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[1]), ARGV[1])
return 1`;

const LEAVE_IF_HEAD = `
if redis.call('ZRANGE', KEYS[1], 0, 0)[1] == ARGV[1] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`;

export interface TurnOptions {
  /** How long to wait in place before giving the slot up (the caller retries later). */
  maxWaitMs: number;
  /** Whether the job at the head has finished for good (done, failed, or gone) without leaving. */
  finished: (id: string) => Promise<boolean>;
  pollMs?: number;
  /** A head that has not moved for this long is asked whether it still exists. */
  staleMs?: number;
}

/**
 * First-come lanes in Redis: jobs of one lane run one at a time in the order they joined, across
 * processes; jobs of different lanes do not wait for each other. A job joins when it is queued,
 * runs when it is at the head, and leaves when done; a failing job keeps its place while it
 * is retried.
 */
export class Lanes {
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: RedisHandle,
    private readonly name: string,
  ) {}

  private key(lane: string): string {
    return this.store.key(this.name, "lane", lane);
  }

  async join(lane: string, id: string): Promise<void> {
    await this.store.redis.eval(JOIN, 2, this.store.key(this.name, "tickets"), this.key(lane), id);
  }

  async leave(lane: string, id: string): Promise<void> {
    await this.store.redis.zrem(this.key(lane), id);
    for (const wake of this.wakers.get(lane) ?? []) wake();
  }

  /** Waits until `id` is at the head of `lane`; false when that took longer than `maxWaitMs`. */
  async turn(lane: string, id: string, options: TurnOptions): Promise<boolean> {
    const { pollMs = 20, staleMs = 1000 } = options;
    const deadline = Date.now() + options.maxWaitMs;
    // Normally joined when queued; a job queued without (or whose entry was lost) takes the last place.
    await this.join(lane, id);
    let seen = { head: id, since: 0 };
    for (;;) {
      const [head] = await this.store.redis.zrange(this.key(lane), 0, 0);
      if (head === id || head === undefined) return head === id;
      const now = Date.now();
      if (seen.head !== head) seen = { head, since: now };
      else if (now - seen.since >= staleMs) {
        if (await options.finished(head)) {
          await this.store.redis.eval(LEAVE_IF_HEAD, 1, this.key(lane), head);
          continue;
        }
        seen = { head, since: now };
      }
      if (now >= deadline) return false;
      await this.nap(lane, Math.min(pollMs, deadline - now));
    }
  }

  /** Sleeps, or less when a job of this process leaves the lane. */
  private nap(lane: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.wakers.get(lane) ?? new Set();
      this.wakers.set(lane, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.wakers.delete(lane);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
}
