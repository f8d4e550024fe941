import { reduceSamples } from "../core/retention.js";
import type { PipelineDeps } from "./deps.js";

const BATCH = 200;

/**
 * Reduces the raw benchmark samples of settled runs older than `maxAgeDays` to quantiles, in
 * batches, so the history's size per landed commit stays bounded however long Sheriff runs.
 * Safe to run from several processes or to interrupt: each batch is one statement, and a
 * reduced run is marked and never picked again.
 */
export async function reduceOldSamples(deps: Pick<PipelineDeps, "ledger">, maxAgeDays: number, now: Date = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - maxAgeDays * 24 * 3600 * 1000);
  let reduced = 0;
  for (;;) {
    const batch = await deps.ledger.settledRunsWithRawSamples(cutoff, BATCH);
    if (batch.length === 0) return reduced;
    await deps.ledger.storeReducedRuns(
      batch.map((r) => ({
        ...r,
        run: {
          ...r.run,
          result: reduceSamples(r.run.result),
          ...(r.run.baselineResult ? { baselineResult: reduceSamples(r.run.baselineResult) } : {}),
        },
      })),
    );
    reduced += batch.length;
  }
}
