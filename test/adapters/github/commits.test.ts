import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { firstParentChain, listPushCommits, type ListingLimits } from "../../../src/adapters/github/commits.js";
import { commitInfo, landedCommits } from "../../../src/adapters/git/git.js";
import type { CommitInfo } from "../../../src/model/commit.js";
import { harness, type Harness } from "../../dev/sandbox/helpers.js";

const LIMITS: ListingLimits = { maxCommits: 30, concurrency: 4 };
const sorted = (c: CommitInfo) => ({ ...c, files: [...c.files].sort() });

let h: Harness;
let wc: string;
let bare: string;
beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n", "src/a.cu": "// a\n" } });
  wc = await h.clone("acme", "kernels", h.sb.installationToken(7));
  bare = h.sb.repoDir("acme", "kernels");
});
afterEach(async () => h.close());

async function commit(message: string, files: Record<string, string | null>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) await h.git(wc, "rm", "-q", path);
    else h.write(wc, path, content);
  }
  await h.git(wc, "add", "-A");
  await h.git(wc, "commit", "-q", "-m", message);
  return head();
}
const head = async () => (await h.git(wc, "rev-parse", "HEAD")).trim();
const push = (...args: string[]) => h.git(wc, "push", "-q", ...args, "origin", "HEAD:main");

/** What intake reads from a mirror for the same range. */
async function fromMirror(base: string, after: string): Promise<CommitInfo[]> {
  const shas = await landedCommits(bare, base, after);
  return Promise.all(shas.map((sha) => commitInfo(bare, sha)));
}

async function fromApi(before: string, after: string, limits = LIMITS) {
  return listPushCommits(h.app, "acme", "kernels", before, after, limits);
}

describe("listing a push through the compare and commit endpoints", () => {
  it("lists a linear push as the mirror does: adds, edits, deletions and renames", async () => {
    const before = await head();
    await commit("Add b\n\nWith a body.\n", { "src/b.cu": "// b\n", "README.md": "hello\n" });
    await commit("Drop a", { "src/a.cu": null });
    await h.git(wc, "mv", "src/b.cu", "src/c.cu");
    await h.git(wc, "commit", "-q", "-m", "Rename b to c");
    const after = await head();
    await push();

    const listed = await fromApi(before, after);
    expect(listed.kind).toBe("listed");
    if (listed.kind !== "listed") return;
    expect(listed.mergeBase).toBe(before);
    expect(listed.commits.map(sorted)).toEqual((await fromMirror(before, after)).map(sorted));
    expect(listed.commits.map((c) => c.title)).toEqual(["Add b", "Drop a", "Rename b to c"]);
    expect(listed.commits[0]!.message).toBe("Add b\n\nWith a body.");
    expect(listed.commits[2]!.files.sort()).toEqual(["src/b.cu", "src/c.cu"]);
  });

  it("follows first parents through a merge and lists the merge's files against its first parent", async () => {
    const before = await head();
    await h.git(wc, "checkout", "-q", "-b", "feature");
    await commit("Feature one", { "src/f1.cu": "1\n" });
    await commit("Feature two", { "src/f2.cu": "2\n" });
    await h.git(wc, "checkout", "-q", "main");
    await commit("Main moves", { "src/m.cu": "m\n" });
    await h.git(wc, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature");
    const merge = await head();
    await commit("After the merge", { "README.md": "after\n" });
    const after = await head();
    await push();

    const listed = await fromApi(before, after);
    if (listed.kind !== "listed") throw new Error(listed.reason);
    expect(listed.commits.map((c) => c.title)).toEqual(["Main moves", "Merge feature", "After the merge"]);
    expect(listed.commits.map(sorted)).toEqual((await fromMirror(before, after)).map(sorted));
    const merged = listed.commits.find((c) => c.sha === merge)!;
    expect(merged.parents).toHaveLength(2);
    expect(merged.files.sort()).toEqual(["src/f1.cu", "src/f2.cu"]);
  });

  it("gives a force push's merge base and the commits after it, as merge-base and the mirror do", async () => {
    const base = await commit("Shared", { "src/s.cu": "s\n" });
    await commit("Dropped later", { "src/d.cu": "d\n" });
    const before = await head();
    await push();
    await h.git(wc, "reset", "-q", "--hard", base);
    await commit("Rewritten one", { "src/r.cu": "r\n" });
    await commit("Rewritten two", { "src/a.cu": "// a2\n" });
    const after = await head();
    await push("--force");

    const listed = await fromApi(before, after);
    if (listed.kind !== "listed") throw new Error(listed.reason);
    expect(listed.mergeBase).toBe((await h.git(bare, "merge-base", before, after)).trim());
    expect(listed.mergeBase).toBe(base);
    expect(listed.commits.map(sorted)).toEqual((await fromMirror(base, after)).map(sorted));
  });

  it("says when it cannot answer fully: more commits than the limit or than compare lists, a commit of 300 files", async () => {
    const before = await head();
    await commit("One", { "src/1.cu": "1\n" });
    await commit("Two", { "src/2.cu": "2\n" });
    const small = await head();
    await push();
    expect(await fromApi(before, small, { ...LIMITS, maxCommits: 1 })).toEqual({ kind: "incomplete", reason: "2 commits, more than 1" });

    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`gen/f${i}.txt`, `${i}\n`]));
    const wide = await commit("Three hundred files", many);
    await push();
    expect(await fromApi(small, wide)).toEqual({ kind: "incomplete", reason: `${wide} changed 300 files or more` });

    // 251 commits in one push: compare lists 250 of them.
    for (let i = 0; i < 251; i++) await h.git(wc, "commit", "-q", "--allow-empty", "-m", `empty ${i}`);
    const long = await head();
    await push();
    expect(await fromApi(wide, long)).toEqual({ kind: "incomplete", reason: "251 commits, more than one compare response lists" });
  }, 60_000);

  it("fails when the histories share no commit (GitHub answers 404)", async () => {
    const before = await head();
    await h.git(wc, "checkout", "-q", "--orphan", "other");
    await commit("Unrelated root", { "src/u.cu": "u\n" });
    const after = await head();
    await push("--force");
    await expect(fromApi(before, after)).rejects.toMatchObject({ status: 404 });
  });
});

describe("firstParentChain", () => {
  const c = (sha: string, ...parents: string[]) => ({
    sha: sha.repeat(40),
    commit: { message: sha, author: null },
    parents: parents.map((p) => ({ sha: p.repeat(40) })),
  });

  it("walks first parents from the head while they are in the comparison, oldest first", () => {
    // a <- b <- m (merge of b and x) <- d; x is a side commit, 0 is the base
    const commits = [c("a", "0"), c("x", "0"), c("b", "a"), c("m", "b", "x"), c("d", "m")];
    expect(firstParentChain(commits, "d".repeat(40)).map((x) => x.commit.message)).toEqual(["a", "b", "m", "d"]);
    expect(firstParentChain(commits, "e".repeat(40))).toEqual([]);
  });
});
