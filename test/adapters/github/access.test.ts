import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { probotAccess, repositoryReadTokens } from "../../../src/adapters/github/access.js";
import { API, blockNetwork, takeUncalledMocks } from "../support.js";

const INSTALLATION = 2311213;
const GHE = "https://ghe.example.com/api/v3";

let privateKey: string;

function probot(baseUrl?: string): Probot {
  return new Probot({
    appId: 123,
    privateKey,
    log: pino({ level: "silent" }),
    ...(baseUrl ? { baseUrl } : {}),
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
}

/** GitHub's answer to POST /app/installations/{id}/access_tokens, asked with the app's JWT. */
function expectToken(base: string, installation: number, token: string): nock.Scope {
  return nock(base, { reqheaders: { authorization: /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i } })
    .post(`/app/installations/${installation}/access_tokens`)
    .reply(201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { checks: "write" } });
}

beforeAll(() => {
  blockNetwork();
  privateKey = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
});
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  const pending = takeUncalledMocks();
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("probotAccess", () => {
  it("hands out a client that authenticates with the installation token, and reuses it", async () => {
    const token = expectToken(API, INSTALLATION, "ghs_first");
    const access = probotAccess(probot(), undefined);
    const first = await access.forInstallation(INSTALLATION);
    expect(token.isDone()).toBe(true);
    expect(first.token).toBe("ghs_first");
    const repo = nock(API, { reqheaders: { authorization: "token ghs_first" } })
      .get("/repos/gpu-team/flash-kernels")
      .reply(200, { full_name: "gpu-team/flash-kernels" });
    await first.octokit.rest.repos.get({ owner: "gpu-team", repo: "flash-kernels" });
    expect(repo.isDone()).toBe(true);
    // Within the hour: no second token request (there is no interceptor for one).
    expect(await access.forInstallation(INSTALLATION)).toBe(first);
  });

  it("keeps installations apart", async () => {
    expectToken(API, INSTALLATION, "ghs_first");
    expectToken(API, 42, "ghs_other");
    const access = probotAccess(probot(), undefined);
    expect((await access.forInstallation(INSTALLATION)).token).toBe("ghs_first");
    expect((await access.forInstallation(42)).token).toBe("ghs_other");
  });

  it("asks a configured base URL (GitHub Enterprise) for tokens and API calls", async () => {
    expectToken(GHE, INSTALLATION, "ghs_ghe");
    const access = probotAccess(probot(GHE), GHE);
    const { octokit } = await access.forInstallation(INSTALLATION);
    const repo = nock(GHE).get("/repos/gpu-team/flash-kernels").reply(200, { full_name: "gpu-team/flash-kernels" });
    await octokit.rest.repos.get({ owner: "gpu-team", repo: "flash-kernels" });
    expect(repo.isDone()).toBe(true);
  });

  it("reads the app's slug once", async () => {
    const app = nock(API).get("/app").reply(200, { id: 123, slug: "sheriff-ci", name: "Sheriff CI" });
    const access = probotAccess(probot(), undefined);
    expect(await access.appSlug()).toBe("sheriff-ci");
    expect(await access.appSlug()).toBe("sheriff-ci");
    expect(app.isDone()).toBe(true);
  });

  it("asks for the slug again after a failure", async () => {
    nock(API).get("/app").reply(500, { message: "Server Error" });
    nock(API).get("/app").reply(200, { id: 123, name: "Sheriff" });
    nock(API).get("/app").reply(200, { id: 123, slug: "sheriff", name: "Sheriff" });
    const access = probotAccess(probot(), undefined);
    await expect(access.appSlug()).rejects.toMatchObject({ status: 500 });
    await expect(access.appSlug()).rejects.toThrow("GET /app returned no slug");
    expect(await access.appSlug()).toBe("sheriff");
  });

  it("fails a request GitHub leaves unanswered instead of waiting for ever", async () => {
    expectToken(API, INSTALLATION, "ghs_slow");
    nock(API).get("/repos/gpu-team/flash-kernels").delay(5_000).reply(200, { id: 1 });
    const access = probotAccess(probot(), undefined, { requestTimeoutMs: 200 });
    const { octokit } = await access.forInstallation(INSTALLATION);
    const started = Date.now();
    await expect(octokit.rest.repos.get({ owner: "gpu-team", repo: "flash-kernels" })).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("gives up on a token request GitHub leaves unanswered", async () => {
    nock(API).post(`/app/installations/${INSTALLATION}/access_tokens`).delay(5_000).reply(201, { token: "ghs_late" });
    const access = probotAccess(probot(), undefined, { requestTimeoutMs: 200 });
    await expect(access.forInstallation(INSTALLATION)).rejects.toThrow(/abort|timeout/i);
  });

  it("gives GPU hosts a token that can only read the one repository, one per repository", async () => {
    const scoped = nock(API, { reqheaders: { authorization: /^bearer /i } })
      .post(`/app/installations/${INSTALLATION}/access_tokens`, {
        repositories: ["flash-kernels"],
        permissions: { contents: "read" },
      })
      .reply(201, { token: "ghs_read_only", expires_at: new Date(Date.now() + 3600_000).toISOString() });
    const readToken = repositoryReadTokens(probot());
    const repo = { owner: "gpu-team", repo: "flash-kernels", installationId: INSTALLATION };
    expect(await readToken(repo)).toBe("ghs_read_only");
    expect(await readToken(repo)).toBe("ghs_read_only");
    expect(scoped.isDone()).toBe(true);
  });
});
