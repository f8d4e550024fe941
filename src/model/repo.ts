import { z } from "zod";

/** The repository and branch a flow works on, and how to reach it. */
export const repoRefSchema = z.object({
  owner: z.string().min(1),
  repo: z.string().min(1),
  installationId: z.number().int(),
  cloneUrl: z.string().min(1),
  branch: z.string().min(1),
});
export type RepoRef = z.infer<typeof repoRefSchema>;

/** `owner/repo`: how history, caches and logs name a repository. */
export function repoKey(ref: Pick<RepoRef, "owner" | "repo">): string {
  return `${ref.owner}/${ref.repo}`;
}
