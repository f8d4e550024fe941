import { execFile } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { lock } from "proper-lockfile";
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

/**
 * The token as GitHub's Basic header for apps, given to git as configuration through its
 * environment: a command line is readable by every user of the host, a process's environment only
 * by its own user.
 */
function authEnv(token: string): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

export async function git(args: string[], options: GitRunOptions): Promise<string> {
  const child = execFileAsync("git", args, {
    cwd: options.cwd,
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: "0",
      ...IDENTITY_ENV,
      ...options.env,
      ...(options.auth ? authEnv(options.auth.token) : {}),
    },
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
  /**
   * Git operations on one mirror run one at a time: jobs on several GPUs of a host share it, and so
   * do several Sheriff processes given one work dir (a lock file beside the mirror orders those).
   */
  private readonly serials = new Map<string, Promise<unknown>>();
  private worktrees = 0;

  constructor(readonly workDir: string) {}

  mirrorPath(owner: string, repo: string): string {
    return join(this.workDir, "repos", owner, `${repo}.git`);
  }

  private serial<T>(mirror: string, fn: () => Promise<T>): Promise<T> {
    const locked = () => withMirrorLock(mirror, fn);
    const next = (this.serials.get(mirror) ?? Promise.resolve()).then(locked, locked);
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

/**
 * Holds `<mirror>.lock` while `fn` runs. The lock is refreshed while held and taken over once a
 * crashed holder left it unrefreshed for `stale`, so a killed process cannot block the mirror.
 */
async function withMirrorLock<T>(mirror: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(mirror), { recursive: true });
  const release = await lock(mirror, {
    realpath: false,
    lockfilePath: `${mirror}.lock`,
    stale: 30_000,
    retries: { retries: 100_000, minTimeout: 20, maxTimeout: 250, factor: 1.5 },
    // A lock lost to a long stall only loses the ordering; git's own ref locks still refuse a clash.
    onCompromised: () => undefined,
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

export async function hasCommit(dir: string, sha: string): Promise<boolean> {
  return git(["cat-file", "-e", `${sha}^{commit}`], { cwd: dir }).then(
    () => true,
    () => false,
  );
}

/**
 * The commit's change as `git patch-id --stable` sees it (against its first parent; whitespace,
 * line numbers and file order do not matter): two commits with one id make the same change.
 * Null for a commit that changes nothing.
 */
export async function patchId(dir: string, sha: string): Promise<string | null> {
  const diff = await git(["diff-tree", "-p", "--no-color", "--first-parent", "-m", "--root", sha], { cwd: dir });
  if (!diff.trim()) return null;
  const out = await git(["patch-id", "--stable"], { cwd: dir, input: diff });
  return out.split(" ")[0] || null;
}

/**
 * The first-parent commits of `before..after`, oldest first: every one of them, however many
 * (a push or a reconciliation can bring thousands). Without `before` only `after` itself.
 */
export async function landedCommits(dir: string, before: string | null, after: string): Promise<string[]> {
  const range = before ? [`${before}..${after}`] : ["--max-count=1", after];
  const out = await git(["rev-list", "--first-parent", "--reverse", ...range], { cwd: dir });
  return out.split("\n").filter(Boolean);
}

/** `count` first-parent ancestors of `head` (itself first), newest first, after skipping the newest `skip`. */
export async function firstParents(dir: string, head: string, skip: number, count: number): Promise<string[]> {
  const out = await git(["rev-list", "--first-parent", `--skip=${skip}`, `--max-count=${count}`, head], { cwd: dir });
  return out.split("\n").filter(Boolean);
}

const FIELD = "\u001f";
const RECORD = "\u001e";
/** Commits described per git process: bounds one process's output, not how many are described. */
const INFO_BATCH = 500;

/**
 * Each commit's parents, author, message and files, in the order given, a few git processes for
 * any number of commits. Files are taken against the first parent, so a merge commit's files are
 * what the merge brought to the branch, not its diff against every parent.
 */
export async function commitInfos(dir: string, shas: readonly string[]): Promise<CommitInfo[]> {
  const infos: CommitInfo[] = [];
  for (let i = 0; i < shas.length; i += INFO_BATCH) {
    const batch = shas.slice(i, i + INFO_BATCH);
    const out = await git(
      [
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--diff-merges=first-parent",
        // A rename is a deletion and an addition: a suite matching either path is touched.
        "--no-renames",
        "--name-only",
        `--format=${RECORD}%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%B${FIELD}`,
      ],
      { cwd: dir, input: `${batch.join("\n")}\n` },
    );
    const records = out.split(RECORD).slice(1);
    if (records.length !== batch.length) throw new Error(`git log described ${records.length} of ${batch.length} commits`);
    infos.push(...records.map(parseCommitRecord));
  }
  return infos;
}

function parseCommitRecord(record: string): CommitInfo {
  const [sha = "", parents = "", authorName = "", authorEmail = "", message = "", files = ""] = record.split(FIELD);
  const text = message.trim();
  return {
    sha: sha.trim(),
    parents: parents.split(" ").filter(Boolean),
    title: text.split("\n")[0] ?? "",
    message: text,
    authorName,
    authorEmail,
    files: [...new Set(files.split("\n").filter(Boolean))],
  };
}

export async function commitInfo(dir: string, sha: string): Promise<CommitInfo> {
  const [info] = await commitInfos(dir, [sha]);
  return info!;
}

export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  return git(["merge-base", "--is-ancestor", ancestor, descendant], { cwd: dir }).then(
    () => true,
    () => false,
  );
}
