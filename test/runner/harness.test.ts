import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_SUITES } from "../../src/model/config.js";
import { jobRequestSchema } from "../../src/model/jobs.js";
import { parseSuiteResult } from "../../src/model/result.js";
import { buildHistory, prepareKernels, runBuiltinSuite, type HarnessOptions } from "../../src/runner/harness.js";
import { compiledEntry, ensureAddon, kernelsRepo, SHARED_WORK_DIR, type KernelsRepo } from "./support.js";

let repo: KernelsRepo;
let options: HarnessOptions;

beforeAll(() => {
  ensureAddon();
  repo = kernelsRepo();
  options = { workDir: SHARED_WORK_DIR, cuda: "off", entry: compiledEntry(), quick: true, reps: 3, timeoutMs: 60_000 };
}, 120_000);

afterAll(() => {
  rmSync(repo.root, { recursive: true, force: true });
});

describe("built-in suites on the CPU host path, at a commit", () => {
  for (const suite of BUILTIN_SUITES) {
    it(`${suite} passes at the good commit`, async () => {
      const dir = repo.checkout(repo.good);
      const result = await runBuiltinSuite({ dir, suite, sha: repo.good }, options);
      expect(() => parseSuiteResult(result, "test")).not.toThrow();
      expect(result.status, result.log).toBe("completed");
      expect(result.environment.executor).toBe("cpu-host");
      expect(result.environment.commit).toBe(repo.good);
      const bad = result.tests.filter((t) => t.outcome === "fail" || t.outcome === "error");
      expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
      expect(result.tests.filter((t) => t.outcome === "pass").length).toBeGreaterThan(1);
      if (suite === "half-precision" || suite === "index-reduce") {
        expect(result.benchmarks.length).toBeGreaterThan(0);
        expect(result.benchmarks[0]!.samples.length).toBe(3);
        expect(result.benchmarks[0]!.reference?.samples.length).toBe(3);
      }
      const withTolerance = result.tests.find((t) => t.tolerance !== undefined && t.maxError !== undefined);
      expect(withTolerance).toBeDefined();
      // skipped GPU-only tests say why
      for (const t of result.tests.filter((x) => x.outcome === "skip")) expect(t.message).toMatch(/no CUDA device/);
    });
  }
});

describe("regressions, crashes and hangs at a commit become results", () => {
  it("a bf16 conversion that truncates instead of rounding fails half-precision with maxError > tolerance", async () => {
    const result = await runBuiltinSuite(
      { dir: repo.checkout(repo.bf16Truncation), suite: "half-precision", sha: repo.bf16Truncation },
      options,
    );
    expect(result.status).toBe("completed");
    const failing = result.tests.filter((t) => t.outcome === "fail");
    expect(failing.map((t) => t.name)).toContain("half_precision/f32->bf16/random_bits/n=16384");
    for (const t of failing) {
      expect(t.name).toMatch(/f32->bf16/);
      expect(t.tolerance).toBe(0);
      expect(t.maxError).toBeGreaterThanOrEqual(1);
      expect(t.message).toMatch(/differ from the reference/);
    }
    // the fp16 path is untouched and still passes
    expect(result.tests.filter((t) => t.name.includes("f32->f16")).every((t) => t.outcome === "pass")).toBe(true);

    // index_reduce stores bf16 through the same conversion; its comparison is exact
    const ir = await runBuiltinSuite({ dir: repo.checkout(repo.bf16Truncation), suite: "index-reduce", sha: repo.bf16Truncation }, options);
    const irFailing = ir.tests.filter((t) => t.outcome === "fail");
    expect(irFailing.length).toBeGreaterThan(0);
    expect(irFailing.every((t) => t.name.includes("/bf16/") && t.maxError! > 0 && t.tolerance === 0)).toBe(true);
  });

  it("timing that reads an event before it completed fails cuda-events, even without a GPU", async () => {
    const result = await runBuiltinSuite(
      { dir: repo.checkout(repo.eventReadBeforeCompletion), suite: "cuda-events", sha: repo.eventReadBeforeCompletion },
      options,
    );
    expect(result.status).toBe("completed");
    const failing = result.tests.filter((t) => t.outcome === "fail");
    expect(failing.map((t) => t.name)).toEqual(["cuda_events/event_logic/fake_runtime"]);
    expect(failing[0]!.message).toContain("same_stream_not_yet_complete: FAIL");
  });

  it("a kernel that segfaults gives status crashed, naming the test that was running", async () => {
    const result = await runBuiltinSuite({ dir: repo.checkout(repo.segfault), suite: "half-precision", sha: repo.segfault }, options);
    expect(parseSuiteResult(result, "test").status).toBe("crashed");
    const last = result.tests[result.tests.length - 1]!;
    expect(last.outcome).toBe("error");
    expect(last.name).toMatch(/^half_precision\//);
    expect(last.message).toMatch(/SIGSEGV|SIGBUS/);
  });

  it("a kernel that hangs is killed at the time limit: status timed_out", async () => {
    const started = Date.now();
    const result = await runBuiltinSuite(
      { dir: repo.checkout(repo.hang), suite: "half-precision", sha: repo.hang, timeoutMs: 2500 },
      options,
    );
    expect(result.status).toBe("timed_out");
    expect(result.tests.at(-1)!.message).toMatch(/timed out after 3 s while running this test|timed out after 2 s/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("kernels that do not compile give status error with the build log", async () => {
    const result = await runBuiltinSuite({ dir: repo.checkout(repo.compileError), suite: "index-reduce", sha: repo.compileError }, options);
    expect(result.status).toBe("error");
    expect(result.tests[0]!.name).toBe("index-reduce/build-kernels");
    expect(result.log).toMatch(/does not compile|error/);
  });
});

describe("kernels build cache", () => {
  it("builds once per kernels/ content: a commit that leaves kernels/ untouched is a cache hit", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "sheriff-cache-"));
    try {
      const first = await prepareKernels(repo.checkout(repo.good), { ...options, workDir });
      expect(first.cacheHit).toBe(false);
      expect(first.source).toMatch(/^git-tree:/);
      const second = await prepareKernels(repo.checkout(repo.docsOnly), { ...options, workDir });
      expect(second.cacheHit).toBe(true);
      expect(second.libPath).toBe(first.libPath);
      expect(await buildHistory(workDir)).toHaveLength(1);
      // a job through the harness at the docs-only commit builds nothing either, and says so
      const result = await runBuiltinSuite(
        { dir: repo.checkout(repo.docsOnly), suite: "cuda-events", sha: repo.docsOnly },
        { ...options, workDir },
      );
      expect(result.log).toMatch(/^kernels cache hit/);
      expect(await buildHistory(workDir)).toHaveLength(1);
      // changed kernels/ -> a new build
      const third = await prepareKernels(repo.checkout(repo.bf16Truncation), { ...options, workDir });
      expect(third.cacheHit).toBe(false);
      expect(await buildHistory(workDir)).toHaveLength(2);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe("sheriff run-suite (what workflows/post-land-gpu.yml runs)", () => {
  it("writes run.json = {job, result} for the artifact, and exits 1 when a test fails", () => {
    const out = mkdtempSync(join(tmpdir(), "sheriff-run-suite-"));
    try {
      const run = (sha: string) => {
        const job = { sha, suite: "half-precision", purpose: "landed", attempt: 0 };
        const args = [
          options.entry!,
          "run-suite",
          "--suite",
          "half-precision",
          "--dir",
          repo.checkout(sha),
          "--job",
          JSON.stringify(job),
          "--out",
          join(out, `${sha}.json`),
          "--work-dir",
          SHARED_WORK_DIR,
          "--cuda",
          "off",
          "--quick",
          "--reps",
          "2",
        ];
        let code = 0;
        try {
          execFileSync(process.execPath, args, { stdio: "pipe" });
        } catch (err) {
          code = (err as { status: number }).status;
        }
        const file = JSON.parse(readFileSync(join(out, `${sha}.json`), "utf8")) as { job: unknown; result: unknown };
        return { code, job: jobRequestSchema.parse(file.job), result: parseSuiteResult(file.result, "run.json") };
      };
      const good = run(repo.good);
      expect(good.code).toBe(0);
      expect(good.job.sha).toBe(repo.good);
      expect(good.result).toMatchObject({ suite: "half-precision", commit: repo.good, status: "completed" });
      const bad = run(repo.bf16Truncation);
      expect(bad.code).toBe(1);
      expect(bad.result.tests.some((t) => t.outcome === "fail")).toBe(true);

      // An A/B job: suspect and baseline alternate, from the history of the checkout.
      const ab = { sha: repo.bf16Truncation, suite: "half-precision", purpose: "ab", attempt: 0, baselineSha: repo.good };
      const abOut = join(out, "ab.json");
      try {
        execFileSync(
          process.execPath,
          [
            options.entry!,
            "run-suite",
            "--suite",
            "half-precision",
            "--dir",
            repo.checkout(repo.good),
            "--job",
            JSON.stringify(ab),
            "--out",
            abOut,
            "--work-dir",
            SHARED_WORK_DIR,
            "--cuda",
            "off",
            "--quick",
            "--reps",
            "2",
          ],
          { stdio: "pipe" },
        );
      } catch {
        // exit 1: the suspect fails
      }
      const file = JSON.parse(readFileSync(abOut, "utf8")) as { result: unknown; baselineResult: unknown };
      const suspect = parseSuiteResult(file.result, "ab suspect");
      const baseline = parseSuiteResult(file.baselineResult, "ab baseline");
      expect([suspect.commit, baseline.commit]).toEqual([repo.bf16Truncation, repo.good]);
      expect(suspect.tests.some((t) => t.outcome === "fail")).toBe(true);
      expect(baseline.tests.every((t) => t.outcome !== "fail")).toBe(true);
      expect(suspect.benchmarks[0]!.samples.length).toBe(3 * bad.result.benchmarks[0]!.samples.length);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
