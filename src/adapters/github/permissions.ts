import type { Octokit } from "@octokit/rest";
import type { RedisHandle } from "../store/redis.js";
import { isPermission, toPermission, type Permission } from "../../model/permission.js";
import { isNotFound } from "./httpStatus.js";

/** Whose cached permissions a membership change may have changed; absent fields match everyone. */
export interface PermissionScope {
  owner: string;
  repo?: string;
  login?: string;
}

export interface PermissionChecker {
  permissionOf(octokit: Octokit, owner: string, repo: string, login: string): Promise<Permission>;
  /** Drops a cached answer (after a permission change webhook, say). */
  forget(owner: string, repo: string, login: string): Promise<void>;
  /** Drops every cached answer in the scope: a team or organization change reaches many repositories and people. */
  forgetScope(scope: PermissionScope): Promise<number>;
}

export interface PermissionCheckerOptions {
  redis: RedisHandle;
  /** How long an answer is cached in Redis; short, so a revoked permission stops working soon. */
  ttlSeconds?: number;
  /**
   * False: always ask GitHub (the answer is still cached for others). For acting commands, so a
   * permission revoked a moment ago is never honoured from the cache.
   */
  readCache?: boolean;
}

/** Escapes Redis glob characters (bot logins end in `[bot]`). */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Looks up permissions through `GET /repos/{owner}/{repo}/collaborators/{username}/permission`
 * and caches them under `<prefix>:perm:<owner>/<repo>:<login>` (lowercased) for `ttlSeconds`.
 * A 404 (no such user, or not visible to the app) is "none". Other errors propagate.
 */
export function createPermissionChecker({ redis, ttlSeconds = 60, readCache = true }: PermissionCheckerOptions): PermissionChecker {
  const keyOf = (owner: string, repo: string, login: string) => redis.key("perm", `${owner}/${repo}`.toLowerCase(), login.toLowerCase());
  return {
    async permissionOf(octokit, owner, repo, login) {
      const key = keyOf(owner, repo, login);
      const cached = readCache ? await redis.redis.get(key) : null;
      if (cached && isPermission(cached)) return cached;
      let permission: Permission;
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
        permission = toPermission(data.role_name ?? data.permission);
        // role_name can be a custom repository role; fall back to the base permission then.
        if (permission === "none" && data.permission) permission = toPermission(data.permission);
      } catch (err) {
        if (isNotFound(err)) permission = "none";
        else throw err;
      }
      await redis.redis.set(key, permission, "EX", ttlSeconds);
      return permission;
    },
    async forget(owner, repo, login) {
      await redis.redis.del(keyOf(owner, repo, login));
    },
    async forgetScope({ owner, repo, login }) {
      const part = (value: string | undefined) => (value === undefined ? "*" : globEscape(value.toLowerCase()));
      const pattern = `${globEscape(redis.key("perm"))}:${part(owner)}/${part(repo)}:${part(login)}`;
      let dropped = 0;
      let cursor = "0";
      do {
        const [next, keys] = await redis.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) dropped += await redis.redis.del(...keys);
      } while (cursor !== "0");
      return dropped;
    },
  };
}
