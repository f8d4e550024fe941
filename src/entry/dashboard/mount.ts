import type { IncomingMessage, ServerResponse } from "node:http";
import type { Octokit } from "@octokit/rest";
import type { Logger } from "pino";
import type { GitHubAccess } from "../../adapters/github/access.js";
import type { Metrics } from "../../adapters/metrics.js";
import { DashboardStore } from "../../adapters/store/dashboard.js";
import type { Runtime } from "../runtime.js";
import { apiBaseUrl, webBaseUrl, type Settings } from "../settings.js";
import type { NodeHandler } from "../webhookServer.js";
import { dashboardGitHub } from "./github.js";
import { dashboardHandler } from "./routes.js";
import { SessionCodec } from "./session.js";

/** The first handler that answers a request wins. */
export function combineHandlers(...handlers: NodeHandler[]): NodeHandler {
  return async (req, res) => {
    for (const handler of handlers) if (await handler(req, res)) return true;
    return false;
  };
}

/** GET /metrics in Prometheus' text format. */
export function metricsHandler(metrics: Metrics): NodeHandler {
  return async (req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") return false;
    const { contentType, text } = await metrics.exposition();
    res.writeHead(200, { "content-type": contentType }).end(text);
    return true;
  };
}

/** Counts webhook deliveries by event and the status they were answered with. */
export function countingWebhooks(handler: NodeHandler, metrics: Metrics, path: string): NodeHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const event = req.headers["x-github-event"];
    if (req.method === "POST" && typeof event === "string" && (req.url ?? "").split("?")[0] === path)
      res.once("finish", () => metrics.webhookReceived(event, res.statusCode));
    return handler(req, res);
  };
}

/**
 * The app's HTTP surface besides webhooks: the dashboard under /sheriff and /metrics. The
 * public address defaults to the server's own, which only suits a machine people browse locally.
 */
export function appPages(input: {
  runtime: Runtime;
  access: GitHubAccess;
  appClient: () => Promise<Pick<Octokit, "rest">>;
  settings: Settings;
  publicUrl: string;
  log: Logger;
  sessionSecret: string;
}): NodeHandler {
  const { settings } = input;
  const oauth =
    settings.GITHUB_CLIENT_ID && settings.GITHUB_CLIENT_SECRET
      ? { clientId: settings.GITHUB_CLIENT_ID, clientSecret: settings.GITHUB_CLIENT_SECRET, webUrl: webBaseUrl(settings) }
      : null;
  const dashboard = dashboardHandler({
    store: new DashboardStore(input.runtime.db),
    ledger: input.runtime.ledger,
    github: dashboardGitHub({ access: input.access, appClient: input.appClient, apiUrl: apiBaseUrl(settings) }),
    publicUrl: input.publicUrl,
    oauth,
    sessions: new SessionCodec(settings.SHERIFF_SESSION_SECRET ?? input.sessionSecret),
    log: input.log,
    queues: input.runtime.queues.all,
  });
  return combineHandlers(dashboard, metricsHandler(input.runtime.metrics));
}
