import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { connectRedis, type RedisHandle } from "../../../src/adapters/store/redis.js";
import { REDIS_URL } from "../../helpers/redis.js";
import { keysUnder } from "../support.js";

let handles: RedisHandle[] = [];
const prefix = () => `sheriff-test-redis-${randomBytes(4).toString("hex")}`;
const open = (p: string, options = {}) => {
  const handle = connectRedis(REDIS_URL, p, options);
  handles.push(handle);
  return handle;
};

afterEach(async () => {
  for (const handle of handles) {
    const keys = await keysUnder(handle.prefix);
    if (keys.length > 0) await handle.redis.del(...keys);
    await handle.redis.quit();
    expect(await keysUnder(handle.prefix)).toEqual([]);
  }
  handles = [];
});

describe("connectRedis", () => {
  it("builds every key under the prefix, parts joined by ':'", () => {
    const handle = open("sheriff-prod");
    expect(handle.prefix).toBe("sheriff-prod");
    expect(handle.key("repo", "gpu-team/flash-kernels", "chain", "main")).toBe("sheriff-prod:repo:gpu-team/flash-kernels:chain:main");
    expect(handle.key("perm")).toBe("sheriff-prod:perm");
    expect(handle.key()).toBe("sheriff-prod");
  });

  it("reaches the same data from two handles on one prefix, and none from another prefix", async () => {
    const p = prefix();
    const writer = open(p);
    const reader = open(p);
    const stranger = open(prefix());
    await writer.redis.set(writer.key("heads", "main"), "abc");
    expect(await reader.redis.get(reader.key("heads", "main"))).toBe("abc");
    expect(await stranger.redis.get(stranger.key("heads", "main"))).toBeNull();
    expect(await keysUnder(p)).toEqual([`${p}:heads:main`]);
  });

  it("waits out reconnects by default (BullMQ needs maxRetriesPerRequest null) and takes the caller's options", async () => {
    const p = prefix();
    const plain = open(p);
    expect(plain.redis.options.maxRetriesPerRequest).toBeNull();
    const named = open(p, { connectionName: p, maxRetriesPerRequest: 3 });
    expect(named.redis.options.maxRetriesPerRequest).toBe(3);
    await named.redis.ping();
    const clients = (await plain.redis.client("LIST")) as string;
    expect(clients.split("\n").filter((line) => line.includes(` name=${p} `))).toHaveLength(1);
  });
});
