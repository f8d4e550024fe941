import { z } from "zod";
import { suiteNameSchema } from "./config.js";

/**
 * The typed commands people give Sheriff in PR comments. `grammar.ts` turns
 * comment text into these; nothing else constructs them from untrusted input.
 */

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
  z.object({ name: z.literal("pause"), reason: reasonSchema }).strict(),
  z.object({ name: z.literal("resume") }).strict(),
  z.object({ name: z.literal("explain") }).strict(),
  z.object({ name: z.literal("cancel") }).strict(),
  z.object({ name: z.literal("help") }).strict(),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandName = Command["name"];
export type CommandOf<N extends CommandName> = Extract<Command, { name: N }>;

/** Every command name, in the order of the schema (the help table follows it). */
export const COMMAND_NAMES: readonly CommandName[] = commandSchema.options.map((option) => option.shape.name.value);

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
