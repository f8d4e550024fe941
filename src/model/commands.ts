import { z } from "zod";

/**
 * The typed commands people give Sheriff in PR comments (issue 6). `grammar.ts` turns
 * comment text into these; nothing else constructs them from untrusted input.
 */

/** Suite names follow the config's rule (`src/config/schema.ts`). */
export const suiteNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "a suite name is lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");

/** A commit as people type it: 7 to 40 hex digits (normalised to lowercase). */
export const shortShaSchema = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{7,40}$/, "a commit is 7 to 40 hex digits"));

export const reasonSchema = z.string().trim().min(1, "the reason must not be empty").max(1000, "the reason is longer than 1000 characters");

export const categorySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, "a category is a lowercase word (letters, digits, '_' or '-'), e.g. perf or correctness");

export const MERGE_METHODS = ["squash", "merge", "rebase"] as const;
export const mergeMethodSchema = z.enum(MERGE_METHODS);
export type MergeMethod = z.infer<typeof mergeMethodSchema>;
/**
 * `land` squashes unless told otherwise: one commit per PR on the watched branch is what
 * Sheriff's own post-land jobs, bisection and revert PRs work best with.
 */
export const DEFAULT_MERGE_METHOD: MergeMethod = "squash";

export const commandSchema = z.discriminatedUnion("name", [
  z.object({ name: z.literal("revert"), reason: reasonSchema, category: categorySchema.optional() }).strict(),
  z.object({ name: z.literal("land"), method: mergeMethodSchema.default(DEFAULT_MERGE_METHOD) }).strict(),
  z.object({ name: z.literal("rerun"), suites: z.array(suiteNameSchema) }).strict(),
  // good != bad is checked by the parser (a refinement cannot sit inside a discriminated union).
  z.object({ name: z.literal("bisect"), good: shortShaSchema, bad: shortShaSchema, suite: suiteNameSchema.optional() }).strict(),
  z.object({ name: z.literal("rebaseline"), suite: suiteNameSchema, reason: reasonSchema }).strict(),
  z.object({ name: z.literal("explain") }).strict(),
  z.object({ name: z.literal("cancel") }).strict(),
  z.object({ name: z.literal("help") }).strict(),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandName = Command["name"];
export type CommandOf<N extends CommandName> = Extract<Command, { name: N }>;

export const COMMAND_NAMES = [
  "revert",
  "land",
  "rerun",
  "bisect",
  "rebaseline",
  "explain",
  "cancel",
  "help",
] as const satisfies readonly CommandName[];

export interface CommandSyntaxError {
  /** 1-based line of the comment the command was on. */
  line: number;
  /** The command line as written (trimmed). */
  text: string;
  /** What was wrong, in words a person can act on. */
  message: string;
}

export interface ParsedComment {
  commands: Command[];
  errors: CommandSyntaxError[];
}

/** The logging Sheriff's command and land code needs; a pino (or Probot) logger fits. */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
