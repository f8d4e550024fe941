import type { Logger } from "pino";
import type { CountedQueue } from "../../adapters/metrics.js";
import type { DashboardStore } from "../../adapters/store/dashboard.js";
import type { Ledger } from "../../adapters/store/ledger.js";
import type { SheriffConfig } from "../../model/config.js";
import type { DashboardGitHub, OAuthClient } from "./github.js";
import type { Html } from "./html.js";
import type { SessionCodec } from "./session.js";

export interface DashboardOptions {
  store: DashboardStore;
  ledger: Ledger;
  github: DashboardGitHub;
  /** Where people reach the app (SHERIFF_PUBLIC_URL), for the OAuth redirect back. */
  publicUrl: string;
  /** The GitHub App's OAuth client; without it private repositories' pages cannot be signed into. */
  oauth: OAuthClient | null;
  sessions: SessionCodec;
  log: Pick<Logger, "warn" | "error">;
  /** The queues whose depths the ledger page shows (the same as /metrics). */
  queues?: CountedQueue[];
}

/** What a page handler returns: a page body and title, or a redirect. */
export type PageResult = { title: string; body: Html; scripts?: Html; status?: number } | { redirect: string };

/** A repository page's context once access was granted. */
export interface RepoContext {
  owner: string;
  name: string;
  repo: string;
  config: SheriffConfig | null;
  query: URLSearchParams;
}
