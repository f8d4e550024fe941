import type { Logger } from "pino";
import type { GitHubAccess } from "../github/access.js";
import type { ConfigCache } from "../github/config.js";
import type { Queues } from "../queue/queues.js";
import type { RepoCache } from "../repo/git.js";
import type { Ledger } from "../store/ledger.js";
import type { DecisionEngine } from "../verdict/types.js";

/** What the control flow needs from the outside world, injected so tests use real Redis and git with a faked GitHub. */
export interface PipelineDeps {
  access: GitHubAccess;
  configs: ConfigCache;
  ledger: Ledger;
  queues: Queues;
  cache: RepoCache;
  engine: DecisionEngine;
  log: Logger;
  /** Jobs one suite may have running at once (GPUs available to bisection probes). */
  parallelism: number;
}
