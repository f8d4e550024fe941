import { describe, expect, it } from "vitest";
import { ConfigCache, type ConfigLookup } from "../../../src/adapters/github/config.js";
import { ConfigError, parseConfig } from "../../../src/model/configFile.js";

const CONFIG = parseConfig(`suites:\n  - { name: alpha, kind: command, command: "true", paths: ["**"] }\n`);
const OK: ConfigLookup = { kind: "ok", config: CONFIG };

/** A loader that counts its reads per key. */
function counting(answer: (key: string) => ConfigLookup = () => OK) {
  const reads = new Map<string, number>();
  return {
    reads,
    load: (key: string) => async () => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return answer(key);
    },
  };
}

describe("ConfigCache", () => {
  it("reads a commit's config once, however many ask, at once or later", async () => {
    const cache = new ConfigCache();
    const { reads, load } = counting();
    const key = "gpu-team/flash-kernels@abc";
    const all = await Promise.all([cache.lookup(key, load(key)), cache.lookup(key, load(key)), cache.lookup(key, load(key))]);
    expect(all).toEqual([OK, OK, OK]);
    // The analyses' reader sees what intake read.
    expect(await cache.get(key, async () => Promise.reject(new Error("read again")))).toBe(CONFIG);
    expect(reads.get(key)).toBe(1);
  });

  it("keeps a missing or invalid config too, so intake does not read it again", async () => {
    const invalid: ConfigLookup = { kind: "invalid", error: new ConfigError(["suites: Required"]) };
    const cache = new ConfigCache();
    const { reads, load } = counting((key) => (key.endsWith("missing") ? { kind: "missing" } : invalid));
    for (let i = 0; i < 3; i++) {
      expect(await cache.lookup("r@missing", load("r@missing"))).toEqual({ kind: "missing" });
      expect(await cache.lookup("r@invalid", load("r@invalid"))).toBe(invalid);
    }
    expect([...reads.values()]).toEqual([1, 1]);
    // An analysis at such a commit gets its reader's error, not a config.
    await expect(cache.get("r@invalid", async () => Promise.reject(new Error("no valid config")))).rejects.toThrow("no valid config");
  });

  it("does not keep a failed read", async () => {
    const cache = new ConfigCache();
    await expect(cache.lookup("k", async () => Promise.reject(new Error("502")))).rejects.toThrow("502");
    await expect(cache.get("k", async () => Promise.reject(new Error("404")))).rejects.toThrow("404");
    const { reads, load } = counting();
    expect(await cache.lookup("k", load("k"))).toEqual(OK);
    expect(reads.get("k")).toBe(1);
  });

  it("holds at most its capacity, dropping the least recently used", async () => {
    const cache = new ConfigCache(2);
    const { reads, load } = counting();
    await cache.lookup("a", load("a"));
    await cache.lookup("b", load("b"));
    await cache.lookup("a", load("a"));
    await cache.lookup("c", load("c"));
    // b was used least recently: it is the one read again; a and c are still there.
    await cache.lookup("b", load("b"));
    expect(Object.fromEntries(reads)).toEqual({ a: 1, b: 2, c: 1 });
    await cache.lookup("c", load("c"));
    expect(reads.get("c")).toBe(1);
    await cache.lookup("a", load("a"));
    expect(reads.get("a")).toBe(2);
  });
});
