import { randomBytes } from "node:crypto";
import { connectRedis, type RedisHandle } from "../../src/store/redis.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis handle under a prefix no other test uses; `cleanup` deletes every key under it. */
export function testRedis(name: string): RedisHandle & { cleanup(): Promise<void> } {
  const handle = connectRedis(REDIS_URL, `sheriff-test-${name}-${randomBytes(4).toString("hex")}`);
  return {
    ...handle,
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
