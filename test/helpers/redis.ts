import { randomBytes } from "node:crypto";
import { connectRedis, type RedisHandle } from "../../src/adapters/store/redis.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis handle under a prefix no other test uses (or the given one, to restart on it); `cleanup` deletes every key under it. */
export function testRedis(name: string, reuse?: string): RedisHandle & { cleanup(): Promise<void>; dropConnections(): Promise<number> } {
  const prefix = reuse ?? `sheriff-test-${name}-${randomBytes(4).toString("hex")}`;
  // Named connections (BullMQ's duplicates keep the name), so a test can cut exactly its own.
  const handle = connectRedis(REDIS_URL, prefix, { connectionName: prefix });
  return {
    ...handle,
    /** Drops every connection this test opened, as a Redis restart or a network blip would. */
    async dropConnections(): Promise<number> {
      const admin = connectRedis(REDIS_URL, prefix);
      try {
        const list = (await admin.redis.client("LIST")) as string;
        // Ours, and BullMQ's (it names its connections "<prefix>:<queue>").
        const ids = list
          .split("\n")
          .filter((line) => line.includes(` name=${prefix} `) || line.includes(` name=${prefix}:`))
          .map((line) => /id=(\d+)/.exec(line)![1]!);
        for (const id of ids) await admin.redis.client("KILL", "ID", id);
        return ids.length;
      } finally {
        await admin.redis.quit();
      }
    },
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await handle.redis.scan(cursor, "MATCH", `${handle.prefix}:*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await handle.redis.del(...keys);
      } while (cursor !== "0");
      await handle.redis.quit();
    },
  };
}
