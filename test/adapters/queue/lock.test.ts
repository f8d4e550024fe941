import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Coalescer } from "../../../src/adapters/queue/coalesce.js";
import { Lanes } from "../../../src/adapters/queue/lanes.js";
import { holding, Lease } from "../../../src/adapters/queue/lease.js";
import { keysUnder, testRedis } from "../support.js";

let store: ReturnType<typeof testRedis>;
/** A second process on the same Redis and prefix. */
let other: ReturnType<typeof testRedis>;

beforeEach(() => {
  store = testRedis("lock");
  other = testRedis("lock", store.prefix);
});

afterEach(async () => {
  const prefix = store.prefix;
  await other.redis.quit();
  await store.cleanup();
  expect(await keysUnder(prefix)).toEqual([]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("leases", () => {
  it("renew and release only with their own token", async () => {
    const key = store.key("lease", "k");
    await store.redis.set(key, "mine", "PX", 1000);
    const stranger = new Lease(other.redis, key, "theirs", 5000);
    expect(await stranger.renew()).toBe(false);
    expect(await stranger.release()).toBe(false);
    expect(await store.redis.get(key)).toBe("mine");
    const mine = new Lease(store.redis, key, "mine", 5000);
    expect(await mine.renew()).toBe(true);
    expect(await store.redis.pttl(key)).toBeGreaterThan(1000);
    expect(await mine.release()).toBe(true);
    expect(await store.redis.exists(key)).toBe(0);
  });

  it("stay held past their length while the work runs, and are released after it", async () => {
    const key = store.key("lease", "k");
    await store.redis.set(key, "t", "PX", 150);
    const lease = new Lease(store.redis, key, "t", 150);
    await holding(lease, async () => {
      await sleep(400);
      expect(await store.redis.get(key)).toBe("t");
    });
    expect(await store.redis.exists(key)).toBe(0);
  });
});

describe("coalesced runs", () => {
  it("let one holder in, keep it for requests made during its run, and then report the others served", async () => {
    const a = new Coalescer(store, "analysis");
    const b = new Coalescer(other, "analysis");
    await a.request("suite", "r1", { n: 1 });
    const first = await a.enter("suite", "r1");
    expect(first.kind).toBe("acquired");
    if (first.kind !== "acquired") return;
    const batch = await a.pending("suite");
    expect(batch.map((p) => [p.id, p.payload])).toEqual([["r1", { n: 1 }]]);

    // Another process asks twice while the run is on: it must wait, and neither request is lost.
    await b.request("suite", "r2", { n: 2 });
    await b.request("suite", "r3", { n: 3 });
    expect((await b.enter("suite", "r2")).kind).toBe("busy");
    await a.served("suite", ["r1"]);
    expect(await a.again(first.lease, "suite")).toBe(true);
    const second = await a.pending("suite");
    expect(second.map((p) => p.payload)).toEqual([{ n: 2 }, { n: 3 }]);
    await a.served(
      "suite",
      second.map((p) => p.id),
    );
    expect(await a.again(first.lease, "suite")).toBe(false);

    expect((await b.enter("suite", "r2")).kind).toBe("served");
    expect((await b.enter("suite", "r3")).kind).toBe("served");
    // Released: the next request gets in at once.
    await b.request("suite", "r4", {});
    expect((await b.enter("suite", "r4")).kind).toBe("acquired");
  });

  it("keep keys apart", async () => {
    const a = new Coalescer(store, "analysis");
    await a.request("one", "r1", {});
    await a.request("two", "r2", {});
    expect((await a.enter("one", "r1")).kind).toBe("acquired");
    expect((await a.enter("two", "r2")).kind).toBe("acquired");
  });

  it("let a waiting request in once a dead holder's lease ran out", async () => {
    const a = new Coalescer(store, "analysis", 100);
    await a.request("suite", "r1", {});
    await a.request("suite", "r2", {});
    expect((await a.enter("suite", "r1")).kind).toBe("acquired");
    // The holder dies without finishing: nothing renews its lease.
    expect((await a.enter("suite", "r2")).kind).toBe("busy");
    await sleep(150);
    expect((await a.enter("suite", "r2")).kind).toBe("acquired");
  });
});

describe("lanes", () => {
  it("run the jobs of one lane one at a time in the order they joined, across processes", async () => {
    const lanes = [new Lanes(store, "intake"), new Lanes(other, "intake")];
    const ids = ["p1", "p2", "p3", "p4", "p5", "p6"];
    for (const id of ids) await lanes[0]!.join("repo:main", id);
    const ran: string[] = [];
    let running = 0;
    let overlapped = false;
    // Started in reverse, alternating processes: the lane, not the start order, decides.
    await Promise.all(
      [...ids].reverse().map(async (id, i) => {
        const lane = lanes[i % 2]!;
        expect(await lane.turn("repo:main", id, { maxWaitMs: 10_000, finished: async () => false, pollMs: 5 })).toBe(true);
        running++;
        if (running > 1) overlapped = true;
        await sleep(10);
        ran.push(id);
        running--;
        await lane.leave("repo:main", id);
      }),
    );
    expect(ran).toEqual(ids);
    expect(overlapped).toBe(false);
  });

  it("do not hold one lane up behind another", async () => {
    const lanes = new Lanes(store, "intake");
    await lanes.join("repo:main", "a1");
    await lanes.join("repo:dev", "b1");
    expect(await lanes.turn("repo:dev", "b1", { maxWaitMs: 0, finished: async () => false })).toBe(true);
  });

  it("give up the wait after the bound, and step past a head that finished without leaving", async () => {
    const lanes = new Lanes(store, "intake");
    await lanes.join("repo:main", "gone");
    await lanes.join("repo:main", "next");
    const finished = async (id: string) => id === "gone";
    expect(await lanes.turn("repo:main", "next", { maxWaitMs: 50, finished, staleMs: 10_000 })).toBe(false);
    expect(await lanes.turn("repo:main", "next", { maxWaitMs: 1000, finished, staleMs: 20, pollMs: 5 })).toBe(true);
    expect(await store.redis.zrange(store.key("intake", "lane", "repo:main"), 0, -1)).toEqual(["next"]);
  });
});
