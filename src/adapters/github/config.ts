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
 * Configs by commit: the file at a sha never changes, so analyses of the same head (one after
 * every result) read it from GitHub once. Bounded, oldest dropped first.
 */
export class ConfigCache {
  private readonly entries = new Map<string, SheriffConfig>();

  constructor(private readonly capacity = 500) {}

  async get(key: string, load: () => Promise<SheriffConfig>): Promise<SheriffConfig> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const config = await load();
    this.entries.set(key, config);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return config;
  }
}
