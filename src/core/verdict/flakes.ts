import { runsOf, type SuiteContext } from "./context.js";
import { countOutcomes, failingIn, passingIn } from "./tests.js";

/**
 * What the suite's own history says about each test's flakiness. A test is seen flaking when
 * it both failed and passed at one commit (a deterministic break never passes, so that is
 * proof); its flake rate is those intermittent failures over every run that observed it.
 *
 * The evidence a new failure needs follows from that rate. A test never seen flaking must fail
 * again in one retry (`retries`, default 1) before the search starts, which keeps bisection
 * within a few jobs of log2 of the range. A test seen flaking at rate f must fail n times in a
 * row where f^n <= `flakeRisk`: the chance, per run of the suite, that its flakiness alone opens
 * an investigation and fills the streak. A very flaky test opens many investigations, so it pays
 * for each with a longer streak.
 *
 * Only commits up to the investigation's last good one count, so the requirement of a settled
 * investigation stays fixed while later runs arrive.
 */

/** Runs at one commit past which more retries (a very flaky test's streak, a tie at the last good commit) are not worth the GPUs. */
export const MAX_RUNS_PER_COMMIT = 11;

/** The failures in a row that rate `f` produces with chance at most `flakeRisk` (at least `retries` + 1), or undefined past the cap. */
export function streakNeeded(f: number | undefined, retries: number, flakeRisk: number): number | undefined {
  const floor = retries + 1;
  if (f === undefined) return floor;
  const streak = Math.max(floor, Math.ceil(Math.log(flakeRisk) / Math.log(f)));
  return streak <= MAX_RUNS_PER_COMMIT ? streak : undefined;
}

export interface TestRecord {
  runs: number;
  intermittent: number;
}

export class FlakeHistory {
  private readonly tests: Map<string, TestRecord>;

  /** `counted`: the records of every commit before index `next`, already folded in (a carried window). */
  constructor(
    private readonly ctx: SuiteContext,
    counted: Record<string, TestRecord> = {},
    private next = 0,
  ) {
    this.tests = new Map(Object.entries(counted).map(([test, rec]) => [test, { ...rec }]));
  }

  /** Folds in the plain-state runs of every commit before index `end` not yet counted (the walk only moves forward). */
  advanceTo(end: number): void {
    for (; this.next < end && this.next < this.ctx.commits.length; this.next++) {
      const runs = runsOf(this.ctx, this.ctx.commits[this.next]!.sha);
      for (const t of new Set([...failingIn(runs), ...passingIn(runs)])) {
        const { fails, passes } = countOutcomes(runs, t);
        const rec = this.record(t);
        rec.runs += fails + passes;
        if (passes) rec.intermittent += fails;
      }
    }
  }

  /** The observed flake rate (Laplace's rule of succession), or undefined for a test never seen flaking. */
  flakeRate(test: string): number | undefined {
    return this.flakeRateWith(test, { runs: 0, intermittent: 0 });
  }

  /** The same with `extra` runs counted on top (an open search's own commits). */
  flakeRateWith(test: string, extra: TestRecord): number | undefined {
    const rec = this.tests.get(test) ?? { runs: 0, intermittent: 0 };
    const intermittent = rec.intermittent + extra.intermittent;
    if (!intermittent) return undefined;
    return (intermittent + 1) / (rec.runs + extra.runs + 2);
  }

  /**
   * How many runs at the suspect must all fail before a new failure of `test` is believed, or
   * undefined when no streak within `MAX_RUNS_PER_COMMIT` runs is unlikely enough by flakes alone.
   */
  failuresNeeded(test: string, retries: number, flakeRisk: number): number | undefined {
    return streakNeeded(this.flakeRate(test), retries, flakeRisk);
  }

  /** The records folded in so far, as plain data. */
  counted(): Record<string, TestRecord> {
    return Object.fromEntries([...this.tests].map(([test, rec]) => [test, { ...rec }]));
  }

  private record(test: string): TestRecord {
    let rec = this.tests.get(test);
    if (!rec) {
      rec = { runs: 0, intermittent: 0 };
      this.tests.set(test, rec);
    }
    return rec;
  }
}
