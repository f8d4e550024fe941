import { z } from "zod";
import type { PermissionScope } from "../adapters/github/permissions.js";

/**
 * The webhooks after which someone's permission on a repository may differ, and whose cached
 * answers that reaches. Parsed here only: nothing else reads these payloads.
 */
export const PERMISSION_EVENTS = ["member", "membership", "organization", "team", "team_add"] as const;
export type PermissionEvent = (typeof PERMISSION_EVENTS)[number];

const login = z.object({ login: z.string().min(1) }).passthrough();
const repository = z.object({ name: z.string().min(1), owner: login }).passthrough();

const schemas = {
  // A collaborator added to, removed from, or with a changed permission on one repository.
  member: z.object({ member: login, repository }).passthrough(),
  // Added to or removed from a team: every repository of the organization the team may reach.
  membership: z.object({ member: login, organization: login }).passthrough(),
  // Joined or left the organization (base permissions, or the teams that came with it).
  organization: z.object({ organization: login, membership: z.object({ user: login }).passthrough().optional() }).passthrough(),
  // A team added to or removed from a repository, or its permission changed: all its members.
  team: z.object({ organization: login, repository: repository.optional() }).passthrough(),
  team_add: z.object({ organization: login, repository: repository.optional() }).passthrough(),
} satisfies Record<PermissionEvent, z.ZodTypeAny>;

/** The cached permissions an event may have made wrong; null when the payload is not understood. */
export function permissionScopeOf(event: PermissionEvent, payload: unknown): PermissionScope | null {
  switch (event) {
    case "member": {
      const p = schemas.member.safeParse(payload);
      return p.success ? { owner: p.data.repository.owner.login, repo: p.data.repository.name, login: p.data.member.login } : null;
    }
    case "membership": {
      const p = schemas.membership.safeParse(payload);
      return p.success ? { owner: p.data.organization.login, login: p.data.member.login } : null;
    }
    case "organization": {
      const p = schemas.organization.safeParse(payload);
      if (!p.success) return null;
      const user = p.data.membership?.user.login;
      return { owner: p.data.organization.login, ...(user ? { login: user } : {}) };
    }
    case "team":
    case "team_add": {
      const p = schemas[event].safeParse(payload);
      if (!p.success) return null;
      return { owner: p.data.organization.login, ...(p.data.repository ? { repo: p.data.repository.name } : {}) };
    }
  }
}
