import { createHash } from "node:crypto";
import nock from "nock";
import { Octokit } from "@octokit/rest";
import { connectRedis } from "../../src/adapters/store/redis.js";
import { REDIS_URL, testRedis } from "../helpers/redis.js";

export { testRedis };

/** Every key under `prefix`, read on a connection of its own (the handle under test may be closed). */
export async function keysUnder(prefix: string): Promise<string[]> {
  const admin = connectRedis(REDIS_URL, prefix);
  try {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await admin.redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    return keys;
  } finally {
    await admin.redis.quit();
  }
}

/** A deterministic, real-shaped 40-hex commit sha for `label`. */
export function sha(label: string): string {
  return createHash("sha1").update(label).digest("hex");
}

export const API = "https://api.github.com";

/** An installation client as the app builds one, without retries or logs, talking to nock. */
export function testOctokit(): Octokit {
  const quiet = () => {};
  return new Octokit({ auth: "ghs_test", request: { retries: 0 }, log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
}

/** GitHub only through nock; local Redis and git still reachable. */
export function blockNetwork(): void {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
}

/** Clears nock's interceptors and returns those never called: a test expects none to be left. */
export function takeUncalledMocks(): string[] {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  return pending;
}
