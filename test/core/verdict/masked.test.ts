import { describe, expect, it } from "vitest";
import { decide } from "../../../src/core/verdict/engine.js";
import { SUITE, drive, history, revertOf, sha, type Spec } from "./harness.js";
import { jobId, type JobRequest } from "../../../src/model/jobs.js";

const CHERRY = { cherryPick: true };
const picked = (job: JobRequest, revert: number) => job.cherryPicks?.includes(sha(revert)) === true;

/**
 * Commit 4 crashes every run until its revert lands at 12; commit 7, inside that window, breaks
 * t_a. On the branch nothing between 4 and 11 can be measured, so only a probe with the revert
 * cherry-picked on top can place the break.
 */
const crashThenBreak = (i: number, _n: number, job: JobRequest): Spec =>
  i >= 4 && i < 12 && !picked(job, 12) ? { status: "crashed" } : { fail: i >= 7 ? ["t_a"] : [] };

describe("culprits masked by a reverted culprit", () => {
  it("finds a break that landed under a live crash, probing the crash window with the crash's revert cherry-picked", () => {
    const commits = revertOf(history(16), 12, 4);
    const d = drive({ commits, landed: [0, 10, 12], behave: crashThenBreak, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(4), sha(7)]);
    const masked = d.regressions[1]!;
    expect(masked).toMatchObject({ kind: "correctness", lastGood: sha(6), failingTests: [{ name: "t_a" }] });
    expect(masked.summary).toMatch(/cherry-picked/);
    // Cherry-picked probes stay inside the crash window; the masked search probed there only with the revert.
    const index = (j: JobRequest) => Number.parseInt(j.sha.slice(0, 12), 16) - 1;
    const probes = d.jobs.filter((j) => j.purpose === "bisect");
    const pickedProbes = probes.filter((j) => picked(j, 12));
    expect(pickedProbes.length).toBeGreaterThanOrEqual(3);
    expect(pickedProbes.every((j) => index(j) >= 4 && index(j) < 12)).toBe(true);
    const afterCrashFound = d.jobs.slice(d.jobs.findIndex((j) => j.cherryPicks !== undefined));
    expect(afterCrashFound.filter((j) => j.purpose === "bisect" && index(j) >= 4 && index(j) < 12 && !picked(j, 12))).toEqual([]);
    // The boundary repeat holds with cherry-picked runs too: the masked culprit failed twice.
    expect(probes.filter((j) => j.sha === sha(7) && picked(j, 12))).toHaveLength(2);
  });

  it("without the runner capability it asks for no cherry-pick and still declines to guess", () => {
    const commits = revertOf(history(16), 12, 4);
    const d = drive({ commits, landed: [0, 10, 12], behave: crashThenBreak });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(4)]);
    expect(d.jobs.some((j) => j.cherryPicks !== undefined)).toBe(false);
  });

  it("finds a second break of an already-broken test once the first break is reverted and the test still fails", () => {
    // Commit 3 breaks t_a and is reverted at 10; commit 6 breaks t_a again while it is still broken.
    const commits = revertOf(history(14), 10, 3);
    const behave = (i: number, _n: number, job: JobRequest): Spec => ({
      fail: (i >= 3 && i < 10 && !picked(job, 10)) || i >= 6 ? ["t_a"] : [],
    });
    const d = drive({ commits, landed: [0, 8, 10], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(3), sha(6)]);
    expect(d.regressions[1]).toMatchObject({ lastGood: sha(5), failingTests: [{ name: "t_a" }] });
    expect(d.jobs.filter((j) => j.purpose === "bisect" && picked(j, 10)).length).toBeGreaterThan(0);

    const plain = drive({ commits, landed: [0, 8, 10], behave });
    expect(plain.regressions.map((r) => r.culprit)).toEqual([sha(3)]);
  });

  it("does not reopen a reverted break when the revert fixed the test", () => {
    const commits = revertOf(history(14), 10, 3);
    const behave = (i: number, _n: number, job: JobRequest): Spec => ({ fail: i >= 3 && i < 10 && !picked(job, 10) ? ["t_a"] : [] });
    const d = drive({ commits, landed: [0, 8, 10, 13], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(3)]);
    expect(d.jobs.some((j) => j.cherryPicks !== undefined)).toBe(false);
  });

  it("does not cherry-pick the revert of a culprit that broke an unrelated test", () => {
    // Commit 3 breaks t_b (reverted at 6); commit 9 breaks t_a, searched back to commit 0.
    const commits = revertOf(history(14), 6, 3);
    const behave = (i: number): Spec => ({ fail: [...(i >= 3 && i < 6 ? ["t_b"] : []), ...(i >= 9 ? ["t_a"] : [])] });
    const d = drive({ commits, landed: [0, 5, 13], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(3), sha(9)]);
    expect(d.jobs.some((j) => j.cherryPicks !== undefined)).toBe(false);
  });

  it("never blames a window commit on a flake seen in a cherry-picked probe", () => {
    // The first cherry-picked run of every window commit flakes t_c; the real break is commit 9.
    const commits = revertOf(history(16), 12, 4);
    const seen = new Set<number>();
    const behave = (i: number, _n: number, job: JobRequest): Spec => {
      if (i >= 4 && i < 12 && !picked(job, 12)) return { status: "crashed" };
      const flake = i >= 4 && i < 12 && !seen.has(i);
      seen.add(i);
      return { fail: [...(i >= 9 ? ["t_a"] : []), ...(flake ? ["t_c"] : [])] };
    };
    const d = drive({ commits, landed: [0, 10, 12], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(4), sha(9)]);
  });

  it("finds a slowdown that landed under a live crash, timing the window with the revert cherry-picked", () => {
    const commits = revertOf(history(16), 12, 4);
    const behave = (i: number, _n: number, job: JobRequest): Spec =>
      i >= 4 && i < 12 && !picked(job, 12) ? { status: "crashed" } : { bench: { attn: i >= 7 ? 550 : 500, copy: 80 } };
    const d = drive({ commits, landed: [0, 10, 12], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => [r.kind, r.culprit])).toEqual([
      ["correctness", sha(4)],
      ["performance", sha(7)],
    ]);
    // Confirmed against its own parent, both halves built with the revert.
    expect(d.jobs).toContainEqual(
      expect.objectContaining({ purpose: "ab", sha: sha(7), baselineSha: sha(6), cherryPicks: [sha(12)], baselineCherryPicks: [sha(12)] }),
    );
    const plain = drive({ commits, landed: [0, 10, 12], behave });
    expect(plain.regressions.map((r) => r.culprit)).toEqual([sha(4)]);
  });

  it("unwinds nested windows: a crash found under another crash, then a break under both", () => {
    // Crash 4 (reverted at 14) hides crash 8 (reverted at 18), which is only ever run with 14
    // cherry-picked; both hide commit 10's break of t_a.
    const commits = revertOf(revertOf(history(22), 14, 4), 18, 8);
    const behave = (i: number, _n: number, job: JobRequest): Spec => {
      const a = i >= 4 && i < 14 && !picked(job, 14);
      const b = i >= 8 && i < 18 && !picked(job, 18);
      return a || b ? { status: "crashed" } : { fail: i >= 10 ? ["t_a"] : [] };
    };
    const d = drive({ commits, landed: [0, 6, 14, 18, 21], behave, capabilities: CHERRY });
    expect(d.regressions.map((r) => r.culprit)).toEqual([sha(4), sha(8), sha(10)]);
    expect(d.jobs).toContainEqual(expect.objectContaining({ purpose: "bisect", sha: sha(10), cherryPicks: [sha(14), sha(18)] }));
  });

  it("gives cherry-picked jobs their own ids and leaves plain ids as they were", () => {
    const job: JobRequest = { sha: sha(5), suite: SUITE.name, purpose: "bisect", attempt: 1 };
    expect(jobId(job)).toBe(`${SUITE.name}.${sha(5).slice(0, 12)}.bisect.1`);
    expect(jobId({ ...job, cherryPicks: [sha(9)] })).toBe(`${SUITE.name}.${sha(5).slice(0, 12)}.with.${sha(9).slice(0, 12)}.bisect.1`);
    const ab: JobRequest = { ...job, purpose: "ab", baselineSha: sha(2) };
    expect(jobId({ ...ab, baselineCherryPicks: [sha(9)] })).not.toBe(jobId(ab));
  });

  it("stays idempotent with cherry-picked probes in flight", () => {
    const commits = revertOf(history(16), 12, 4);
    const d = drive({ commits, landed: [0, 10, 12], behave: crashThenBreak, capabilities: CHERRY });
    const firstPicked = d.runs.findIndex((r) => r.job.cherryPicks !== undefined);
    expect(firstPicked).toBeGreaterThan(0);
    const input = {
      suite: SUITE,
      commits,
      runs: d.runs.slice(0, firstPicked),
      pending: [],
      rebaselines: [],
      declared: [sha(4)],
      parallelism: 2,
      capabilities: CHERRY,
    };
    const asked = decide(input).flatMap((x) => (x.type === "run" ? [x.job] : []));
    expect(asked.some((j) => j.cherryPicks !== undefined)).toBe(true);
    expect(decide({ ...input, pending: asked }).filter((x) => x.type === "run")).toEqual([]);
  });
});
