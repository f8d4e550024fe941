import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepoCache, branchRefspec, git, hasCommit } from "../../../src/adapters/git/git.js";
import { TestRepo } from "../../helpers/gitRepo.js";

let repo: TestRepo;
let workDir: string;
let cache: RepoCache;

beforeEach(() => {
  repo = new TestRepo();
  workDir = mkdtempSync(join(tmpdir(), "sheriff-adapters-git-branch-"));
  cache = new RepoCache(workDir);
});

afterEach(() => {
  repo.remove();
  rmSync(workDir, { recursive: true, force: true });
});

const sha40 = (label: string) => label.padEnd(40, "0").replace(/[^0-9a-f]/g, "0");

const refs = async (mirror: string) => (await git(["for-each-ref", "--format=%(refname)"], { cwd: mirror })).split("\n").filter(Boolean);

describe("RepoCache.syncBranch", () => {
  it("asks for the pushed branch only", () => {
    expect(branchRefspec("main")).toBe("+refs/heads/main:refs/remotes/origin/main");
    expect(branchRefspec("release/2.1")).toBe("+refs/heads/release/2.1:refs/remotes/origin/release/2.1");
  });

  it("fetches that branch's commits and none of another branch's", async () => {
    repo.commit("A", { "a.txt": "a\n" });
    repo.git(repo.work, "checkout", "--quiet", "-b", "feature");
    const feature = repo.commit("F", { "f.txt": "f\n" });
    repo.git(repo.work, "push", "--quiet", "origin", "feature");
    repo.git(repo.work, "checkout", "--quiet", "main");
    const main = repo.commit("B", { "b.txt": "b\n" });
    repo.push();

    const mirror = await cache.syncBranch("gpu-team", "flash-kernels", repo.bare, "main");
    expect(await refs(mirror)).toEqual(["refs/remotes/origin/main"]);
    expect((await git(["rev-parse", "refs/remotes/origin/main"], { cwd: mirror })).trim()).toBe(main);
    expect(await hasCommit(mirror, feature)).toBe(false);

    // A later push of the branch moves only its ref; other refs the mirror has are left alone.
    await cache.syncBranch("gpu-team", "flash-kernels", repo.bare, "feature");
    const next = repo.commit("C", { "c.txt": "c\n" });
    repo.push();
    await cache.syncBranch("gpu-team", "flash-kernels", repo.bare, "main");
    expect(await refs(mirror)).toEqual(["refs/remotes/origin/feature", "refs/remotes/origin/main"]);
    expect((await git(["rev-parse", "refs/remotes/origin/main"], { cwd: mirror })).trim()).toBe(next);
  });

  it("leaves ensureCommit able to find a commit the fetched branch does not reach", async () => {
    repo.commit("A", { "a.txt": "a\n" });
    repo.push();
    repo.git(repo.work, "checkout", "--quiet", "-b", "other");
    const other = repo.commit("O", { "o.txt": "o\n" });
    repo.git(repo.work, "push", "--quiet", "origin", "other");
    const mirror = await cache.syncBranch("gpu-team", "flash-kernels", repo.bare, "main");
    expect(await hasCommit(mirror, other)).toBe(false);
    await cache.ensureCommit("gpu-team", "flash-kernels", repo.bare, other);
    expect(await hasCommit(mirror, other)).toBe(true);
  });

  it("fetches nothing when the pushed head is already in the mirror", async () => {
    const first = repo.commit("A", { "a.txt": "a\n" });
    const second = repo.commit("B", { "b.txt": "b\n" });
    repo.push();
    const mirror = await cache.syncBranch("gpu-team", "flash-kernels", repo.bare, "main", undefined, first);
    // A clone URL that cannot be fetched from proves no fetch ran for a head the mirror has.
    const gone = join(repo.root, "gone.git");
    await cache.syncBranch("gpu-team", "flash-kernels", gone, "main", undefined, first);
    await cache.syncBranch("gpu-team", "flash-kernels", gone, "main", undefined, second);
    await expect(cache.syncBranch("gpu-team", "flash-kernels", gone, "main", undefined, sha40("unknown"))).rejects.toThrow();
    expect(await hasCommit(mirror, second)).toBe(true);
  });
});
