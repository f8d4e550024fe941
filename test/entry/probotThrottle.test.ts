import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probotAccess } from "../../src/adapters/github/access.js";
import { startSandbox, type Sandbox } from "../../src/dev/sandbox/server.js";
import { createSheriffProbot } from "../../src/entry/probot.js";
import { REDIS_URL } from "../helpers/redis.js";

const APP_ID = 4343;
const STALL_MS = 12_000;

let sandbox: Sandbox;
let dir: string;
let privateKey: string;
let redis: Redis;

/** Bottleneck's cluster keys (`b_<id>_settings`, `b_<id>_client_...`): there when throttling is clustered in Redis. */
const bottleneckKeys = () => redis.keys("b_*");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sheriff-throttle-"));
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  privateKey = keys.privateKey;
  sandbox = await startSandbox({ dataDir: join(dir, "github"), app: { id: APP_ID, slug: "sheriff-ci", publicKey: keys.publicKey } });
  await sandbox.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n" } });
  await sandbox.createRepo("acme", "docs", { installationId: 8, files: { "README.md": "hi\n" } });
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the app's Probot with REDIS_URL in the environment", () => {
  it("throttles in-process: no Bottleneck keys in Redis, and new tokens still work after a 12 s event-loop stall", async () => {
    const before = await bottleneckKeys();
    const host = sandbox.url.replace(/^http:\/\//, "");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL,
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey,
      GHE_HOST: host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "silent",
    };
    const probot = createSheriffProbot(env);
    const access = probotAccess(probot, sandbox.apiUrl);

    const first = await access.forInstallation(7);
    expect((await first.octokit.rest.repos.get({ owner: "acme", repo: "kernels" })).data.full_name).toBe("acme/kernels");

    // Longer than Bottleneck's cluster heartbeat: a clustered throttler would drop this client.
    const until = Date.now() + STALL_MS;
    while (Date.now() < until) {
      // a blocked event loop, as a long synchronous step would cause
    }

    // A token never asked for before: a new installation-token request through the app client.
    const second = await access.forInstallation(8);
    expect((await second.octokit.rest.repos.get({ owner: "acme", repo: "docs" })).data.full_name).toBe("acme/docs");
    const again = await probotAccess(probot, sandbox.apiUrl).forInstallation(7);
    expect(again.token).not.toBe(first.token);
    expect((await again.octokit.rest.repos.get({ owner: "acme", repo: "kernels" })).status).toBe(200);

    expect(await bottleneckKeys()).toEqual(before);
    expect(before).toEqual([]);
  }, 40_000);
});
