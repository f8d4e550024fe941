/** Who may see a repository's pages: anyone for a public repository whose config opens them, else people who can read it. */
export type PageAccess = { kind: "allowed" } | { kind: "sign-in" } | { kind: "refused"; reason: string };

export function decidePageAccess(input: {
  repoPrivate: boolean;
  /** The config's `dashboard.public`: a public repository's pages need no sign-in. */
  openWhenPublic: boolean;
  viewer: { login: string; canRead: boolean } | null;
}): PageAccess {
  if (!input.repoPrivate && input.openWhenPublic) return { kind: "allowed" };
  if (!input.viewer) return { kind: "sign-in" };
  if (input.viewer.canRead) return { kind: "allowed" };
  return { kind: "refused", reason: `@${input.viewer.login} cannot read this repository on GitHub` };
}

/** Where to go after signing in: only a path of the dashboard itself, never another site. */
export function safeReturnPath(candidate: string | undefined, prefix: string): string {
  if (!candidate || !candidate.startsWith(`${prefix}/`) || candidate.startsWith("//") || /[\\\r\n]/.test(candidate)) return `${prefix}/`;
  return candidate;
}
