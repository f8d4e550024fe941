import { z } from "zod";
import { compileGlobWithinLimits, GlobError, GLOB_LIMITS } from "./glob.js";

/** Built-in kernel suites the native runner knows. */
export const BUILTIN_SUITES = ["varlen-attention", "index-reduce", "half-precision", "cuda-events"] as const;

const thresholdsSchema = z
  .object({
    /** Relative slowdown (0.05 = 5%) a benchmark must exceed before it can count as a regression. */
    slowdown: z.number().positive().max(10).default(0.05),
    /** Largest p-value at which a slowdown counts as statistically clear. */
    pValue: z.number().positive().max(0.5).default(0.01),
    /** How many times a newly failing test is retried at the commit and at the last good one (at least once). */
    retries: z.number().int().min(1).max(10).default(1),
    /**
     * For a test already seen flaking at rate f: it must fail n runs in a row at the suspect with
     * f^n <= flakeRisk, the chance per run of the suite that its flakiness alone gets that far.
     */
    flakeRisk: z.number().positive().max(0.1).default(0.00001),
  })
  .strict();

/** How suites are named, in the config and in commands that name one. */
export const suiteNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "a suite name is lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");

const suiteBaseSchema = z.object({
  name: suiteNameSchema,
  /** Globs (the syntax of glob.ts) of files whose change makes this suite run; checked against GLOB_LIMITS below. */
  paths: z.array(z.string().min(1)).min(1).max(GLOB_LIMITS.patternsPerSuite, `a suite has at most ${GLOB_LIMITS.patternsPerSuite} globs`),
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(6 * 3600)
    .default(1800),
  thresholds: thresholdsSchema.default({}),
});

const builtinSuiteSchema = suiteBaseSchema.extend({ kind: z.literal("builtin"), builtin: z.enum(BUILTIN_SUITES) }).strict();

const commandSuiteSchema = suiteBaseSchema
  .extend({
    kind: z.literal("command"),
    /** Run with `sh -c` in a checkout of the commit; it may write a result JSON to $SHERIFF_RESULT. */
    command: z.string().min(1),
  })
  .strict();

export const suiteConfigSchema = z.discriminatedUnion("kind", [builtinSuiteSchema, commandSuiteSchema]);
export type SuiteConfig = z.infer<typeof suiteConfigSchema>;

export const autoRevertModeSchema = z.enum(["on", "off", "shadow"]);
export type AutoRevertMode = z.infer<typeof autoRevertModeSchema>;

export const sheriffConfigSchema = z
  .object({
    /** Branches whose landed commits are watched; empty means the repository's default branch. */
    branches: z.array(z.string().min(1)).default([]),
    /** How GPU jobs run: pulled from the queue by `sheriff worker`, or dispatched to a GitHub Actions workflow. */
    runner: z
      .object({
        mode: z.enum(["queue", "actions"]).default("queue"),
        workflow: z.string().default("post-land-gpu.yml"),
      })
      .strict()
      .default({}),
    policy: z
      .object({
        autoRevert: autoRevertModeSchema.default("shadow"),
        maxAutoRevertsPerDay: z.number().int().min(0).max(100).default(3),
        /** A culprit that landed longer ago than this is reported, never reverted automatically (later work may build on it). */
        maxCulpritAgeHours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(24),
        /** A PR carrying this label is reported, never reverted automatically. */
        optOutLabel: z.string().trim().min(1).max(50).default("sheriff-no-revert"),
      })
      .strict()
      .default({}),
    suites: z.array(suiteConfigSchema).min(1),
    dashboard: z
      .object({
        /** A public repository's dashboard pages are open to anyone; otherwise (and always for a private one) only to people who can read it. */
        public: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.suites.forEach((suite, index) => {
      if (seen.has(suite.name)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["suites", index, "name"], message: `duplicate suite name "${suite.name}"` });
      }
      seen.add(suite.name);
    });
    checkGlobs(config.suites, ctx);
  });

/** Shown in an error, so a pathological pattern does not flood the check run. */
function clip(pattern: string): string {
  return pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern;
}

/** Every glob must compile within GLOB_LIMITS, so matching a commit's files is bounded work. */
function checkGlobs(suites: { name: string; paths: string[] }[], ctx: z.RefinementCtx): void {
  let total = 0;
  suites.forEach((suite, index) => {
    // Already reported by the schema; compiling them all would be the unbounded work this prevents.
    if (suite.paths.length > GLOB_LIMITS.patternsPerSuite) return;
    let count = 0;
    suite.paths.forEach((pattern, at) => {
      try {
        count += compileGlobWithinLimits(pattern).length;
      } catch (err) {
        if (!(err instanceof GlobError)) throw err;
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["suites", index, "paths", at],
          message: `suite "${suite.name}": glob "${clip(pattern)}" is not allowed: ${err.message}`,
        });
      }
    });
    if (count > GLOB_LIMITS.patternsPerSuite) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["suites", index, "paths"],
        message: `suite "${suite.name}" has ${count} globs after {…} expansion (at most ${GLOB_LIMITS.patternsPerSuite})`,
      });
    }
    total += count;
  });
  if (total > GLOB_LIMITS.patternsPerConfig) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["suites"],
      message: `the suites have ${total} globs in all after {…} expansion (at most ${GLOB_LIMITS.patternsPerConfig})`,
    });
  }
}

export type SheriffConfig = z.infer<typeof sheriffConfigSchema>;
export const CONFIG_PATH = ".github/sheriff.yml";
