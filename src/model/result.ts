import { z } from "zod";
import { shaSchema } from "./sha.js";
import { formatZodIssues } from "./zod.js";

/**
 * The one result format every GPU job produces, whatever ran it: the queue worker,
 * a GitHub Actions runner, a shell-command suite or a built-in kernel suite.
 * Producers write it, `parseSuiteResult` is the only way in.
 */
export const RESULT_SCHEMA_VERSION = "sheriff.result/v1";

/**
 * Bounds on a result: far above what a real suite reports (the built-in suites: tens of tests,
 * 30 samples per benchmark, 90 in a merged A/B job), far below what would stall the app, fill a
 * Redis value or a database row.
 */
export const RESULT_LIMITS = {
  /** Characters of the JSON text of a result (or a run file holding it). */
  jsonLength: 16 * 1024 * 1024,
  tests: 10_000,
  benchmarks: 1_000,
  samplesPerBenchmark: 20_000,
  samplesPerResult: 200_000,
  nameLength: 512,
  messageLength: 4_096,
  /** Characters of all test messages together. */
  messagesLength: 1_000_000,
  logLength: 64 * 1024,
  /** Each of environment's strings (host, gpu, driver, ...). */
  fieldLength: 256,
} as const;

/**
 * An array whose length is checked before its items are parsed: zod would otherwise parse
 * every item of an oversized array before reporting it too long.
 */
function boundedArray<T extends z.ZodTypeAny>(item: T, max: number, what: string, min = 0) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (Array.isArray(value) && value.length > max) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `more than ${max.toLocaleString("en-US")} ${what}` });
      }
    })
    .pipe(z.array(item).min(min));
}

const nameSchema = z.string().min(1).max(RESULT_LIMITS.nameLength, `a name is at most ${RESULT_LIMITS.nameLength} characters`);
const fieldSchema = z.string().max(RESULT_LIMITS.fieldLength, `at most ${RESULT_LIMITS.fieldLength} characters`);

export const testOutcomeSchema = z.enum(["pass", "fail", "error", "skip"]);
export type TestOutcome = z.infer<typeof testOutcomeSchema>;

export const testResultSchema = z.object({
  name: nameSchema,
  outcome: testOutcomeSchema,
  message: z.string().max(RESULT_LIMITS.messageLength, `a test message is at most ${RESULT_LIMITS.messageLength} characters`).optional(),
  maxError: z.number().optional(),
  tolerance: z.number().optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type TestResult = z.infer<typeof testResultSchema>;

const samplesSchema = boundedArray(z.number().finite().nonnegative(), RESULT_LIMITS.samplesPerBenchmark, "samples in one benchmark", 1);

export const benchmarkResultSchema = z.object({
  name: nameSchema,
  unit: z.literal("us"),
  /** Raw per-repetition timings (CUDA events or wall clock), never pre-aggregated by a runner. */
  samples: samplesSchema,
  /** A reference implementation timed in the same run, so ratios survive machine changes. */
  reference: z.object({ name: nameSchema, samples: samplesSchema, sampleCount: z.number().int().positive().optional() }).optional(),
  /**
   * Set only by Sheriff's retention on old, settled runs: `samples` then holds quantiles of the
   * `sampleCount` raw timings (minimum, deciles, maximum), enough for charts and levels.
   */
  sampleCount: z.number().int().positive().optional(),
  work: z.object({ flops: z.number().nonnegative().optional(), bytes: z.number().nonnegative().optional() }).optional(),
});
export type BenchmarkResult = z.infer<typeof benchmarkResultSchema>;

export const runStatusSchema = z.enum(["completed", "crashed", "timed_out", "error"]);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** Results written before `executor` had its name carried it as `runner`. */
const legacyExecutorName = (value: unknown) => {
  if (typeof value !== "object" || value === null || !("runner" in value) || "executor" in value) return value;
  const { runner, ...rest } = value as Record<string, unknown>;
  return { ...rest, executor: runner };
};

export const environmentSchema = z.preprocess(
  legacyExecutorName,
  z.object({
    commit: shaSchema,
    host: fieldSchema.optional(),
    /** What executed the suite: `command`, `cuda`, `cpu-host`, `cherry-pick`, or a simulated GPU. */
    executor: fieldSchema.optional(),
    gpu: fieldSchema.optional(),
    gpuIndex: z.number().int().nonnegative().optional(),
    driver: fieldSchema.optional(),
    cuda: fieldSchema.optional(),
  }),
);

export const suiteResultSchema = z
  .object({
    schema: z.literal(RESULT_SCHEMA_VERSION),
    suite: nameSchema,
    commit: shaSchema,
    status: runStatusSchema,
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
    tests: boundedArray(testResultSchema, RESULT_LIMITS.tests, "tests"),
    benchmarks: boundedArray(benchmarkResultSchema, RESULT_LIMITS.benchmarks, "benchmarks"),
    environment: environmentSchema,
    /** Tail of the job's output, for the evidence in a revert PR. */
    log: z.string().max(RESULT_LIMITS.logLength, `the log is at most ${RESULT_LIMITS.logLength} characters (keep its tail)`).optional(),
  })
  .superRefine((result, ctx) => {
    const samples = result.benchmarks.reduce((n, b) => n + b.samples.length + (b.reference?.samples.length ?? 0), 0);
    if (samples > RESULT_LIMITS.samplesPerResult) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["benchmarks"],
        message: `${samples} samples in all, more than ${RESULT_LIMITS.samplesPerResult.toLocaleString("en-US")}`,
      });
    }
    const messages = result.tests.reduce((n, t) => n + (t.message?.length ?? 0), 0);
    if (messages > RESULT_LIMITS.messagesLength) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["tests"],
        message: `${messages} characters of test messages in all, more than ${RESULT_LIMITS.messagesLength.toLocaleString("en-US")}`,
      });
    }
  });
export type SuiteResult = z.infer<typeof suiteResultSchema>;

/** Issues listed in an error; a result with a million bad tests must not make a million-line message. */
const LISTED_ISSUES = 10;

export class InvalidResultError extends Error {
  constructor(source: string, issues: string[]) {
    const listed = issues.slice(0, LISTED_ISSUES).map((i) => `  - ${i.length > 300 ? `${i.slice(0, 299)}…` : i}`);
    if (issues.length > LISTED_ISSUES) listed.push(`  - and ${issues.length - LISTED_ISSUES} more`);
    super(`invalid GPU job result from ${source}:\n${listed.join("\n")}`);
    this.name = "InvalidResultError";
  }
}

/** Validates an untrusted result (parsed JSON or a JSON string); `source` names where it came from for the error. */
export function parseSuiteResult(input: unknown, source: string): SuiteResult {
  let value = input;
  if (typeof input === "string") {
    if (input.length > RESULT_LIMITS.jsonLength) {
      throw new InvalidResultError(source, [
        `${input.length} characters of JSON, more than ${RESULT_LIMITS.jsonLength.toLocaleString("en-US")}`,
      ]);
    }
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new InvalidResultError(source, [`not JSON: ${(err as Error).message}`]);
    }
  }
  const parsed = suiteResultSchema.safeParse(value);
  if (!parsed.success) throw new InvalidResultError(source, formatZodIssues(parsed.error));
  return parsed.data;
}

/** The job a result answers, as far as the result can contradict it. */
export interface ResultExpectation {
  suite: string;
  sha: string;
}

/**
 * Why `result` cannot be the answer to a job for `expected`, or null: a result naming another
 * suite or commit (at the top or in its environment) is forged or misfiled, never re-labelled.
 */
export function resultMismatch(expected: ResultExpectation, result: SuiteResult): string | null {
  if (result.suite !== expected.suite) return `the result is for suite ${result.suite}, the job for ${expected.suite}`;
  if (result.commit !== expected.sha) return `the result is for commit ${result.commit}, the job for ${expected.sha}`;
  if (result.environment.commit !== expected.sha) {
    return `the result says it ran at commit ${result.environment.commit}, the job is for ${expected.sha}`;
  }
  return null;
}

/** `resultMismatch` for a job's result and, for an A/B job, its baseline result. */
export function jobResultMismatch(
  job: ResultExpectation & { baselineSha?: string | undefined },
  result: SuiteResult,
  baselineResult?: SuiteResult,
): string | null {
  const mismatch = resultMismatch(job, result);
  if (mismatch) return mismatch;
  if (!job.baselineSha) return null;
  if (!baselineResult) return `the job is an A/B job with baseline ${job.baselineSha}, but there is no baseline result`;
  const baseline = resultMismatch({ suite: job.suite, sha: job.baselineSha }, baselineResult);
  return baseline ? `baseline: ${baseline}` : null;
}

/** The result as from `host`: the name jobs are routed by and host health judges, whatever the suite reported. */
export function withHost(result: SuiteResult, host: string): SuiteResult {
  return { ...result, environment: { ...result.environment, host } };
}
