import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { benchmarkChart } from "../../../src/core/dashboard/benchmarkView.js";
import { commitView } from "../../../src/core/dashboard/commitView.js";
import type { BenchmarkPoint } from "../../../src/model/dashboard.js";
import { jobId } from "../../../src/model/jobs.js";
import type { RunRecord } from "../../../src/model/engine.js";
import type { SuiteResult } from "../../../src/model/result.js";

const sha = (label: string) => createHash("sha1").update(label).digest("hex");

function point(label: string, seq: number, median: number, gpu = "NVIDIA H100"): BenchmarkPoint {
  return {
    sha: sha(label),
    seq,
    jobId: `half.${label}`,
    purpose: "landed",
    at: "2026-12-01T00:00:00.000Z",
    gpu,
    median,
    referenceMedian: 120,
    samples: 30,
  };
}

interface Dataset {
  label: string;
  type: string;
  data: { x: number; y: number; label?: string; href?: string }[];
  hidden?: boolean;
}

describe("benchmarkChart", () => {
  const points = [point("a", 0, 100), point("b", 1, 101), point("c", 2, 112), point("d", 3, 99, "NVIDIA H200"), point("e", 4, 111)];

  it("has a series per GPU model, with each point linking to its commit", () => {
    const chart = benchmarkChart("gpu-team/flash-kernels", "bf16", points, { anchors: [], rebaselines: [], steps: [], slowdown: 0.05 });
    const datasets = (chart.config as { data: { datasets: Dataset[] } }).data.datasets;
    expect(chart.gpus).toEqual(["NVIDIA H100", "NVIDIA H200"]);
    expect(datasets.map((d) => [d.label, d.data.length])).toEqual([
      ["bf16 on NVIDIA H100", 4],
      ["bf16 on NVIDIA H200", 1],
      ["reference", 5],
    ]);
    expect(datasets[2]!.hidden).toBe(true);
    expect(datasets[0]!.data[2]).toMatchObject({ x: 2, y: 112, href: `/sheriff/gpu-team/flash-kernels/commit/${sha("c")}` });
  });

  it("draws each accepted level with the slowdown threshold above it, and marks rebaselines and culprits", () => {
    const chart = benchmarkChart("gpu-team/flash-kernels", "bf16", points, {
      anchors: [{ sha: sha("a") }, { sha: sha("e"), note: "rebaselined" }],
      rebaselines: [{ sha: sha("e"), reason: "new algorithm", by: "carol" }],
      steps: [{ culprit: sha("c"), summary: "12% slower" }],
      slowdown: 0.05,
    });
    expect(chart.levels.map((l) => [l.level, +l.threshold.toFixed(2)])).toEqual([
      [100, 105],
      [111, 116.55],
    ]);
    const datasets = (chart.config as { data: { datasets: Dataset[] } }).data.datasets;
    const threshold = datasets.find((d) => d.label === "+5% threshold")!;
    expect(threshold.data).toEqual([
      { x: 0, y: 105 },
      { x: 4, y: 105 },
    ]);
    expect(datasets.find((d) => d.label === "rebaseline")!.data[0]).toMatchObject({
      x: 4,
      y: 111,
      label: expect.stringContaining("new algorithm (@carol)"),
    });
    expect(datasets.find((d) => d.label === "culprit")!.data[0]).toMatchObject({ x: 2, y: 112 });
  });

  it("puts points of commits off the chain after the rest, in arrival order", () => {
    const chart = benchmarkChart("o/r", "b", [point("a", 5, 1), { ...point("x", 0, 2), seq: null }], {
      anchors: [],
      rebaselines: [],
      steps: [],
      slowdown: 0.05,
    });
    const datasets = (chart.config as { data: { datasets: Dataset[] } }).data.datasets;
    expect(datasets[0]!.data.map((p) => p.x)).toEqual([5, 6]);
  });
});

function result(failing: boolean): SuiteResult {
  return {
    schema: "sheriff.result/v1",
    suite: "half",
    commit: sha("c"),
    status: "completed",
    startedAt: "2026-12-01T10:00:00.000Z",
    finishedAt: "2026-12-01T10:05:00.000Z",
    tests: [
      { name: "fp16", outcome: "pass", maxError: 0, tolerance: 0 },
      { name: "bf16/rne", outcome: failing ? "fail" : "pass", maxError: failing ? 1 : 0, tolerance: 0, message: "1 ulp off" },
    ],
    benchmarks: [{ name: "bf16", unit: "us", samples: [10, 11, 12], reference: { name: "torch", samples: [22, 24, 23] } }],
    environment: { commit: sha("c"), gpu: "NVIDIA H100", host: "gpu-1" },
  };
}

describe("commitView", () => {
  it("puts failing tests first with their error against tolerance, and the verdict's investigation with where each run ran", () => {
    const landed: RunRecord = { job: { sha: sha("c"), suite: "half", purpose: "landed", attempt: 0 }, result: result(true) };
    const probe: RunRecord = { job: { sha: sha("b"), suite: "half", purpose: "bisect", attempt: 1 }, result: result(false) };
    const view = commitView({
      jobs: [{ id: jobId(landed.job), job: landed.job, state: "done", enqueuedAt: "", updatedAt: "" }],
      runs: [landed],
      verdicts: [
        {
          at: "2026-12-01T11:00:00.000Z",
          decision: {
            type: "regression",
            suite: "half",
            kind: "correctness",
            culprit: sha("c"),
            lastGood: sha("b"),
            failingTests: [{ name: "bf16/rne" }],
            benchmarks: [],
            summary: "breaks bf16/rne",
          },
        },
      ],
      reverts: [],
      timeline: [],
      suites: [],
      investigation: [landed, probe],
    });
    expect(view.runs[0]!.tests.map((t) => [t.name, t.withinTolerance])).toEqual([
      ["bf16/rne", false],
      ["fp16", true],
    ]);
    expect(view.runs[0]!.benchmarks[0]).toMatchObject({ median: 11, speedup: 23 / 11 });
    expect(view.jobs[0]).toMatchObject({ gpu: "NVIDIA H100", host: "gpu-1", status: "completed" });
    expect(view.verdicts[0]!.steps).toEqual([
      { sha: sha("b"), purpose: "bisect", jobId: expect.stringContaining(".bisect.1"), outcome: "pass", where: "NVIDIA H100 on gpu-1" },
    ]);
  });
});
