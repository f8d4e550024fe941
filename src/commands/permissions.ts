import type { Octokit } from "@octokit/rest";
import type { RedisHandle } from "../store/redis.js";
import { specOf } from "./help.js";
import type { Command } from "./types.js";

/** Sheriff's view of a user's access to a repository. */
export type Permission = "admin" | "write" | "read" | "none";

const RANK: Record<Permission, number> = { none: 0, read: 1, write: 2, admin: 3 };

/**
 * Pure: may a user with `permission` run `command`? Write access (write, maintain or admin) is
 * needed for everything with an audience of "write" in `COMMAND_SPECS` (revert, land, rerun,
 * bisect, rebaseline, cancel: they change the branch or spend GPU time); anyone may ask for
 * help or an explanation.
 */
export function mayRun(command: Pick<Command, "name">, permission: Permission): boolean {
  return specOf(command.name).audience === "anyone" || RANK[permission] >= RANK.write;
}

/** GitHub's `role_name` (or legacy `permission`) to Sheriff's four levels. */
export function toPermission(roleOrPermission: string | null | undefined): Permission {
  switch (roleOrPermission) {
    case "admin":
      return "admin";
    case "maintain":
    case "write":
      return "write";
    case "triage":
    case "read":
      return "read";
    default:
      return "none";
  }
}

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
  const keyOf = (owner: string, repo: string, login: string) =>
    redis.key("perm", `${owner}/${repo}`.toLowerCase(), login.toLowerCase());
  return {
    async permissionOf(octokit, owner, repo, login) {
      const key = keyOf(owner, repo, login);
      const cached = await redis.redis.get(key);
      if (cached && cached in RANK) return cached as Permission;
      let permission: Permission;
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
        permission = toPermission(data.role_name ?? data.permission);
        // role_name can be a custom repository role; fall back to the base permission then.
        if (permission === "none" && data.permission) permission = toPermission(data.permission);
      } catch (err) {
        if ((err as { status?: number }).status === 404) permission = "none";
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
