import { Octokit } from "@octokit/rest";
import { z } from "zod";
import type { GitHubAccess } from "../../adapters/github/access.js";
import { readConfig } from "../../adapters/github/config.js";
import { httpStatusOf } from "../../adapters/github/httpStatus.js";
import type { SheriffConfig } from "../../model/config.js";
import { REVERT_LABEL } from "../../flows/revert.js";

/** What the dashboard asks GitHub: a repository's visibility and config, and what a signed-in person may read. */
export interface DashboardGitHub {
  /** Null when the app is not installed on the repository. */
  repoFacts(owner: string, repo: string, ref: string | null): Promise<{ private: boolean; config: SheriffConfig | null } | null>;
  /** Whether the user's token can read the repository (GET /repos/{owner}/{repo} with it). */
  canRead(userToken: string, owner: string, repo: string): Promise<boolean>;
  /** The signed-in user's login (GET /user). */
  userLogin(userToken: string): Promise<string>;
  /** Sheriff's newest revert PRs (by their label) and whether each was merged, closed unmerged or is open. */
  revertPulls(owner: string, repo: string): Promise<RevertPullState[]>;
}

export interface RevertPullState {
  number: number;
  state: "open" | "merged" | "closed";
}

const FACTS_TTL_MS = 60_000;

/** Cached for a minute: a page view must not cost several GitHub requests. */
class TtlCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(private readonly capacity = 1000) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = load();
    this.entries.set(key, { value, until: Date.now() + FACTS_TTL_MS });
    value.catch(() => this.entries.delete(key));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

export function dashboardGitHub(options: {
  access: GitHubAccess;
  /** A client authenticated as the app (a JWT), to find the installation of a repository. */
  appClient: () => Promise<Pick<Octokit, "rest">>;
  apiUrl: string | undefined;
}): DashboardGitHub {
  const facts = new TtlCache<{ private: boolean; config: SheriffConfig | null } | null>();
  const reads = new TtlCache<boolean>();
  const pulls = new TtlCache<RevertPullState[]>();
  const installationOf = async (owner: string, repo: string) => {
    const app = await options.appClient();
    return (await options.access.forInstallation((await app.rest.apps.getRepoInstallation({ owner, repo })).data.id)).octokit;
  };
  const userClient = (token: string) => new Octokit({ auth: token, ...(options.apiUrl ? { baseUrl: options.apiUrl } : {}) });
  return {
    repoFacts(owner, repo, ref) {
      return facts.get(`${owner}/${repo}@${ref}`, async () => {
        const app = await options.appClient();
        let installationId: number;
        try {
          installationId = (await app.rest.apps.getRepoInstallation({ owner, repo })).data.id;
        } catch (err) {
          if (httpStatusOf(err) === 404) return null;
          throw err;
        }
        const { octokit } = await options.access.forInstallation(installationId);
        const { data } = await octokit.rest.repos.get({ owner, repo });
        const lookup = await readConfig(octokit, owner, repo, ref ?? data.default_branch);
        return { private: data.private, config: lookup.kind === "ok" ? lookup.config : null };
      });
    },
    canRead(userToken, owner, repo) {
      return reads.get(`${userToken}:${owner}/${repo}`, async () => {
        try {
          await userClient(userToken).rest.repos.get({ owner, repo });
          return true;
        } catch (err) {
          const status = httpStatusOf(err);
          if (status === 404 || status === 403 || status === 401) return false;
          throw err;
        }
      });
    },
    revertPulls(owner, repo) {
      return pulls.get(`${owner}/${repo}`, async () => {
        // One request: the issues list carries each PR's merge time.
        const octokit = await installationOf(owner, repo);
        const { data } = await octokit.rest.issues.listForRepo({ owner, repo, labels: REVERT_LABEL, state: "all", per_page: 100 });
        return data.flatMap((issue): RevertPullState[] =>
          issue.pull_request
            ? [{ number: issue.number, state: issue.pull_request.merged_at ? "merged" : issue.state === "closed" ? "closed" : "open" }]
            : [],
        );
      });
    },
    async userLogin(userToken) {
      return (await userClient(userToken).rest.users.getAuthenticated()).data.login;
    },
  };
}

/** GitHub's answer to the code exchange: a token, or an error it names. */
const tokenResponseSchema = z.union([
  z.object({ access_token: z.string().min(1), token_type: z.string() }).passthrough(),
  z.object({ error: z.string(), error_description: z.string().optional() }).passthrough(),
]);

/** The GitHub App's user authorization (OAuth web flow): the authorize address, and the code exchange. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** GitHub's web address (https://github.com, or the Enterprise host). */
  webUrl: string;
}

export function authorizeUrl(client: OAuthClient, redirectUri: string, state: string): string {
  const url = new URL("/login/oauth/authorize", client.webUrl);
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("state", state);
  return url.toString();
}

export async function exchangeCode(client: OAuthClient, code: string, redirectUri: string): Promise<string> {
  const response = await fetch(new URL("/login/oauth/access_token", client.webUrl), {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, code, redirect_uri: redirectUri }),
  });
  if (!response.ok) throw new Error(`GitHub answered the code exchange with HTTP ${response.status}`);
  const parsed = tokenResponseSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error("GitHub's code exchange answer has neither a token nor an error");
  if ("error" in parsed.data) throw new Error(`GitHub refused the code: ${parsed.data.error_description ?? parsed.data.error}`);
  return parsed.data.access_token;
}
