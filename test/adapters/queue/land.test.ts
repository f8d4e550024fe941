import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  LAND_JOB_NAME,
  LAND_JOB_OPTIONS,
  LandQueues,
  landJobId,
  landKeys,
  landQueueName,
  sanitize,
} from "../../../src/adapters/queue/land.js";
import type { LandJobData } from "../../../src/model/land.js";
import { keysUnder, testRedis } from "../support.js";

describe("landQueueName", () => {
  it("is stable and reads as owner, repo and branch", () => {
    const name = landQueueName("gpu-team", "flash-kernels", "main");
    expect(name).toMatch(/^land\.gpu-team\.flash-kernels\.main\.[0-9a-f]{8}$/);
    expect(landQueueName("gpu-team", "flash-kernels", "main")).toBe(name);
  });

  it("keeps branches apart that sanitize to the same text", () => {
    const slash = landQueueName("gpu-team", "flash-kernels", "feature/x");
    const underscore = landQueueName("gpu-team", "flash-kernels", "feature_x");
    expect(slash).toMatch(/^land\.gpu-team\.flash-kernels\.feature_x\.[0-9a-f]{8}$/);
    expect(underscore).toMatch(/^land\.gpu-team\.flash-kernels\.feature_x\.[0-9a-f]{8}$/);
    expect(slash).not.toBe(underscore);
  });

  it("treats owner and repo case-insensitively, as GitHub does, but not the branch", () => {
    expect(landQueueName("GPU-Team", "Flash-Kernels", "main")).toBe(landQueueName("gpu-team", "flash-kernels", "main"));
    expect(landQueueName("gpu-team", "flash-kernels", "Main")).not.toBe(landQueueName("gpu-team", "flash-kernels", "main"));
  });

  it("never contains ':', which BullMQ forbids in queue names", () => {
    expect(landQueueName("gpu-team", "flash.kernels", "release:2025/q1 hot")).not.toContain(":");
    expect(sanitize("release:2025/q1 hot")).toBe("release_2025_q1_hot");
  });
});

describe("landJobId", () => {
  it("is deterministic per PR, with owner and repo lowercased", () => {
    expect(landJobId("GPU-Team", "Flash-Kernels", 42)).toBe("land.gpu-team.flash-kernels.42");
    expect(landJobId("gpu-team", "flash-kernels", 42)).toBe(landJobId("GPU-Team", "Flash-Kernels", 42));
    expect(landJobId("gpu-team", "flash-kernels", 43)).not.toBe(landJobId("gpu-team", "flash-kernels", 42));
  });
});

describe("LandQueues", () => {
  let store: ReturnType<typeof testRedis>;
  let queues: LandQueues;

  beforeEach(() => {
    store = testRedis("land");
    queues = new LandQueues(store);
  });

  afterEach(async () => {
    await queues.close();
    const prefix = store.prefix;
    await store.cleanup();
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it("opens a branch's queue once, under the prefix, with a global concurrency of 1", async () => {
    const name = landQueueName("gpu-team", "flash-kernels", "main");
    const queue = await queues.get(name);
    expect(await queues.get(name)).toBe(queue);
    expect(queue.name).toBe(name);
    expect(await queue.getGlobalConcurrency()).toBe(1);
    expect(await store.redis.hget(`${store.prefix}:${name}:meta`, "concurrency")).toBe("1");
    const other = await queues.get(landQueueName("gpu-team", "flash-kernels", "release"));
    expect(other).not.toBe(queue);
    expect(await other.getGlobalConcurrency()).toBe(1);
  });

  it("adds a PR's land job once, keyed by landJobId", async () => {
    const queue = await queues.get(landQueueName("gpu-team", "flash-kernels", "main"));
    const data: LandJobData = {
      owner: "gpu-team",
      repo: "flash-kernels",
      pr: 42,
      method: "squash",
      requestedBy: "alice",
      installationId: 2311213,
      branch: "main",
      requestId: "r1",
      enqueuedAt: Date.parse("2025-03-01T10:00:00Z"),
    };
    const jobId = landJobId("gpu-team", "flash-kernels", 42);
    await queue.add(LAND_JOB_NAME, data, { ...LAND_JOB_OPTIONS, jobId });
    await queue.add(LAND_JOB_NAME, { ...data, requestId: "r2" }, { ...LAND_JOB_OPTIONS, jobId });
    expect(await queue.getWaitingCount()).toBe(1);
    expect((await queue.getJob(jobId))?.data.requestId).toBe("r1");
    expect(landKeys.jobQueue(store, jobId)).toBe(`${store.prefix}:land:job:${jobId}`);
    expect(landKeys.cancel(store, jobId)).toBe(`${store.prefix}:land:cancel:${jobId}`);
    expect(landKeys.queues(store)).toBe(`${store.prefix}:land:queues`);
    await queue.obliterate({ force: true });
  });
});
