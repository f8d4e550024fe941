import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** A queue as the metrics read it (BullMQ's Queue). */
export interface CountedQueue {
  name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

/** Counts recorded in the history, read at scrape time (tables of one row per decision, not per run). */
export interface HistoryCounts {
  verdictCounts(): Promise<{ type: string; kind: string; count: number }[]>;
  revertCounts(): Promise<{ outcome: string; count: number }[]>;
  recentRunDurations(since: Date): Promise<{ suite: string; runs: number; p50: number; p90: number; max: number }[]>;
}

/** Job durations are reported over the runs of this last window. */
export const DURATION_WINDOW_MS = 3600_000;

const QUEUE_STATES = ["waiting", "active", "delayed", "prioritized", "paused", "failed"] as const;

/**
 * Sheriff's Prometheus metrics: webhooks by event, GitHub requests and errors and the rate-limit
 * headroom GitHub reports, counted as they happen; queue depths, verdicts and reverts read when
 * Prometheus scrapes, so every process reports the same shared state.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly webhooks: Counter<"event" | "status">;
  private readonly githubRequests: Counter<"method" | "status">;
  private readonly githubErrors: Counter<"status">;
  private readonly rateLimitRemaining: Gauge<"resource">;
  private readonly rateLimitLimit: Gauge<"resource">;

  constructor(sources: { queues: CountedQueue[]; history: HistoryCounts; now?: () => Date }) {
    const now = sources.now ?? (() => new Date());
    collectDefaultMetrics({ register: this.registry, prefix: "sheriff_process_" });
    const registers = [this.registry];
    this.webhooks = new Counter({
      name: "sheriff_webhooks_total",
      help: "Webhook deliveries received, by event and HTTP status answered",
      labelNames: ["event", "status"],
      registers,
    });
    this.githubRequests = new Counter({
      name: "sheriff_github_requests_total",
      help: "Requests to the GitHub API, by method and status",
      labelNames: ["method", "status"],
      registers,
    });
    this.githubErrors = new Counter({
      name: "sheriff_github_api_errors_total",
      help: "GitHub API requests that failed, by status (0: no answer)",
      labelNames: ["status"],
      registers,
    });
    this.rateLimitRemaining = new Gauge({
      name: "sheriff_github_rate_limit_remaining",
      help: "Requests left in the current rate-limit window, as GitHub last said",
      labelNames: ["resource"],
      registers,
    });
    this.rateLimitLimit = new Gauge({
      name: "sheriff_github_rate_limit_limit",
      help: "The rate limit's size, as GitHub last said",
      labelNames: ["resource"],
      registers,
    });
    new Gauge({
      name: "sheriff_queue_jobs",
      help: "Jobs in each queue by state (BullMQ getJobCounts at scrape time)",
      labelNames: ["queue", "state"],
      registers,
      async collect() {
        const counts = await Promise.all(
          sources.queues.map(async (queue) => [queue.name, await queue.getJobCounts(...QUEUE_STATES)] as const),
        );
        this.reset();
        for (const [queue, byState] of counts) for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
      },
    });
    new Gauge({
      name: "sheriff_verdicts",
      help: "Verdicts in the history, by type and kind",
      labelNames: ["type", "kind"],
      registers,
      async collect() {
        const rows = await sources.history.verdictCounts();
        this.reset();
        for (const row of rows) this.set({ type: row.type, kind: row.kind }, row.count);
      },
    });
    new Gauge({
      name: "sheriff_job_duration_seconds",
      help: "GPU job durations (result start to finish) of the runs recorded in the last hour, by suite and quantile (0.5, 0.9, 1)",
      labelNames: ["suite", "quantile"],
      registers,
      async collect() {
        const rows = await sources.history.recentRunDurations(new Date(now().getTime() - DURATION_WINDOW_MS));
        this.reset();
        for (const row of rows) {
          this.set({ suite: row.suite, quantile: "0.5" }, row.p50);
          this.set({ suite: row.suite, quantile: "0.9" }, row.p90);
          this.set({ suite: row.suite, quantile: "1" }, row.max);
        }
      },
    });
    new Gauge({
      name: "sheriff_job_runs",
      help: "GPU job results recorded in the last hour, by suite",
      labelNames: ["suite"],
      registers,
      async collect() {
        const rows = await sources.history.recentRunDurations(new Date(now().getTime() - DURATION_WINDOW_MS));
        this.reset();
        for (const row of rows) this.set({ suite: row.suite }, row.runs);
      },
    });
    new Gauge({
      name: "sheriff_reverts",
      help: "Culprits acted on, by outcome (pr-opened, commented, conflict, ...)",
      labelNames: ["outcome"],
      registers,
      async collect() {
        const rows = await sources.history.revertCounts();
        this.reset();
        for (const row of rows) this.set({ outcome: row.outcome }, row.count);
      },
    });
  }

  webhookReceived(event: string, status: number): void {
    this.webhooks.inc({ event, status: String(status) });
  }

  /** One answered (or failed) GitHub request, with its rate-limit headers when GitHub sent them. */
  githubResponse(method: string, status: number, headers: Record<string, string | number | undefined>): void {
    this.githubRequests.inc({ method, status: String(status) });
    if (status >= 400 || status === 0) this.githubErrors.inc({ status: String(status) });
    const resource = String(headers["x-ratelimit-resource"] ?? "core");
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const limit = Number(headers["x-ratelimit-limit"]);
    if (Number.isFinite(remaining)) this.rateLimitRemaining.set({ resource }, remaining);
    if (Number.isFinite(limit)) this.rateLimitLimit.set({ resource }, limit);
  }

  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
