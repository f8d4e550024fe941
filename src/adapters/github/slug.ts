import type { Octokit } from "@octokit/rest";

/**
 * The app's slug (what people @-mention) from `GET /app`. Needs an Octokit authenticated as the
 * app itself (JWT), not as an installation. Read once at start-up and pass it to `CommandDeps`.
 */
export async function fetchAppSlug(appOctokit: Octokit): Promise<string> {
  const { data } = await appOctokit.rest.apps.getAuthenticated();
  const slug = data?.slug;
  if (!slug) throw new Error("GET /app returned no slug");
  return slug;
}
