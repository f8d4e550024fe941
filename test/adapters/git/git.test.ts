import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitError, RepoCache, commitInfo, commitInfos, git, hasCommit, isAncestor, landedCommits } from "../../../src/adapters/git/git.js";
import { fastImportCommits, TestRepo } from "../../helpers/gitRepo.js";

let repo: TestRepo;
let workDir: string;
let cache: RepoCache;

beforeEach(() => {
  repo = new TestRepo();
  workDir = mkdtempSync(join(tmpdir(), "sheriff-adapters-git-"));
  cache = new RepoCache(workDir);
});

afterEach(() => {
  repo.remove();
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * main: A - B - M - C, where M merges feature (F1 - F2) with --no-ff, the way a merge button lands a PR.
 */
function mergeHistory() {
  const a = repo.commit("A: kernels skeleton", { "kernels/attn.cu": "v1\n", "README.md": "flash\n" });
  const b = repo.commit("B: tune block size", { "kernels/attn.cu": "v2\n" });
  repo.git(repo.work, "checkout", "--quiet", "-b", "feature");
  const f1 = repo.commit("F1: index reduce", { "kernels/reduce.cu": "r1\n" });
  const f2 = repo.commit("F2: index reduce tests", { "tests/reduce_test.py": "t\n" });
  repo.git(repo.work, "checkout", "--quiet", "main");
  repo.commit("B2: docs", { "docs/attn.md": "notes\n" });
  const b2 = repo.head();
  repo.git(repo.work, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #12 from alice/feature\n\nIndex reduce", "feature");
  const m = repo.head();
  const c = repo.commit("C: fix d64", { "kernels/attn.cu": "v3\n" });
  repo.push();
  repo.git(repo.work, "push", "--quiet", "origin", "feature");
  return { a, b, b2, f1, f2, m, c };
}

/** `n` commits on main after its head, one file each. */
function linearCommits(n: number): string[] {
  return fastImportCommits(repo.work, "main", repo.head(), n, (i) => ({
    message: `change ${i}`,
    path: `k/${i % 7}.cu`,
    content: `${i}\n`,
  }));
}

describe("git", () => {
  it("returns stdout and commits as sheriff[bot]", async () => {
    const base = repo.commit("A", { "a.txt": "a\n" });
    expect((await git(["rev-parse", "HEAD"], { cwd: repo.work })).trim()).toBe(base);
    await git(["commit", "--quiet", "--allow-empty", "-m", "by the bot"], { cwd: repo.work });
    expect(repo.git(repo.work, "log", "-1", "--format=%an <%ae> / %cn <%ce>")).toBe(
      "sheriff[bot] <sheriff[bot]@users.noreply.github.com> / sheriff[bot] <sheriff[bot]@users.noreply.github.com>",
    );
  });

  it("lets the caller's environment override the identity", async () => {
    repo.commit("A", { "a.txt": "a\n" });
    await git(["commit", "--quiet", "--allow-empty", "-m", "x"], { cwd: repo.work, env: { GIT_AUTHOR_NAME: "Bob" } });
    expect(repo.git(repo.work, "log", "-1", "--format=%an / %cn")).toBe("Bob / sheriff[bot]");
  });

  it("sends an installation token as GitHub's Basic header for apps", async () => {
    const header = await git(["config", "--get", "http.extraHeader"], { cwd: repo.work, auth: { token: "ghs_abc123" } });
    expect(header.trim()).toBe(`Authorization: Basic ${Buffer.from("x-access-token:ghs_abc123").toString("base64")}`);
  });

  it("keeps the token off git's command line, which every user of the host can read", async () => {
    const cmdline = await git(["-c", "alias.cmdline=!tr '\\0' ' ' < /proc/$PPID/cmdline", "cmdline"], {
      cwd: repo.work,
      auth: { token: "ghs_abc123" },
    });
    expect(cmdline).toContain("cmdline");
    expect(cmdline).not.toMatch(/extraHeader|Authorization|eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYzEyMw/);
  });

  it("throws a GitError with the exit code and stderr, and without the token", async () => {
    const error = await git(["rev-parse", "--verify", "refs/heads/nope"], { cwd: repo.work, auth: { token: "ghs_secret" } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    const gitError = error as GitError;
    expect(gitError.name).toBe("GitError");
    expect(gitError.exitCode).toBe(128);
    expect(gitError.args).toEqual(["rev-parse", "--verify", "refs/heads/nope"]);
    expect(gitError.stderr).toContain("fatal: Needed a single revision");
    expect(gitError.message).toBe("git rev-parse --verify refs/heads/nope failed (exit 128): fatal: Needed a single revision");
    expect(JSON.stringify({ ...gitError, message: gitError.message })).not.toMatch(/ghs_secret|eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA/);
  });

  it("carries stdout too: some failures are told there only", async () => {
    const script = "echo nothing to commit; echo hint >&2; exit 1";
    const error = (await git(["-c", `alias.quiet=!${script}`, "quiet"], { cwd: repo.work }).catch((e: unknown) => e)) as GitError;
    expect(error.stdout).toBe("nothing to commit\n");
    expect(error.message).toBe("git -c alias.quiet=!" + script + " quiet failed (exit 1): nothing to commit | hint");
  });

  it("feeds its input to git's stdin", async () => {
    const sha = await git(["hash-object", "--stdin"], { cwd: repo.work, input: "kernel\n" });
    expect(sha.trim()).toBe(createHash("sha1").update("blob 7\0kernel\n").digest("hex"));
  });

  it("keeps the last five lines of stderr in the message", async () => {
    const script = "for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 3";
    const error = (await git(["-c", `alias.noisy=!${script}`, "noisy"], { cwd: repo.work }).catch((e: unknown) => e)) as GitError;
    expect(error.exitCode).toBe(3);
    expect(error.stderr.trim().split("\n")).toHaveLength(7);
    expect(error.message).toMatch(/\(exit 3\): line3 \| line4 \| line5 \| line6 \| line7$/);
  });
});

describe("landedCommits", () => {
  it("lists first-parent commits in (before, after], oldest first, leaving out the merged branch's own commits", async () => {
    const { a, b, b2, m, c } = mergeHistory();
    expect(await landedCommits(repo.work, a, c)).toEqual([b, b2, m, c]);
    expect(await landedCommits(repo.work, b2, m)).toEqual([m]);
    expect(await landedCommits(repo.work, c, c)).toEqual([]);
  });

  it("lists every commit of a long range, and describes each with its own files", async () => {
    const base = repo.commit("base", { "k/0.cu": "0\n" });
    const shas = linearCommits(1_200);
    const listed = await landedCommits(repo.work, base, shas.at(-1)!);
    expect(listed).toEqual(shas);
    const infos = await commitInfos(repo.work, listed);
    expect(infos.map((i) => i.sha)).toEqual(shas);
    expect(infos.map((i) => i.files)).toEqual(shas.map((_, i) => [`k/${(i + 1) % 7}.cu`]));
    expect(infos[999]!.title).toBe("change 1000");
    expect(infos[999]!.parents).toEqual([shas[998]]);
  });

  it("takes only the pushed head when there is no earlier commit to count from", async () => {
    const { c } = mergeHistory();
    expect(await landedCommits(repo.work, null, c)).toEqual([c]);
  });
});

describe("commitInfo", () => {
  it("reads sha, parents, title, message, author and changed files", async () => {
    const { a, b } = mergeHistory();
    repo.git(repo.work, "checkout", "--quiet", b);
    repo.git(repo.work, "rm", "--quiet", "README.md");
    const sha = repo.commit("D: drop readme, add test\n\nThe README moved to docs/.\nCo-authored-by: Bob <bob@example.com>", {
      "tests/attn_test.py": "t\n",
      "kernels/attn.cu": "v2b\n",
    });
    expect(await commitInfo(repo.work, sha)).toEqual({
      sha,
      parents: [b],
      title: "D: drop readme, add test",
      message: "D: drop readme, add test\n\nThe README moved to docs/.\nCo-authored-by: Bob <bob@example.com>",
      authorName: "Alice",
      authorEmail: "alice@example.com",
      files: ["README.md", "kernels/attn.cu", "tests/attn_test.py"],
    });
    // The root commit's files are everything it added.
    expect((await commitInfo(repo.work, a)).files).toEqual(["README.md", "kernels/attn.cu"]);
    expect((await commitInfo(repo.work, a)).parents).toEqual([]);
  });

  it("gives a merge commit's files against its first parent: what the merge brought to the branch", async () => {
    const { b2, f2, m } = mergeHistory();
    const info = await commitInfo(repo.work, m);
    expect(info.parents).toEqual([b2, f2]);
    expect(info.title).toBe("Merge pull request #12 from alice/feature");
    // Not docs/attn.md, which B2 changed on the branch before the merge.
    expect(info.files.sort()).toEqual(["kernels/reduce.cu", "tests/reduce_test.py"]);
  });

  it("expands an abbreviated sha", async () => {
    const { c } = mergeHistory();
    expect((await commitInfo(repo.work, c.slice(0, 10))).sha).toBe(c);
  });
});

describe("isAncestor and hasCommit", () => {
  it("tells ancestry along any parent", async () => {
    const { a, f1, m, c } = mergeHistory();
    expect(await isAncestor(repo.work, a, c)).toBe(true);
    expect(await isAncestor(repo.work, f1, m)).toBe(true);
    expect(await isAncestor(repo.work, c, a)).toBe(false);
    expect(await isAncestor(repo.work, c, c)).toBe(true);
    expect(await isAncestor(repo.work, "0123456789abcdef0123456789abcdef01234567", c)).toBe(false);
  });

  it("knows which commits are present", async () => {
    const { c } = mergeHistory();
    expect(await hasCommit(repo.work, c)).toBe(true);
    expect(await hasCommit(repo.work, "0123456789abcdef0123456789abcdef01234567")).toBe(false);
    const blob = repo.git(repo.work, "rev-parse", `${c}:kernels/attn.cu`);
    expect(await hasCommit(repo.work, blob)).toBe(false);
  });
});

describe("RepoCache", () => {
  it("mirrors the remote's branches into a bare repository under the work dir", async () => {
    const { c } = mergeHistory();
    const mirror = await cache.sync("gpu-team", "flash-kernels", repo.bare);
    expect(mirror).toBe(join(workDir, "repos", "gpu-team", "flash-kernels.git"));
    expect(cache.mirrorPath("gpu-team", "flash-kernels")).toBe(mirror);
    expect((await git(["rev-parse", "--is-bare-repository"], { cwd: mirror })).trim()).toBe("true");
    expect((await git(["rev-parse", "refs/remotes/origin/main"], { cwd: mirror })).trim()).toBe(c);
    expect((await git(["rev-parse", "refs/remotes/origin/feature"], { cwd: mirror })).trim()).toBe(
      repo.git(repo.work, "rev-parse", "feature"),
    );
  });

  it("lets several processes sharing a work dir create and fetch one mirror at once", async () => {
    const { c } = mergeHistory();
    // Separate caches stand for separate processes: nothing in memory orders them.
    const caches = Array.from({ length: 6 }, () => new RepoCache(workDir));
    const mirrors = await Promise.all(caches.map((other) => other.syncBranch("gpu-team", "flash-kernels", repo.bare, "main")));
    expect(new Set(mirrors).size).toBe(1);
    expect((await git(["rev-parse", "refs/remotes/origin/main"], { cwd: mirrors[0]! })).trim()).toBe(c);
    expect(existsSync(`${mirrors[0]!}.lock`)).toBe(false);
  });

  it("fetches new commits, prunes deleted branches and follows a changed clone URL", async () => {
    repo.commit("A", { "a.txt": "a\n" });
    repo.push();
    repo.git(repo.work, "push", "--quiet", "origin", "HEAD:refs/heads/old");
    const mirror = await cache.sync("gpu-team", "flash-kernels", repo.bare);
    const b = repo.commit("B", { "b.txt": "b\n" });
    repo.push();
    repo.git(repo.work, "push", "--quiet", "origin", "--delete", "old");
    await cache.sync("gpu-team", "flash-kernels", repo.bare);
    expect((await git(["rev-parse", "refs/remotes/origin/main"], { cwd: mirror })).trim()).toBe(b);
    expect((await git(["for-each-ref", "--format=%(refname)"], { cwd: mirror })).trim()).toBe("refs/remotes/origin/main");

    const moved = join(repo.root, "moved.git");
    repo.git(repo.root, "clone", "--quiet", "--bare", repo.bare, moved);
    await cache.sync("gpu-team", "flash-kernels", moved);
    expect((await git(["remote", "get-url", "origin"], { cwd: mirror })).trim()).toBe(moved);
  });

  it("serialises concurrent work on one mirror", async () => {
    const { c } = mergeHistory();
    const dirs = await Promise.all([
      cache.sync("gpu-team", "flash-kernels", repo.bare),
      cache.sync("gpu-team", "flash-kernels", repo.bare),
      cache.ensureCommit("gpu-team", "flash-kernels", repo.bare, c),
    ]);
    expect(new Set(dirs).size).toBe(1);
    const worktrees = await Promise.all([1, 2, 3].map(() => cache.addWorktree(dirs[0]!, c, "job")));
    expect(new Set(worktrees).size).toBe(3);
    for (const dir of worktrees) expect(repo.git(dir, "rev-parse", "HEAD")).toBe(c);
  });

  it("fetches a commit no branch reaches any more (force-pushed away)", async () => {
    const a = repo.commit("A", { "a.txt": "a\n" });
    const b = repo.commit("B", { "b.txt": "b\n" });
    repo.push();
    repo.git(repo.work, "reset", "--quiet", "--hard", a);
    const c = repo.commit("C", { "c.txt": "c\n" });
    repo.git(repo.work, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/main");
    const mirror = await cache.ensureCommit("gpu-team", "flash-kernels", repo.bare, b);
    expect(await hasCommit(mirror, b)).toBe(true);
    expect(await hasCommit(mirror, c)).toBe(true);
    expect(await isAncestor(mirror, b, "refs/remotes/origin/main")).toBe(false);
  });

  it("fails with a GitError for a commit the remote does not have", async () => {
    repo.commit("A", { "a.txt": "a\n" });
    repo.push();
    await expect(
      cache.ensureCommit("gpu-team", "flash-kernels", repo.bare, "0123456789abcdef0123456789abcdef01234567"),
    ).rejects.toBeInstanceOf(GitError);
  });

  it("checks out a detached worktree at a commit and removes it again", async () => {
    const { b, c } = mergeHistory();
    const mirror = await cache.sync("gpu-team", "flash-kernels", repo.bare);
    const first = await cache.addWorktree(mirror, b, "varlen-attention-abc");
    const second = await cache.addWorktree(mirror, c, "varlen-attention-abc");
    expect(first).toBe(join(workDir, "worktrees", "varlen-attention-abc-1"));
    expect(second).toBe(join(workDir, "worktrees", "varlen-attention-abc-2"));
    expect(readFileSync(join(first, "kernels/attn.cu"), "utf8")).toBe("v2\n");
    expect(readFileSync(join(second, "kernels/attn.cu"), "utf8")).toBe("v3\n");
    expect(repo.git(first, "rev-parse", "HEAD")).toBe(b);
    // Detached: no branch is checked out, so several worktrees may sit at one commit.
    expect(() => repo.git(first, "symbolic-ref", "-q", "HEAD")).toThrow();

    await cache.removeWorktree(mirror, first);
    expect(existsSync(first)).toBe(false);
    const list = await git(["worktree", "list", "--porcelain"], { cwd: mirror });
    expect(list).not.toContain(first);
    expect(list).toContain(second);
  });
});
