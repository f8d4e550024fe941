import type { Octokit } from "@octokit/rest";
import { ConfigError, parseConfig } from "../../model/configFile.js";
import { CONFIG_PATH, type SheriffConfig } from "../../model/config.js";
import { isNotFound } from "./httpStatus.js";

export type ConfigLookup = { kind: "ok"; config: SheriffConfig } | { kind: "missing" } | { kind: "invalid"; error: ConfigError };

/** Reads `.github/sheriff.yml` as it is at `ref`. */
export async function readConfig(octokit: Octokit, owner: string, repo: string, ref: string): Promise<ConfigLookup> {
  let text: string;
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: CONFIG_PATH, ref });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) {
      return { kind: "invalid", error: new ConfigError([`${CONFIG_PATH} is not a file`]) };
    }
    text = Buffer.from(data.content, "base64").toString("utf8");
  } catch (err) {
    if (isNotFound(err)) return { kind: "missing" };
    throw err;
  }
  try {
    return { kind: "ok", config: parseConfig(text) };
  } catch (err) {
    if (err instanceof ConfigError) return { kind: "invalid", error: err };
    throw err;
  }
}

/**
 * Config lookups by commit (`owner/repo@sha`): the file at a sha never changes, so intake and every
 * analysis of the same head read it from GitHub once. Concurrent reads of one key share one request;
 * a failed read is not kept. Bounded: the least recently used entry is dropped first.
 */
export class ConfigCache {
  private readonly entries = new Map<string, Promise<ConfigLookup>>();

  constructor(private readonly capacity = 500) {}

  /** The lookup at `key`, missing and invalid configs included, loaded once. */
  lookup(key: string, load: () => Promise<ConfigLookup>): Promise<ConfigLookup> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const loading = load();
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return loading;
  }

  /** The lookup at `key` if it is cached (or being loaded); nothing is read. */
  peek(key: string): Promise<ConfigLookup> | undefined {
    return this.entries.get(key);
  }

  /** A valid config at `key`; when none is cached, `load` reads it (and throws when there is none). */
  async get(key: string, load: () => Promise<SheriffConfig>): Promise<SheriffConfig> {
    const found = await this.lookup(key, async () => ({ kind: "ok", config: await load() }));
    return found.kind === "ok" ? found.config : load();
  }
}
