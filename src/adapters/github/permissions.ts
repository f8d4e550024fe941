import type { Octokit } from "@octokit/rest";
import type { RedisHandle } from "../store/redis.js";
import { isPermission, toPermission, type Permission } from "../../model/permission.js";
import { isNotFound } from "./httpStatus.js";

export interface PermissionChecker {
  permissionOf(octokit: Octokit, owner: string, repo: string, login: string): Promise<Permission>;
  /** Drops a cached answer (after a permission change webhook, say). */
  forget(owner: string, repo: string, login: string): Promise<void>;
}

export interface PermissionCheckerOptions {
  redis: RedisHandle;
  /** How long an answer is cached in Redis; short, so a revoked permission stops working soon. */
  ttlSeconds?: number;
}

/**
 * Looks up permissions through `GET /repos/{owner}/{repo}/collaborators/{username}/permission`
 * and caches them under `<prefix>:perm:<owner>/<repo>:<login>` (lowercased) for `ttlSeconds`.
 * A 404 (no such user, or not visible to the app) is "none". Other errors propagate.
 */
export function createPermissionChecker({ redis, ttlSeconds = 60 }: PermissionCheckerOptions): PermissionChecker {
  const keyOf = (owner: string, repo: string, login: string) => redis.key("perm", `${owner}/${repo}`.toLowerCase(), login.toLowerCase());
  return {
    async permissionOf(octokit, owner, repo, login) {
      const key = keyOf(owner, repo, login);
      const cached = await redis.redis.get(key);
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
  };
}
