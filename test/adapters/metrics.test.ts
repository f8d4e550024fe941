import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Metrics } from "../../src/adapters/metrics.js";
import { Queues } from "../../src/adapters/queue/queues.js";
import { DashboardStore } from "../../src/adapters/store/dashboard.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { decorateClient } from "../../src/entry/dashboard/decorate.js";
import { testDatabase } from "../helpers/database.js";
import { recordStory, sha } from "../helpers/dashboardHistory.js";
import { testRedis } from "../helpers/redis.js";

let db: Awaited<ReturnType<typeof testDatabase>>;
let redis: ReturnType<typeof testRedis>;
let queues: Queues;
let metrics: Metrics;

beforeEach(async () => {
  db = await testDatabase("metrics");
  await recordStory(new Ledger(db));
  redis = testRedis("metrics");
  queues = new Queues(redis);
  metrics = new Metrics({ queues: queues.all, history: new DashboardStore(db) });
});

afterEach(async () => {
  for (const queue of queues.all) await queue.obliterate({ force: true });
  await queues.close();
  await redis.cleanup();
  await db.cleanup();
});

/** One sample's value from the exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("Metrics", () => {
  it("reads queue depths from BullMQ and verdicts and reverts from the history when scraped", async () => {
    await queues.gpu.add("job-a", {} as never);
    await queues.gpu.add("job-b", {} as never);
    const { text } = await metrics.exposition();
    expect(sample(text, 'sheriff_queue_jobs{queue="gpu",state="waiting"}')).toBe(2);
    expect(sample(text, 'sheriff_queue_jobs{queue="control",state="waiting"}')).toBe(0);
    expect(sample(text, 'sheriff_verdicts{type="regression",kind="correctness"}')).toBe(1);
    expect(sample(text, 'sheriff_verdicts{type="flaky",kind="flaky"}')).toBe(1);
    expect(sample(text, 'sheriff_reverts{outcome="pr-opened"}')).toBe(1);
  });

  it("reports the job durations and counts of the last hour's runs per suite", async () => {
    const { text } = await metrics.exposition();
    expect(sample(text, 'sheriff_job_duration_seconds{suite="half",quantile="0.5"}')).toBe(300);
    expect(sample(text, 'sheriff_job_runs{suite="half"}')).toBe(5);
    expect(sample(text, 'sheriff_job_runs{suite="smoke"}')).toBe(2);
    const later = new Metrics({ queues: [], history: new DashboardStore(db), now: () => new Date(Date.now() + 2 * 3600_000) });
    expect((await later.exposition()).text).not.toContain("sheriff_job_runs{");
  });

  it("counts webhooks by event and status", async () => {
    metrics.webhookReceived("push", 200);
    metrics.webhookReceived("push", 200);
    metrics.webhookReceived("issue_comment", 400);
    const { text } = await metrics.exposition();
    expect(sample(text, 'sheriff_webhooks_total{event="push",status="200"}')).toBe(2);
    expect(sample(text, 'sheriff_webhooks_total{event="issue_comment",status="400"}')).toBe(1);
  });
});

describe("decorateClient", () => {
  let server: Server;
  let posted: Record<string, unknown>[] = [];
  let url: string;

  beforeEach(async () => {
    posted = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method === "POST") posted.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        const status = req.url!.includes("missing") ? 404 : 201;
        res.writeHead(status, {
          "content-type": "application/json",
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "4321",
          "x-ratelimit-resource": "core",
        });
        res.end(JSON.stringify(status === 404 ? { message: "Not Found" } : { id: 1 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("counts responses and errors with GitHub's rate-limit headroom, and links check runs to their commit's page", async () => {
    const octokit = new Octokit({ baseUrl: url });
    decorateClient(octokit, metrics, "https://sheriff.example.com");
    await octokit.rest.checks.create({ owner: "gpu-team", repo: "flash-kernels", name: "Sheriff / post-land GPU", head_sha: sha("tidy") });
    await expect(octokit.rest.repos.get({ owner: "gpu-team", repo: "missing" })).rejects.toMatchObject({ status: 404 });
    expect(posted[0]!.details_url).toBe(`https://sheriff.example.com/sheriff/gpu-team/flash-kernels/commit/${sha("tidy")}`);
    const { text } = await metrics.exposition();
    expect(sample(text, 'sheriff_github_requests_total{method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'sheriff_github_api_errors_total{status="404"}')).toBe(1);
    expect(sample(text, 'sheriff_github_rate_limit_remaining{resource="core"}')).toBe(4321);
  });
});
