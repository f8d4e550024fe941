import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigCache, readConfig } from "../../../src/adapters/github/config.js";
import { ConfigError } from "../../../src/model/configFile.js";
import type { SheriffConfig } from "../../../src/model/config.js";
import { API, blockNetwork, sha, testOctokit, takeUncalledMocks } from "../support.js";

const PATH = "/repos/gpu-team/flash-kernels";
const REF = sha("c1");

const VALID = `# Sheriff watches main
suites:
  - name: varlen-attention
    kind: builtin
    builtin: varlen-attention
    paths: ["kernels/src/attn*"]
policy:
  autoRevert: "on"
`;

function contents(text: string) {
  const content = Buffer.from(text).toString("base64");
  return {
    type: "file",
    name: "sheriff.yml",
    path: ".github/sheriff.yml",
    encoding: "base64",
    content,
    sha: sha("blob"),
    size: text.length,
  };
}

function expectContents(status: number, body: unknown): nock.Scope {
  return nock(API)
    .get(`${PATH}/contents/.github%2Fsheriff.yml`)
    .query({ ref: REF })
    .reply(status, body as nock.Body);
}

beforeAll(blockNetwork);
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  const pending = takeUncalledMocks();
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("readConfig", () => {
  it("reads and parses the file at the ref", async () => {
    const scope = expectContents(200, contents(VALID));
    const lookup = await readConfig(testOctokit(), "gpu-team", "flash-kernels", REF);
    expect(scope.isDone()).toBe(true);
    expect(lookup.kind).toBe("ok");
    const config = (lookup as { config: SheriffConfig }).config;
    expect(config.policy).toEqual({ autoRevert: "on", maxAutoRevertsPerDay: 3, maxCulpritAgeHours: 24, optOutLabel: "sheriff-no-revert" });
    expect(config.suites).toEqual([
      expect.objectContaining({ name: "varlen-attention", timeoutSeconds: 1800, paths: ["kernels/src/attn*"] }),
    ]);
    expect(config.runner).toEqual({ mode: "queue", workflow: "post-land-gpu.yml" });
  });

  it("reports a missing file (404) as missing", async () => {
    expectContents(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content" });
    expect(await readConfig(testOctokit(), "gpu-team", "flash-kernels", REF)).toEqual({ kind: "missing" });
  });

  it("reports an invalid config with an error that names the key", async () => {
    expectContents(200, contents(VALID.replace('autoRevert: "on"', "autoRevert: sometimes")));
    const lookup = await readConfig(testOctokit(), "gpu-team", "flash-kernels", REF);
    expect(lookup.kind).toBe("invalid");
    const error = (lookup as { error: ConfigError }).error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toContain("policy.autoRevert");
    expect(error.message).toContain(".github/sheriff.yml is not a valid Sheriff config");
  });

  it("reports broken YAML with its line", async () => {
    expectContents(200, contents("suites:\n  - name: a\n    paths: [unclosed\n"));
    const lookup = await readConfig(testOctokit(), "gpu-team", "flash-kernels", REF);
    expect(lookup.kind).toBe("invalid");
    expect((lookup as { error: ConfigError }).error.issues[0]).toMatch(/^YAML syntax at line \d+/);
  });

  it("reports a directory where the file should be as invalid", async () => {
    expectContents(200, [{ type: "file", name: "a.yml", path: ".github/sheriff.yml/a.yml" }]);
    const lookup = await readConfig(testOctokit(), "gpu-team", "flash-kernels", REF);
    expect(lookup).toMatchObject({ kind: "invalid", error: { issues: [".github/sheriff.yml is not a file"] } });
  });

  it("lets other GitHub errors through", async () => {
    expectContents(502, { message: "Bad Gateway" });
    await expect(readConfig(testOctokit(), "gpu-team", "flash-kernels", REF)).rejects.toMatchObject({ status: 502 });
  });
});

describe("ConfigCache", () => {
  const config = (name: string) => ({ suites: [{ name }] }) as unknown as SheriffConfig;

  it("loads a key once and answers later gets from memory", async () => {
    const cache = new ConfigCache();
    const loads: string[] = [];
    const load = (key: string) => async () => {
      loads.push(key);
      return config(key);
    };
    const first = await cache.get("gpu-team/flash-kernels@c1", load("c1"));
    expect(await cache.get("gpu-team/flash-kernels@c1", load("c1"))).toBe(first);
    expect(await cache.get("gpu-team/flash-kernels@c2", load("c2"))).toEqual(config("c2"));
    expect(loads).toEqual(["c1", "c2"]);
  });

  it("does not keep a failed load", async () => {
    const cache = new ConfigCache();
    await expect(cache.get("k", () => Promise.reject(new Error("GitHub down")))).rejects.toThrow("GitHub down");
    expect(await cache.get("k", async () => config("k"))).toEqual(config("k"));
  });

  it("drops the oldest entry beyond its capacity", async () => {
    const cache = new ConfigCache(2);
    let loads = 0;
    const load = (key: string) => async () => {
      loads++;
      return config(key);
    };
    await cache.get("a", load("a"));
    await cache.get("b", load("b"));
    await cache.get("c", load("c"));
    expect(loads).toBe(3);
    await cache.get("c", load("c"));
    await cache.get("b", load("b"));
    expect(loads).toBe(3);
    await cache.get("a", load("a"));
    expect(loads).toBe(4);
  });
});
