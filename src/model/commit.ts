/** A commit as git tells it: what the planner and the culprit search read. */
export interface CommitInfo {
  sha: string;
  parents: string[];
  title: string;
  message: string;
  authorName: string;
  authorEmail: string;
  files: string[];
}
