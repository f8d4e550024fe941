/** Sheriff's view of a user's access to a repository. */
export type Permission = "admin" | "write" | "read" | "none";

export const PERMISSION_RANK: Record<Permission, number> = { none: 0, read: 1, write: 2, admin: 3 };

export function isPermission(value: string): value is Permission {
  return value in PERMISSION_RANK;
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
