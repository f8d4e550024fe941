import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitError, RepoCache } from "../../../src/adapters/git/git.js";
import { botIdentity, createRevertCommit } from "../../../src/adapters/git/revert.js";
import type { RepoRef } from "../../../src/model/repo.js";
import { TestRepo } from "../../helpers/gitRepo.js";

let repo: TestRepo;
let workDir: string;
let cache: RepoCache;
let ref: RepoRef;

beforeEach(() => {
  repo = new TestRepo();
  workDir = mkdtempSync(join(tmpdir(), "sheriff-adapters-revert-"));
  cache = new RepoCache(workDir);
  ref = { owner: "gpu-team", repo: "flash-kernels", installationId: 2311213, cloneUrl: repo.bare, branch: "main" };
});

afterEach(() => {
  repo.remove();
  rmSync(workDir, { recursive: true, force: true });
});

const remoteRef = (name: string): string | null => {
  try {
    return repo.git(repo.bare, "rev-parse", "--verify", "--quiet", `refs/heads/${name}`);
  } catch {
    return null;
  }
};
/** Worktrees left behind under the cache's work dir (none, once a revert is done). */
const leftoverWorktrees = () => {
  try {
    return readdirSync(join(workDir, "worktrees"));
  } catch {
    return [];
  }
};

describe("botIdentity", () => {
  it("is <slug>[bot] with the noreply address, id-prefixed when the bot user's id is known", () => {
    expect(botIdentity("sheriff-ci", 41898282)).toEqual({
      name: "sheriff-ci[bot]",
      email: "41898282+sheriff-ci[bot]@users.noreply.github.com",
    });
    expect(botIdentity("sheriff-ci")).toEqual({ name: "sheriff-ci[bot]", email: "sheriff-ci[bot]@users.noreply.github.com" });
  });
});

describe("createRevertCommit", () => {
  it("reverts the culprit on top of the branch head and pushes it to the revert branch", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n", "kernels/reduce.cu": "reduce v1\n" });
    const culprit = repo.commit("Faster attention: block=128", { "kernels/attn.cu": "block=128\n" });
    const head = repo.commit("Reduce: vectorise", { "kernels/reduce.cu": "reduce v2\n" });
    repo.push();

    const result = await createRevertCommit(cache, ref, culprit, "sheriff/revert-faster-attention");
    expect(result).toEqual({
      kind: "created",
      branch: "sheriff/revert-faster-attention",
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      head,
    });
    const sha = (result as { sha: string }).sha;
    expect(remoteRef("sheriff/revert-faster-attention")).toBe(sha);
    expect(remoteRef("main")).toBe(head);
    expect(repo.git(repo.bare, "rev-parse", `${sha}^{tree}`)).toBe(repo.expectedRevertTree(culprit));
    expect(repo.git(repo.bare, "rev-parse", `${sha}^`)).toBe(head);
    expect(repo.git(repo.bare, "show", `${sha}:kernels/attn.cu`)).toBe("block=64");
    expect(repo.git(repo.bare, "show", `${sha}:kernels/reduce.cu`)).toBe("reduce v2");
    expect(repo.git(repo.bare, "log", "-1", "--format=%an%n%s%n%b", sha)).toBe(
      `sheriff[bot]\nRevert "Faster attention: block=128"\nThis reverts commit ${culprit}.`,
    );
    expect(leftoverWorktrees()).toEqual([]);
  });

  it("reports the conflicting files and pushes nothing when later commits touched the same lines", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n", "README.md": "flash\n" });
    const culprit = repo.commit("Faster attention: block=128", { "kernels/attn.cu": "block=128\n" });
    const head = repo.commit("Even faster: block=256", { "kernels/attn.cu": "block=256\n" });
    repo.push();

    const result = await createRevertCommit(cache, ref, culprit, "sheriff/revert-faster-attention");
    expect(result).toEqual({ kind: "conflict", head, files: ["kernels/attn.cu"] });
    expect(remoteRef("sheriff/revert-faster-attention")).toBeNull();
    expect(leftoverWorktrees()).toEqual([]);
  });

  it("reverts a merge commit against its first parent", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n" });
    repo.git(repo.work, "checkout", "--quiet", "-b", "feature");
    repo.commit("Add index reduce", { "kernels/reduce.cu": "reduce\n" });
    repo.git(repo.work, "checkout", "--quiet", "main");
    repo.commit("Docs", { "docs/attn.md": "notes\n" });
    repo.git(repo.work, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #12 from alice/feature", "feature");
    const merge = repo.head();
    const head = repo.commit("Tune", { "kernels/attn.cu": "block=96\n" });
    repo.push();

    const result = await createRevertCommit(cache, ref, merge, "sheriff/revert-12");
    expect(result).toMatchObject({ kind: "created", head });
    const sha = (result as { sha: string }).sha;
    const files = repo.git(repo.bare, "ls-tree", "-r", "--name-only", sha).split("\n");
    expect(files).toEqual(["docs/attn.md", "kernels/attn.cu"]);
    expect(repo.git(repo.bare, "show", `${sha}:kernels/attn.cu`)).toBe("block=96");
  });

  it("replaces its own earlier attempt when retried on a newer head", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n", "kernels/reduce.cu": "v1\n" });
    const culprit = repo.commit("Faster attention: block=128", { "kernels/attn.cu": "block=128\n" });
    repo.push();
    const first = await createRevertCommit(cache, ref, culprit, "sheriff/revert-x");
    const newer = repo.commit("Reduce v2", { "kernels/reduce.cu": "v2\n" });
    repo.push();
    const second = await createRevertCommit(cache, ref, culprit, "sheriff/revert-x");
    expect(second).toMatchObject({ kind: "created", head: newer });
    expect((second as { sha: string }).sha).not.toBe((first as { sha: string }).sha);
    expect(remoteRef("sheriff/revert-x")).toBe((second as { sha: string }).sha);
    expect(repo.git(repo.bare, "rev-parse", "sheriff/revert-x^")).toBe(newer);
  });

  it("says so, pushes nothing and cleans up, when the culprit is already reverted at head", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n" });
    const culprit = repo.commit("Faster attention: block=128", { "kernels/attn.cu": "block=128\n" });
    repo.git(repo.work, "revert", "--no-edit", culprit);
    const head = repo.head();
    repo.push();
    expect(await createRevertCommit(cache, ref, culprit, "sheriff/revert-x")).toEqual({ kind: "already-reverted", head });
    expect(remoteRef("sheriff/revert-x")).toBeNull();
    expect(leftoverWorktrees()).toEqual([]);
  });

  it("commits as the app's bot account when given one", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n" });
    const culprit = repo.commit("Faster attention: block=128", { "kernels/attn.cu": "block=128\n" });
    repo.push();
    const result = await createRevertCommit(cache, ref, culprit, "sheriff/revert-x", undefined, botIdentity("kernel-cop", 901));
    const sha = (result as { sha: string }).sha;
    expect(repo.git(repo.bare, "log", "-1", "--format=%an <%ae> / %cn <%ce>", sha)).toBe(
      "kernel-cop[bot] <901+kernel-cop[bot]@users.noreply.github.com> / kernel-cop[bot] <901+kernel-cop[bot]@users.noreply.github.com>",
    );
  });

  it("throws a GitError for a culprit the repository does not have", async () => {
    repo.commit("Add attention kernel", { "kernels/attn.cu": "block=64\n" });
    repo.push();
    await expect(createRevertCommit(cache, ref, "0123456789abcdef0123456789abcdef01234567", "sheriff/revert-x")).rejects.toBeInstanceOf(
      GitError,
    );
  });
});
