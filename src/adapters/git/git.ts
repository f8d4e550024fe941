import { execFile } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { CommitInfo } from "../../model/commit.js";

const execFileAsync = promisify(execFile);

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    /** Some failures are told on stdout only (`git revert` of a change already undone: "nothing to commit"). */
    readonly stdout = "",
  ) {
    const output = `${stdout.trim()}\n${stderr.trim()}`.trim();
    super(`git ${args.join(" ")} failed (exit ${exitCode}): ${output.split("\n").slice(-5).join(" | ")}`);
    this.name = "GitError";
  }
}

/** Credentials for HTTPS remotes: an installation token is sent as GitHub expects for apps. */
export interface GitAuth {
  token: string;
}

export interface GitRunOptions {
  cwd: string;
  auth?: GitAuth;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

const IDENTITY_ENV = {
  GIT_AUTHOR_NAME: "sheriff[bot]",
  GIT_AUTHOR_EMAIL: "sheriff[bot]@users.noreply.github.com",
  GIT_COMMITTER_NAME: "sheriff[bot]",
  GIT_COMMITTER_EMAIL: "sheriff[bot]@users.noreply.github.com",
};

export async function git(args: string[], options: GitRunOptions): Promise<string> {
  const authArgs = options.auth
    ? ["-c", `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${options.auth.token}`).toString("base64")}`]
    : [];
  const fullArgs = [...authArgs, ...args];
  const child = execFileAsync("git", fullArgs, {
    cwd: options.cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...IDENTITY_ENV, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (options.input !== undefined) {
    // A git that exits before reading all of it fails by its exit status, not by the broken pipe.
    child.child.stdin?.on("error", () => undefined);
    child.child.stdin?.end(options.input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | null };
    throw new GitError(args, e.stderr ?? String(err), typeof e.code === "number" ? e.code : null, e.stdout ?? "");
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const ALL_BRANCHES = "+refs/heads/*:refs/remotes/origin/*";

export function branchRefspec(branch: string): string {
  return `+refs/heads/${branch}:refs/remotes/origin/${branch}`;
}

/**
 * One bare mirror per repository under the work dir, fetched on demand; checkouts
 * are worktrees of it, so a commit's objects are downloaded once per host.
 */
export class RepoCache {
  /** Git operations on one mirror run one at a time: jobs on several GPUs of a host share it. */
  private readonly serials = new Map<string, Promise<unknown>>();
  private worktrees = 0;

  constructor(readonly workDir: string) {}

  mirrorPath(owner: string, repo: string): string {
    return join(this.workDir, "repos", owner, `${repo}.git`);
  }

  private serial<T>(mirror: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.serials.get(mirror) ?? Promise.resolve()).then(fn, fn);
    this.serials.set(
      mirror,
      next.catch(() => undefined),
    );
    return next;
  }

  private async fetchMirror(dir: string, cloneUrl: string, refspec: string, auth?: GitAuth): Promise<void> {
    if (!(await exists(join(dir, "HEAD")))) {
      await mkdir(dir, { recursive: true });
      await git(["init", "--bare", "--quiet"], { cwd: dir });
      await git(["remote", "add", "origin", cloneUrl], { cwd: dir });
    } else {
      await git(["remote", "set-url", "origin", cloneUrl], { cwd: dir });
    }
    await git(["fetch", "--quiet", "--prune", "origin", refspec], { cwd: dir, auth });
  }

  /** Fetches every branch into `refs/remotes/origin/*`. */
  async sync(owner: string, repo: string, cloneUrl: string, auth?: GitAuth): Promise<string> {
    const dir = this.mirrorPath(owner, repo);
    await this.serial(dir, () => this.fetchMirror(dir, cloneUrl, ALL_BRANCHES, auth));
    return dir;
  }

  /**
   * Fetches one branch only: a push needs its own branch, not every branch of a busy repository.
   * With `head`, nothing is fetched when that commit (and so its history) is already here, as for
   * all but the first of a burst of pushes.
   */
  async syncBranch(owner: string, repo: string, cloneUrl: string, branch: string, auth?: GitAuth, head?: string): Promise<string> {
    const dir = this.mirrorPath(owner, repo);
    await this.serial(dir, async () => {
      if (head && (await exists(join(dir, "HEAD"))) && (await hasCommit(dir, head))) return;
      await this.fetchMirror(dir, cloneUrl, branchRefspec(branch), auth);
    });
    return dir;
  }

  /** Makes sure `sha` is present, fetching it directly when no branch reaches it any more. */
  async ensureCommit(owner: string, repo: string, cloneUrl: string, sha: string, auth?: GitAuth): Promise<string> {
    const dir = this.mirrorPath(owner, repo);
    await this.serial(dir, async () => {
      if ((await exists(join(dir, "HEAD"))) && (await hasCommit(dir, sha))) return;
      await this.fetchMirror(dir, cloneUrl, ALL_BRANCHES, auth);
      if (!(await hasCommit(dir, sha))) await git(["fetch", "--quiet", "origin", sha], { cwd: dir, auth });
    });
    return dir;
  }

  /** A detached worktree at `sha` under a name no other job on this host uses; remove it with `removeWorktree`. */
  async addWorktree(mirror: string, sha: string, name: string): Promise<string> {
    const path = join(this.workDir, "worktrees", `${name}-${++this.worktrees}`);
    return this.serial(mirror, async () => {
      await rm(path, { recursive: true, force: true });
      await git(["worktree", "prune"], { cwd: mirror });
      await git(["worktree", "add", "--quiet", "--detach", "--force", path, sha], { cwd: mirror });
      return path;
    });
  }

  async removeWorktree(mirror: string, path: string): Promise<void> {
    await this.serial(mirror, () =>
      git(["worktree", "remove", "--force", path], { cwd: mirror }).catch(() => rm(path, { recursive: true, force: true })),
    );
  }
}

export async function hasCommit(dir: string, sha: string): Promise<boolean> {
  return git(["cat-file", "-e", `${sha}^{commit}`], { cwd: dir }).then(
    () => true,
    () => false,
  );
}

/** First-parent commits in (before, after], oldest first: the units that landed on the branch. */
export async function landedCommits(dir: string, before: string | null, after: string, limit = 500): Promise<string[]> {
  const range = before ? [`${before}..${after}`] : [after];
  const out = await git(["rev-list", "--first-parent", "--reverse", `--max-count=${limit}`, ...range], { cwd: dir });
  const shas = out.split("\n").filter(Boolean);
  return before ? shas : shas.slice(-1);
}

export async function commitInfo(dir: string, sha: string): Promise<CommitInfo> {
  const sep = "\u001f";
  const meta = await git(["show", "-s", `--format=%H${sep}%P${sep}%an${sep}%ae${sep}%B`, sha], { cwd: dir });
  const [full = sha, parents = "", authorName = "", authorEmail = "", ...rest] = meta.split(sep);
  const message = rest.join(sep).trim();
  const parentShas = parents.split(" ").filter(Boolean);
  // Against the first parent, so a merge commit's files are what the merge brought to the branch
  // (`-m` would list its diff against every parent).
  const range = parentShas[0] ? [parentShas[0], full.trim()] : ["--root", full.trim()];
  const files = await git(["diff-tree", "-r", "--no-commit-id", "--name-only", ...range], { cwd: dir });
  return {
    sha: full.trim(),
    parents: parentShas,
    title: message.split("\n")[0] ?? "",
    message,
    authorName,
    authorEmail,
    files: [...new Set(files.split("\n").filter(Boolean))],
  };
}

export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  return git(["merge-base", "--is-ancestor", ancestor, descendant], { cwd: dir }).then(
    () => true,
    () => false,
  );
}
