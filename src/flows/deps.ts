import type { Logger } from "pino";
import type { GitHubAccess } from "../adapters/github/access.js";
import type { ConfigCache } from "../adapters/github/config.js";
import type { Queues } from "../adapters/queue/queues.js";
import type { RepoCache } from "../adapters/git/git.js";
import type { Ledger } from "../adapters/store/ledger.js";
import type { DecisionEngine } from "../model/engine.js";

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
