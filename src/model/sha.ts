import { z } from "zod";

export const shaSchema = z.string().regex(/^[0-9a-f]{40}$/, "a full 40-character lowercase commit sha");

/** A commit as people read it in comments, PR titles and logs. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** A commit inside ids and names (job ids, worktrees, tables): long enough never to collide in a repository. */
export function shaTag(sha: string): string {
  return sha.slice(0, 12);
}
