import { z } from "zod";
import { shaSchema } from "./sha.js";
import { formatZodIssues } from "./zod.js";

/**
 * The one result format every GPU job produces, whatever ran it: the queue worker,
 * a GitHub Actions runner, a shell-command suite or a built-in kernel suite.
 * Producers write it, `parseSuiteResult` is the only way in.
 */
export const RESULT_SCHEMA_VERSION = "sheriff.result/v1";

export const testOutcomeSchema = z.enum(["pass", "fail", "error", "skip"]);
export type TestOutcome = z.infer<typeof testOutcomeSchema>;

export const testResultSchema = z.object({
  name: z.string().min(1),
  outcome: testOutcomeSchema,
  message: z.string().optional(),
  maxError: z.number().optional(),
  tolerance: z.number().optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type TestResult = z.infer<typeof testResultSchema>;

const samplesSchema = z.array(z.number().finite().nonnegative()).min(1);

export const benchmarkResultSchema = z.object({
  name: z.string().min(1),
  unit: z.literal("us"),
  /** Raw per-repetition timings (CUDA events or wall clock), never pre-aggregated by a runner. */
  samples: samplesSchema,
  /** A reference implementation timed in the same run, so ratios survive machine changes. */
  reference: z.object({ name: z.string().min(1), samples: samplesSchema, sampleCount: z.number().int().positive().optional() }).optional(),
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
    host: z.string().optional(),
    /** What executed the suite: `command`, `cuda`, `cpu-host`, `cherry-pick`, or a simulated GPU. */
    executor: z.string().optional(),
    gpu: z.string().optional(),
    gpuIndex: z.number().int().nonnegative().optional(),
    driver: z.string().optional(),
    cuda: z.string().optional(),
  }),
);

export const suiteResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA_VERSION),
  suite: z.string().min(1),
  commit: shaSchema,
  status: runStatusSchema,
  startedAt: z.string().datetime(),
  finishedAt: z.string().datetime(),
  tests: z.array(testResultSchema),
  benchmarks: z.array(benchmarkResultSchema),
  environment: environmentSchema,
  /** Tail of the job's output, for the evidence in a revert PR. */
  log: z
    .string()
    .max(64 * 1024)
    .optional(),
});
export type SuiteResult = z.infer<typeof suiteResultSchema>;

export class InvalidResultError extends Error {
  constructor(source: string, issues: string[]) {
    super(`invalid GPU job result from ${source}:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "InvalidResultError";
  }
}

/** Validates an untrusted result (parsed JSON or a JSON string); `source` names where it came from for the error. */
export function parseSuiteResult(input: unknown, source: string): SuiteResult {
  let value = input;
  if (typeof input === "string") {
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
