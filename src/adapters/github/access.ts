import type { Octokit } from "@octokit/rest";
import type { Probot } from "probot";
import { fetchAppSlug } from "./slug.js";
import type { RepoRef } from "../../model/repo.js";

export interface InstallationAccess {
  octokit: Octokit;
  /** The installation token, also used for git over HTTPS. */
  token: string;
}

/** Hands out per-installation clients; tokens last an hour, so they are reused for 50 minutes. */
export interface GitHubAccess {
  forInstallation(installationId: number): Promise<InstallationAccess>;
  /** The app's slug, read from GET /app (commands are addressed as @slug). */
  appSlug(): Promise<string>;
}

const TOKEN_REUSE_MS = 50 * 60 * 1000;

/**
 * How long a GitHub request may go unanswered before it fails: a hung request would otherwise
 * hold its flow (and its worker slot) forever; failed, its job is retried later.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Every request of the client without a signal of its own is aborted after `ms`. */
function abortAfter(octokit: Octokit, ms: number): void {
  octokit.hook.before("request", (options) => {
    options.request = { ...options.request, signal: options.request?.signal ?? AbortSignal.timeout(ms) };
  });
}

type ClientClass = new (options: Record<string, unknown>) => Octokit;

/**
 * A client for one installation token, of the app client's own class: it throttles and retries
 * (rate limits, secondary limits, 5xx) as the Probot was configured to, and logs through it.
 * The class has the REST methods and pagination Sheriff uses, as `@octokit/rest` does.
 */
function installationClient(appOctokit: object, token: string, baseUrl: string | undefined, hooks: ClientHooks): Octokit {
  const Client = appOctokit.constructor as ClientClass;
  const octokit = new Client({ auth: { token }, ...(baseUrl ? { baseUrl } : {}) });
  abortAfter(octokit, hooks.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
  hooks.decorate?.(octokit);
  return octokit;
}

/** Sees every installation client as it is made: metrics count its responses, links are added to what it posts. */
export interface ClientHooks {
  decorate?: (octokit: Octokit) => void;
  /** REQUEST_TIMEOUT_MS unless set. */
  requestTimeoutMs?: number;
}

/**
 * The id of the app's bot user (`<slug>[bot]`), for its noreply commit address; undefined when
 * GitHub does not say (the address then goes without it).
 */
export async function botUserId(octokit: Octokit, slug: string): Promise<number | undefined> {
  try {
    const { data } = await octokit.rest.users.getByUsername({ username: `${slug}[bot]` });
    return data.id;
  } catch {
    return undefined;
  }
}

export function probotAccess(probot: Probot, baseUrl: string | undefined, hooks: ClientHooks = {}): GitHubAccess {
  const cache = new Map<number, { access: InstallationAccess; until: number }>();
  let slug: Promise<string> | null = null;
  return {
    async forInstallation(installationId) {
      const hit = cache.get(installationId);
      if (hit && hit.until > Date.now()) return hit.access;
      // Asked through the app's own client: it carries the configured base URL (GitHub Enterprise,
      // the stand-in), which the auth strategy's built-in token request would not use.
      const appOctokit = await probot.auth();
      const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
        installation_id: installationId,
        request: { signal: AbortSignal.timeout(hooks.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) },
      });
      const token = data.token;
      const access = { token, octokit: installationClient(appOctokit, token, baseUrl, hooks) };
      cache.set(installationId, { access, until: Date.now() + TOKEN_REUSE_MS });
      return access;
    },
    appSlug() {
      slug ??= probot.auth().then((octokit) => fetchAppSlug(octokit));
      slug.catch(() => {
        slug = null;
      });
      return slug;
    },
  };
}

/** A token for one repository that can do nothing but read its contents. */
export type ReadToken = (repo: Pick<RepoRef, "owner" | "repo" | "installationId">) => Promise<string>;

/**
 * Tokens for GPU hosts: a host fetches the commit it tests and needs nothing more, so it never gets
 * the installation's full token (every repository, every permission the app has). One per
 * repository, reused for 50 minutes.
 */
export function repositoryReadTokens(probot: Probot, requestTimeoutMs = REQUEST_TIMEOUT_MS): ReadToken {
  const cache = new Map<string, { token: string; until: number }>();
  return async (repo) => {
    const key = `${repo.installationId}:${repo.owner}/${repo.repo}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.token;
    const appOctokit = await probot.auth();
    const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
      installation_id: repo.installationId,
      repositories: [repo.repo],
      permissions: { contents: "read" },
      request: { signal: AbortSignal.timeout(requestTimeoutMs) },
    });
    cache.set(key, { token: data.token, until: Date.now() + TOKEN_REUSE_MS });
    return data.token;
  };
}
