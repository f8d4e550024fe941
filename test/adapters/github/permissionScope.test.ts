import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPermissionChecker, type PermissionChecker } from "../../../src/adapters/github/permissions.js";
import { testRedis } from "../../helpers/redis.js";
import { API, blockNetwork, testOctokit } from "../support.js";

let store: ReturnType<typeof testRedis>;
let checker: PermissionChecker;

beforeAll(() => blockNetwork());
afterAll(() => nock.enableNetConnect());
beforeEach(() => {
  store = testRedis("perm-scope");
  checker = createPermissionChecker({ redis: store });
});
afterEach(async () => {
  nock.cleanAll();
  await store.cleanup();
});

const answer = (permission: string) => ({ permission, role_name: permission, user: { login: "x" } });
const cache = (repo: string, login: string) => store.redis.set(store.key("perm", repo, login), "write", "EX", 60);
const cached = async () => (await store.redis.keys(`${store.prefix}:perm:*`)).map((k) => k.slice(store.prefix.length + 6)).sort();

describe("forgetScope", () => {
  beforeEach(async () => {
    for (const repo of ["gpu-team/flash-kernels", "gpu-team/docs", "other/flash-kernels"])
      for (const login of ["alice", "bob", "dependabot[bot]"]) await cache(repo, login);
  });

  it("drops one person on one repository", async () => {
    expect(await checker.forgetScope({ owner: "GPU-Team", repo: "Flash-Kernels", login: "Alice" })).toBe(1);
    expect(await cached()).not.toContain("gpu-team/flash-kernels:alice");
    expect(await cached()).toHaveLength(8);
  });

  it("drops one person on every repository of an owner, a bot's brackets matched as text", async () => {
    expect(await checker.forgetScope({ owner: "gpu-team", login: "dependabot[bot]" })).toBe(2);
    expect((await cached()).filter((k) => k.endsWith("dependabot[bot]"))).toEqual(["other/flash-kernels:dependabot[bot]"]);
  });

  it("drops everyone on a repository, or everyone of an owner", async () => {
    expect(await checker.forgetScope({ owner: "gpu-team", repo: "docs" })).toBe(3);
    expect(await checker.forgetScope({ owner: "gpu-team" })).toBe(3);
    expect((await cached()).every((k) => k.startsWith("other/"))).toBe(true);
  });
});

describe("a checker that does not read the cache", () => {
  it("asks GitHub every time, so a permission revoked a moment ago is seen at once, and still caches for others", async () => {
    const live = createPermissionChecker({ redis: store, readCache: false });
    nock(API).get("/repos/gpu-team/flash-kernels/collaborators/alice/permission").reply(200, answer("write"));
    nock(API).get("/repos/gpu-team/flash-kernels/collaborators/alice/permission").reply(200, answer("read"));
    expect(await live.permissionOf(testOctokit(), "gpu-team", "flash-kernels", "alice")).toBe("write");
    expect(await live.permissionOf(testOctokit(), "gpu-team", "flash-kernels", "alice")).toBe("read");
    expect(await store.redis.get(store.key("perm", "gpu-team/flash-kernels", "alice"))).toBe("read");
  });
});
