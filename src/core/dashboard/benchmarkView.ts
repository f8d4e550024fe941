/**
 * A benchmark over time, per GPU model, as a Chart.js config: each run's median at its chain
 * position, the accepted levels the engine screens against with the slowdown threshold above
 * them, rebaselines and detected steps (culprits) marked. Pure: the caller reads the points.
 */
import type { BenchmarkPoint } from "../../model/dashboard.js";
import { shortSha } from "../../model/sha.js";
import { median } from "../summary.js";
import { commitPath } from "./links.js";

export interface BenchmarkMarks {
  anchors: { sha: string; note?: string }[];
  rebaselines: { sha: string; reason: string; by: string }[];
  steps: { culprit: string; summary: string }[];
  /** The suite's `thresholds.slowdown` (0.05 = 5%). */
  slowdown: number;
}

interface ChartPoint {
  x: number;
  y: number;
  label: string;
  href?: string;
}

const PALETTE = ["#0969da", "#8250df", "#1a7f37", "#bf3989", "#9a6700", "#57606a"];

/** Points without a chain position (a branch Sheriff no longer watches) go in arrival order after the rest. */
function positioned(points: BenchmarkPoint[]): (BenchmarkPoint & { x: number })[] {
  let next = Math.max(0, ...points.map((p) => p.seq ?? 0)) + 1;
  return points.map((p) => ({ ...p, x: p.seq ?? next++ }));
}

/** The benchmark's level at a commit: the median of its runs' medians there (on the first GPU model that ran it). */
function levelAt(points: (BenchmarkPoint & { x: number })[], sha: string): { x: number; y: number; gpu: string } | null {
  const here = points.filter((p) => p.sha === sha);
  if (here.length === 0) return null;
  const gpu = here[0]!.gpu;
  const same = here.filter((p) => p.gpu === gpu);
  return { x: here[0]!.x, y: median(same.map((p) => p.median)), gpu };
}

export interface BenchmarkChart {
  gpus: string[];
  points: number;
  levels: { sha: string; level: number; threshold: number; gpu: string; note?: string }[];
  config: unknown;
}

export function benchmarkChart(repo: string, benchmark: string, raw: BenchmarkPoint[], marks: BenchmarkMarks): BenchmarkChart {
  const points = positioned(raw);
  const gpus = [...new Set(points.map((p) => p.gpu))].sort();
  const lastX = Math.max(0, ...points.map((p) => p.x));
  const datasets: unknown[] = gpus.map((gpu, i) => ({
    type: "scatter",
    label: `${benchmark} on ${gpu}`,
    backgroundColor: PALETTE[i % PALETTE.length],
    pointRadius: 3,
    data: points
      .filter((p) => p.gpu === gpu)
      .map((p): ChartPoint => ({
        x: p.x,
        y: p.median,
        label: `${shortSha(p.sha)} ${p.purpose} on ${gpu}: ${p.median.toFixed(2)} µs`,
        href: commitPath(repo, p.sha, undefined),
      })),
  }));
  const references = points.filter((p) => p.referenceMedian !== undefined);
  if (references.length > 0)
    datasets.push({
      type: "scatter",
      label: "reference",
      // Often on another scale (a CPU reference, another library): shown from the legend, not by default.
      hidden: true,
      backgroundColor: "#afb8c1",
      pointRadius: 2,
      data: references.map((p): ChartPoint => ({
        x: p.x,
        y: p.referenceMedian!,
        label: `reference at ${shortSha(p.sha)}: ${p.referenceMedian!.toFixed(2)} µs`,
      })),
    });
  const levels: BenchmarkChart["levels"] = [];
  for (const anchor of marks.anchors) {
    const level = levelAt(points, anchor.sha);
    if (!level) continue;
    const threshold = level.y * (1 + marks.slowdown);
    levels.push({ sha: anchor.sha, level: level.y, threshold, gpu: level.gpu, ...(anchor.note ? { note: anchor.note } : {}) });
    const span = (y: number) => [
      { x: level.x, y },
      { x: lastX, y },
    ];
    datasets.push(
      {
        type: "line",
        label: `accepted level ${shortSha(anchor.sha)}`,
        data: span(level.y),
        borderColor: "#1a7f37",
        pointRadius: 0,
        borderWidth: 2,
      },
      {
        type: "line",
        label: `+${(marks.slowdown * 100).toFixed(0)}% threshold`,
        data: span(threshold),
        borderColor: "#cf222e",
        borderDash: [6, 4],
        pointRadius: 0,
        borderWidth: 1,
      },
    );
  }
  const markers = (label: string, style: string, colour: string, items: { sha: string; text: string }[]) => {
    const data = items.flatMap((m) => {
      const level = levelAt(points, m.sha);
      return level ? [{ x: level.x, y: level.y, label: `${label} ${shortSha(m.sha)}: ${m.text}`, href: commitPath(repo, m.sha) }] : [];
    });
    if (data.length > 0)
      datasets.push({
        type: "scatter",
        label,
        data,
        pointStyle: style,
        pointRadius: 9,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 2,
      });
  };
  markers(
    "rebaseline",
    "rectRot",
    "#9a6700",
    marks.rebaselines.map((r) => ({ sha: r.sha, text: `${r.reason} (@${r.by})` })),
  );
  markers(
    "culprit",
    "crossRot",
    "#cf222e",
    marks.steps.map((s) => ({ sha: s.culprit, text: s.summary })),
  );
  return {
    gpus,
    points: points.length,
    levels,
    config: {
      data: { datasets },
      options: {
        parsing: true,
        scales: {
          x: { type: "linear", ticks: { precision: 0 }, title: { display: true, text: "position on the branch" } },
          y: { title: { display: true, text: "median µs" } },
        },
      },
    },
  };
}
