/** What reading the slug needs of a client authenticated as the app: Octokit and Probot's client both fit. */
interface AppClient {
  rest: { apps: { getAuthenticated(): Promise<{ data: { slug?: string } | null }> } };
}

/**
 * The app's slug (what people @-mention) from `GET /app`. Needs an Octokit authenticated as the
 * app itself (JWT), not as an installation. Read once, when the first command needs it.
 */
export async function fetchAppSlug(appOctokit: AppClient): Promise<string> {
  const { data } = await appOctokit.rest.apps.getAuthenticated();
  const slug = data?.slug;
  if (!slug) throw new Error("GET /app returned no slug");
  return slug;
}
