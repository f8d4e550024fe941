import type { z } from "zod";

/** One line per problem, `path.to.key: what is wrong`, for errors people read. */
export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`);
}
