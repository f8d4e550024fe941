import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPermissionChecker, type PermissionChecker } from "../../../src/adapters/github/permissions.js";
import { API, blockNetwork, keysUnder, testOctokit, testRedis, takeUncalledMocks } from "../support.js";

const PATH = "/repos/gpu-team/flash-kernels";

let store: ReturnType<typeof testRedis>;
let checker: PermissionChecker;

function expectLookup(login: string, status: number, body: Record<string, unknown>): nock.Scope {
  return nock(API).get(`${PATH}/collaborators/${login}/permission`).reply(status, body);
}
const answer = (login: string, permission: string, roleName: string | null) => ({ permission, role_name: roleName, user: { login } });
const permissionOf = (login: string, owner = "gpu-team", repo = "flash-kernels") => checker.permissionOf(testOctokit(), owner, repo, login);

beforeAll(blockNetwork);
afterAll(() => nock.enableNetConnect());

beforeEach(() => {
  store = testRedis("perm");
  checker = createPermissionChecker({ redis: store, ttlSeconds: 120 });
});

afterEach(async () => {
  const pending = takeUncalledMocks();
  const prefix = store.prefix;
  await store.cleanup();
  expect(await keysUnder(prefix)).toEqual([]);
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("createPermissionChecker", () => {
  it.each([
    ["admin", "admin", "admin"],
    ["maintain", "write", "write"],
    ["write", "write", "write"],
    ["triage", "read", "read"],
    ["read", "read", "read"],
  ] as const)("maps role_name %s (permission %s) to %s", async (roleName, permission, expected) => {
    const scope = expectLookup("alice", 200, answer("alice", permission, roleName));
    expect(await permissionOf("alice")).toBe(expected);
    expect(scope.isDone()).toBe(true);
  });

  it("falls back to the base permission for a custom role, or when role_name is absent", async () => {
    expectLookup("alice", 200, answer("alice", "write", "kernel-reviewer"));
    expectLookup("bob", 200, answer("bob", "read", null));
    expect(await permissionOf("alice")).toBe("write");
    expect(await permissionOf("bob")).toBe("read");
  });

  it("reads a 404 as none", async () => {
    expectLookup("mallory", 404, { message: "Not Found" });
    expect(await permissionOf("mallory")).toBe("none");
    expect(await store.redis.get(store.key("perm", "gpu-team/flash-kernels", "mallory"))).toBe("none");
  });

  it("lets other errors through and caches nothing", async () => {
    expectLookup("alice", 500, { message: "Server Error" });
    await expect(permissionOf("alice")).rejects.toMatchObject({ status: 500 });
    expect(await keysUnder(store.prefix)).toEqual([]);
  });

  it("caches the answer in Redis for the TTL, keyed case-insensitively", async () => {
    const scope = nock(API)
      .get("/repos/GPU-Team/Flash-Kernels/collaborators/Alice/permission")
      .reply(200, answer("Alice", "write", "write"));
    expect(await permissionOf("Alice", "GPU-Team", "Flash-Kernels")).toBe("write");
    expect(scope.isDone()).toBe(true);
    const key = store.key("perm", "gpu-team/flash-kernels", "alice");
    expect(await keysUnder(store.prefix)).toEqual([key]);
    const ttl = await store.redis.ttl(key);
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
    // No interceptor is left: a second request to GitHub would fail the call.
    expect(await permissionOf("alice")).toBe("write");
    expect(await permissionOf("ALICE", "gpu-team", "FLASH-KERNELS")).toBe("write");
  });

  it("asks again once forgotten, or when the cached value is not a permission", async () => {
    expectLookup("alice", 200, answer("alice", "write", "write"));
    expectLookup("alice", 200, answer("alice", "read", "read"));
    expect(await permissionOf("alice")).toBe("write");
    await checker.forget("gpu-team", "Flash-Kernels", "ALICE");
    expect(await keysUnder(store.prefix)).toEqual([]);
    expect(await permissionOf("alice")).toBe("read");

    await store.redis.set(store.key("perm", "gpu-team/flash-kernels", "bob"), "superuser");
    expectLookup("bob", 200, answer("bob", "admin", "admin"));
    expect(await permissionOf("bob")).toBe("admin");
  });

  it("keeps repositories apart", async () => {
    expectLookup("alice", 200, answer("alice", "admin", "admin"));
    nock(API)
      .get("/repos/gpu-team/other/collaborators/alice/permission")
      .reply(200, answer("alice", "read", "read"));
    expect(await permissionOf("alice")).toBe("admin");
    expect(await permissionOf("alice", "gpu-team", "other")).toBe("read");
  });

  it("defaults to a one-minute TTL", async () => {
    const plain = createPermissionChecker({ redis: store });
    expectLookup("alice", 200, answer("alice", "read", "read"));
    await plain.permissionOf(testOctokit(), "gpu-team", "flash-kernels", "alice");
    const ttl = await store.redis.ttl(store.key("perm", "gpu-team/flash-kernels", "alice"));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
  });
});
