import { z } from "zod";
import { shaSchema } from "./sha.js";

/** What Sheriff reads of GitHub's commit objects (compare and single-commit endpoints). */
export const apiCommitSchema = z.object({
  sha: shaSchema,
  commit: z.object({
    message: z.string(),
    author: z.object({ name: z.string(), email: z.string() }).nullable(),
  }),
  parents: z.array(z.object({ sha: shaSchema })),
});
export type ApiCommit = z.infer<typeof apiCommitSchema>;

/** A changed file; a rename names the old path too. */
export const apiFileSchema = z.object({
  filename: z.string(),
  previous_filename: z.string().optional(),
});
export type ApiFile = z.infer<typeof apiFileSchema>;

/** `GET /repos/{owner}/{repo}/compare/{base}...{head}`. */
export const apiComparisonSchema = z.object({
  status: z.enum(["diverged", "ahead", "behind", "identical"]),
  total_commits: z.number().int(),
  merge_base_commit: z.object({ sha: shaSchema }).nullable(),
  commits: z.array(apiCommitSchema),
  files: z.array(apiFileSchema).optional(),
});

/** `GET /repos/{owner}/{repo}/commits/{ref}`. */
export const apiCommitWithFilesSchema = apiCommitSchema.extend({ files: z.array(apiFileSchema).optional() });
