import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { reduceOldSamples } from "../../src/flows/retention.js";
import type { LandedCommit, RunRecord } from "../../src/model/engine.js";
import type { SuiteResult } from "../../src/model/result.js";
import { testDatabase } from "../helpers/database.js";

const REPO = "gpu-team/flash-kernels";
const SUITE = "varlen-attention";
/** Distinct in the first 12 digits, which job ids keep. */
const sha = (i: number) => i.toString(16).padStart(12, "0").padEnd(40, "0");
const DAY = 24 * 3600 * 1000;

let db: Awaited<ReturnType<typeof testDatabase>>;
let clock: number;
let ledger: Ledger;

function run(i: number, suite = SUITE): RunRecord {
  const samples = Array.from({ length: 500 }, (_, k) => 120 + ((k * 7919 + i) % 97) / 10);
  const result: SuiteResult = {
    schema: "sheriff.result/v1",
    suite,
    commit: sha(i),
    status: "completed",
    startedAt: new Date(clock).toISOString(),
    finishedAt: new Date(clock).toISOString(),
    tests: [{ name: "fwd_d128", outcome: "pass" }],
    benchmarks: [{ name: "fwd", unit: "us", samples }],
    environment: { commit: sha(i), executor: "cuda", gpu: "NVIDIA H200" },
  };
  return { job: { sha: sha(i), suite, purpose: "landed", attempt: 0 }, result };
}

beforeEach(async () => {
  clock = Date.parse("2025-01-01T00:00:00.000Z");
  db = await testDatabase("retention");
  ledger = new Ledger(db, () => new Date(clock));
  const commits: LandedCommit[] = Array.from({ length: 40 }, (_, i) => ({
    sha: sha(i),
    parent: sha(i - 1),
    title: `c${i}`,
    author: "alice",
    suites: [SUITE],
    isRevert: false,
  }));
  await ledger.recordCommits(REPO, "main", commits);
  // One commit a day; the engine's window for the suite starts at commit 30.
  for (let i = 0; i < 40; i++) {
    await ledger.recordRun(REPO, run(i));
    clock += DAY;
  }
  await ledger.recordRun(REPO, run(5, "index-reduce"));
  await ledger.setEngineWindow(REPO, "main", SUITE, { fromSeq: 30, carry: {} });
});

afterEach(async () => {
  await db.cleanup();
});

describe("reduceOldSamples", () => {
  it("reduces only settled runs older than the age, outside every engine window, once", async () => {
    const before = await ledger.footprint();
    // 40 days after the first run, with a 20-day limit: runs of days 0..19 are old; the window starts at 30.
    const now = new Date(Date.parse("2025-01-01T00:00:00.000Z") + 40 * DAY);
    expect(await reduceOldSamples({ ledger }, 20, now)).toBe(20);
    const runs = await ledger.runs(REPO, SUITE);
    const reduced = runs.filter((r) => r.result.benchmarks[0]!.sampleCount === 500).map((r) => r.job.sha);
    expect(reduced).toEqual(Array.from({ length: 20 }, (_, i) => sha(i)));
    expect(runs.filter((r) => r.result.benchmarks[0]!.samples.length === 500)).toHaveLength(20);
    // A suite without an engine window keeps everything raw.
    expect((await ledger.runs(REPO, "index-reduce"))[0]!.result.benchmarks[0]!.samples).toHaveLength(500);
    // Nothing is picked twice.
    expect(await reduceOldSamples({ ledger }, 20, now)).toBe(0);
    // Later, with the window moved on, the rest before it is reduced too; inside the window nothing is.
    const window = await ledger.engineWindow(REPO, "main", SUITE);
    expect(await ledger.setEngineWindow(REPO, "main", SUITE, { fromSeq: 35, carry: {} }, window)).toBe(true);
    expect(await reduceOldSamples({ ledger }, 1, now)).toBe(15);
    const after = await ledger.runs(REPO, SUITE);
    expect(after.filter((r) => r.result.benchmarks[0]!.samples.length === 500).map((r) => r.job.sha)).toEqual(
      Array.from({ length: 5 }, (_, i) => sha(35 + i)),
    );
    await db.pool.query("VACUUM FULL runs");
    const shrunk = await ledger.footprint();
    expect(shrunk.commits).toBe(before.commits);
    expect(shrunk.bytes).toBeLessThan(before.bytes);
  });
});
