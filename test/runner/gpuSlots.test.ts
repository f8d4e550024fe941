import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SuiteConfig } from "../../src/model/config.js";
import type { GpuJob } from "../../src/model/jobs.js";
import { Queues } from "../../src/adapters/queue/queues.js";
import { RepoCache } from "../../src/adapters/git/git.js";
import { discoverGpus, GpuSlots, parseGpuList, parseNvidiaSmiList } from "../../src/runner/gpus.js";
import { createBuiltinRunner } from "../../src/runner/harness.js";
import { startGpuWorker } from "../../src/runner/worker.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { testRedis } from "../helpers/redis.js";
import { testDatabase } from "../helpers/database.js";
import { kernelsRepo, ROOT, SHARED_WORK_DIR, type KernelsRepo } from "./support.js";

describe("GPU discovery", () => {
  it("parses nvidia-smi -L and the SHERIFF_GPUS override", async () => {
    const text = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0c4a)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-77f1)\n";
    expect(parseNvidiaSmiList(text)).toEqual([
      { index: 0, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-0c4a" },
      { index: 1, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-77f1" },
    ]);
    expect(parseGpuList("0, 2")).toEqual([{ index: 0 }, { index: 2 }]);
    expect(parseGpuList("none")).toEqual([]);
    expect(() => parseGpuList("0,x")).toThrow(/not a GPU index/);
    expect(await discoverGpus({ SHERIFF_GPUS: "3,1" })).toEqual([{ index: 3 }, { index: 1 }]);
  });

  it("a slot pool never gives one GPU to two jobs at once", async () => {
    const pool = new GpuSlots([{ index: 0 }, { index: 1 }]);
    const busy = new Set<number>();
    let overlap = false;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        pool.run(async (slot) => {
          if (busy.has(slot!.index)) overlap = true;
          busy.add(slot!.index);
          await new Promise((r) => setTimeout(r, 20));
          busy.delete(slot!.index);
        }),
      ),
    );
    expect(overlap).toBe(false);
  });
});

describe("sheriff worker with two (simulated) GPUs", () => {
  let repo: KernelsRepo;
  let store: ReturnType<typeof testRedis>;
  let worker: Worker | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  let workDir: string;
  let marks: string;

  beforeAll(() => {
    repo = kernelsRepo();
    store = testRedis("gpu-slots");
    workDir = mkdtempSync(join(tmpdir(), "sheriff-worker-"));
    marks = mkdtempSync(join(tmpdir(), "sheriff-marks-"));
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    for (const cleanup of cleanups) await cleanup();
    await store.cleanup();
    rmSync(repo.root, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    rmSync(marks, { recursive: true, force: true });
  });

  it("runs one job per GPU concurrently, pins each child to its GPU, reports gpuIndex, survives a crash", async () => {
    const gpus = await discoverGpus({ SHERIFF_GPUS: "0,1" });
    const queues = new Queues(store);
    const db = await testDatabase("gpu-slots");
    cleanups.push(() => db.cleanup());
    const ledger = new Ledger(db);
    const runner = createBuiltinRunner({
      workDir: SHARED_WORK_DIR,
      cuda: "off",
      entry: join(ROOT, "test/runner/fixtures/fakeSuiteChild.mjs"),
      env: { SHERIFF_TEST_MARKS: marks, SHERIFF_TEST_CRASH_SHA: repo.segfault, SHERIFF_TEST_HOLD_MS: "1500" },
    });
    const suite: SuiteConfig = {
      kind: "builtin",
      builtin: "half-precision",
      name: "half",
      paths: ["kernels/**"],
      timeoutSeconds: 60,
      thresholds: { slowdown: 0.05, pValue: 0.01, retries: 1, flakeRisk: 0.00001 },
    };
    const repoRef = { owner: "acme", repo: "kernels", installationId: 1, cloneUrl: repo.dir, branch: "main" };
    const job = (sha: string): GpuJob => ({ repo: repoRef, job: { sha, suite: "half", purpose: "landed", attempt: 0 }, suite });
    worker = startGpuWorker({
      queues,
      ledger,
      cache: new RepoCache(workDir),
      runners: { builtin: runner },
      log: pino({ level: "silent" }),
      gpus,
    });
    await queues.addGpu(job(repo.good));
    await queues.addGpu(job(repo.segfault)); // this one's child aborts

    const runsDone = async (n: number) => {
      const deadline = Date.now() + 40_000;
      for (;;) {
        const runs = await ledger.runs("acme/kernels", "half");
        if (runs.length >= n) return runs;
        if (Date.now() > deadline) throw new Error(`only ${runs.length} of ${n} runs recorded`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const runs = await runsDone(2);
    const bySha = new Map(runs.map((r) => [r.job.sha, r.result]));
    if (process.env.DEBUG_SLOTS) console.log(JSON.stringify(runs, null, 1).slice(0, 3000));
    const read = (sha: string) =>
      readFileSync(join(marks, `${sha}.jsonl`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { what: string; at: number; gpu: string });
    const a = read(repo.good);
    const b = read(repo.segfault);
    // pinned: each child saw exactly one GPU, and they were different GPUs
    expect(new Set([a[0]!.gpu, b[0]!.gpu])).toEqual(new Set(["0", "1"]));
    // concurrent: the second started before the first finished
    const aEnd = a.find((m) => m.what === "end")!.at;
    const bEnd = b.find((m) => m.what === "abort")!.at;
    expect(Math.max(a[0]!.at, b[0]!.at)).toBeLessThan(Math.min(aEnd, bEnd));
    // results say which GPU ran them; the crash is a result, not a worker failure
    expect(bySha.get(repo.good)!.status).toBe("completed");
    expect(String(bySha.get(repo.good)!.environment.gpuIndex)).toBe(a[0]!.gpu);
    expect(bySha.get(repo.segfault)!.status).toBe("crashed");
    expect(bySha.get(repo.segfault)!.tests.at(-1)!.message).toMatch(/SIGABRT/);
    expect(String(bySha.get(repo.segfault)!.environment.gpuIndex)).toBe(b[0]!.gpu);

    // the worker lives on: a third job runs after the crash
    expect(worker.isRunning()).toBe(true);
    await queues.addGpu(job(repo.docsOnly));
    const after = await runsDone(3);
    const third = after.find((r) => r.job.sha === repo.docsOnly)!.result;
    expect(third.status).toBe("completed");
    expect([0, 1]).toContain(third.environment.gpuIndex);
    await queues.close();
  }, 60_000);
});
