import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { connectDatabase, migrate } from "../../src/adapters/store/database.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { advanceSuiteWindow, engineInput } from "../../src/flows/analyze.js";
import { decide } from "../../src/core/verdict/engine.js";
import { commitCheckRun, suitesWithJobsAt } from "../../src/core/summary.js";
import { explainReply } from "../../src/core/revert/messages.js";
import { jobId } from "../../src/model/jobs.js";
import { ConfigCache } from "../../src/adapters/github/config.js";
import { measureBytes, measureCheckRun, measureExplain, measurePerResult, prepareHistory } from "../../bench/scale/lib.mjs";
import { DATABASE_URL } from "../helpers/database.js";

const api = { connectDatabase, migrate, Ledger, engineInput, advanceSuiteWindow, decide, commitCheckRun, suitesWithJobsAt, explainReply, jobId, ConfigCache };
const log = pino({ level: "silent" });

async function measureAt(commits: number) {
  const schema = `t_bench_scale_${commits}_${randomBytes(4).toString("hex")}`;
  const ctx = await prepareHistory(api, { databaseUrl: DATABASE_URL, schema, commits, log });
  try {
    const landed = await ctx.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM commits");
    return {
      landed: Number(landed.rows[0]!.n),
      rows: ctx.built.rows,
      bytes: await measureBytes(ctx.db, commits),
      perResult: (await measurePerResult(api, ctx, { repetitions: 3, warmup: 1 })).summary,
      checkRun: (await measureCheckRun(api, ctx, { repetitions: 3, warmup: 1 })).summary,
      explain: (await measureExplain(api, ctx, { repetitions: 3, warmup: 1 })).summary,
    };
  } finally {
    await ctx.drop();
    await ctx.db.close();
  }
}

describe("bench/scale: history builder and per-event measurements", () => {
  it("builds a history into the migrated schema and costs the same round trips per event at 100 and 400 commits", async () => {
    const small = await measureAt(100);
    const large = await measureAt(400);

    expect(small.landed).toBe(100);
    expect(large.landed).toBe(400);
    // Most commits touch a suite, so there are more landed runs than a third of the commits.
    expect(large.rows.runs).toBeGreaterThan(400 / 3);
    expect(large.rows.jobs).toBe(large.rows.runs);
    expect(large.bytes.perCommit).toBeGreaterThan(0);
    expect(large.bytes.tables.runs!.bytes).toBeGreaterThan(0);

    expect(small.perResult.roundTrips!.median).toBeGreaterThan(0);
    expect(large.perResult.roundTrips!.median).toBe(small.perResult.roundTrips!.median);
    expect(large.checkRun.roundTrips!.median).toBe(small.checkRun.roundTrips!.median);
    expect(large.explain.roundTrips!.median).toBe(small.explain.roundTrips!.median);
  });
});
