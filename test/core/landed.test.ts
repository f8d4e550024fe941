import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyPush, isWatchedBranch } from "../../src/core/landed.js";
import { pushPayloadSchema } from "../../src/model/webhooks.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/webhooks/push.json", import.meta.url), "utf8"));
const parse = (overrides: Record<string, unknown> = {}) => pushPayloadSchema.parse({ ...fixture, ...overrides });

describe("classifyPush", () => {
  it("turns a branch push into a landed push", () => {
    const result = classifyPush(parse());
    expect(result).toEqual({
      kind: "landed",
      push: expect.objectContaining({
        owner: "gpu-team",
        repo: "flash-kernels",
        branch: "main",
        before: fixture.before,
        after: fixture.after,
        forced: false,
        installationId: 2311213,
      }),
    });
  });

  it("ignores tags and deleted branches", () => {
    expect(classifyPush(parse({ ref: "refs/tags/v1.0" }))).toMatchObject({ kind: "ignored" });
    expect(classifyPush(parse({ deleted: true, after: "0".repeat(40) }))).toMatchObject({
      kind: "ignored",
      reason: "branch main was deleted",
    });
  });

  it("has no previous head for a new branch, and keeps the forced flag", () => {
    const created = classifyPush(parse({ created: true, before: "0".repeat(40) }));
    expect(created.kind === "landed" && created.push.before).toBeNull();
    const forced = classifyPush(parse({ forced: true }));
    expect(forced.kind === "landed" && forced.push.forced).toBe(true);
  });

  it("watches the default branch unless the config lists branches", () => {
    expect(isWatchedBranch({ branch: "main", defaultBranch: "main" }, { branches: [] })).toBe(true);
    expect(isWatchedBranch({ branch: "dev", defaultBranch: "main" }, { branches: [] })).toBe(false);
    expect(isWatchedBranch({ branch: "release", defaultBranch: "main" }, { branches: ["release"] })).toBe(true);
  });

  it("rejects payloads without the fields Sheriff needs", () => {
    expect(pushPayloadSchema.safeParse({ ...fixture, after: "xyz" }).success).toBe(false);
    expect(pushPayloadSchema.safeParse({ ...fixture, installation: undefined }).success).toBe(false);
  });
});
