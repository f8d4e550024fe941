import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * `count` commits on `branch` of the repository at `dir`, each on the one before and the first on
 * `from`, each writing one file (`change(i)`, i from 1), by one `git fast-import`: thousands in a
 * second. Their shas, oldest first.
 */
export function fastImportCommits(
  dir: string,
  branch: string,
  from: string,
  count: number,
  change: (i: number) => { message: string; path: string; content: string },
): string[] {
  const stream: string[] = [];
  for (let i = 1; i <= count; i++) {
    const { message, path, content } = change(i);
    stream.push(
      `commit refs/heads/${branch}`,
      `mark :${i}`,
      `committer Alice <alice@example.com> ${1_700_000_000 + i} +0000`,
      `data ${Buffer.byteLength(message)}`,
      message,
      i === 1 ? `from ${from}` : `from :${i - 1}`,
      `M 100644 inline ${path}`,
      `data ${Buffer.byteLength(content)}`,
      content,
    );
  }
  const marks = join(mkdtempSync(join(tmpdir(), "sheriff-marks-")), "marks");
  execFileSync("git", ["fast-import", "--quiet", `--export-marks=${marks}`], { cwd: dir, input: `${stream.join("\n")}\n` });
  const shas = new Map(
    readFileSync(marks, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string]),
  );
  rmSync(dirname(marks), { recursive: true, force: true });
  return Array.from({ length: count }, (_, i) => shas.get(`:${i + 1}`)!);
}

/** Who the tests' commits are by. */
export const ALICE = {
  GIT_AUTHOR_NAME: "Alice",
  GIT_AUTHOR_EMAIL: "alice@example.com",
  GIT_COMMITTER_NAME: "Alice",
  GIT_COMMITTER_EMAIL: "alice@example.com",
};

/** A real bare repository standing in for the GitHub remote, plus a working clone to commit from. */
export class TestRepo {
  readonly root = mkdtempSync(join(tmpdir(), "sheriff-repo-"));
  readonly bare = join(this.root, "remote.git");
  readonly work = join(this.root, "work");

  constructor(readonly branch = "main") {
    this.git(this.root, "init", "--quiet", "--bare", "-b", branch, this.bare);
    this.git(this.root, "init", "--quiet", "-b", branch, this.work);
    this.git(this.work, "remote", "add", "origin", this.bare);
  }

  git(cwd: string, ...args: string[]): string {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      env: { ...process.env, ...ALICE },
    }).trim();
  }

  commit(message: string, files: Record<string, string>): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    this.git(this.work, "add", "-A");
    this.git(this.work, "commit", "--quiet", "-m", message);
    return this.git(this.work, "rev-parse", "HEAD");
  }

  push(): void {
    this.git(this.work, "push", "--quiet", "origin", `HEAD:refs/heads/${this.branch}`);
  }

  head(): string {
    return this.git(this.work, "rev-parse", "HEAD");
  }

  /** The tree `git revert` gives for `culprit` on top of the remote branch, computed independently. */
  expectedRevertTree(culprit: string): string {
    const scratch = join(this.root, `check-${culprit.slice(0, 7)}`);
    this.git(this.root, "clone", "--quiet", "-b", this.branch, this.bare, scratch);
    this.git(scratch, "revert", "--no-edit", culprit);
    return this.git(scratch, "rev-parse", "HEAD^{tree}");
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
