import { z } from "zod";

const userSchema = z.object({ login: z.string().min(1), type: z.string().default("User") }).passthrough();

/**
 * The part of an `issue_comment` webhook payload Sheriff reads. Everything else is allowed
 * through untouched (GitHub adds fields over time).
 */
export const issueCommentPayloadSchema = z
  .object({
    action: z.string(),
    comment: z
      .object({
        id: z.number().int().positive(),
        body: z
          .string()
          .nullable()
          .transform((b) => b ?? ""),
        html_url: z.string().optional(),
        user: userSchema,
      })
      .passthrough(),
    issue: z
      .object({
        number: z.number().int().positive(),
        title: z.string().optional(),
        body: z.string().nullable().optional(),
        /** Present (an object) only when the issue is a pull request. */
        pull_request: z.object({ url: z.string().optional() }).passthrough().nullable().optional(),
        user: z.object({ login: z.string() }).passthrough(),
      })
      .passthrough(),
    repository: z
      .object({
        name: z.string().min(1),
        owner: z.object({ login: z.string().min(1) }).passthrough(),
        default_branch: z.string().min(1),
      })
      .passthrough(),
    installation: z.object({ id: z.number().int().positive() }).passthrough(),
    sender: userSchema,
  })
  .passthrough();

export type IssueCommentPayload = z.infer<typeof issueCommentPayloadSchema>;
