import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "./helpers.js";

const repo = { owner: "acme", repo: "kernels" };
let h: Harness;
let wc: string;
beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n" } });
  wc = await h.clone("acme", "kernels", h.sb.installationToken(7));
});
afterEach(async () => h.close());

async function commit(message: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) h.write(wc, path, content);
  await h.git(wc, "add", "-A");
  await h.git(wc, "commit", "-q", "-m", message);
  return (await h.git(wc, "rev-parse", "HEAD")).trim();
}

describe("commits and compare", () => {
  it("lists a commit's files 300 a page with Link headers, the commit and its whole stats on every page", async () => {
    const files = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`gen/f${String(i).padStart(3, "0")}.txt`, `${i}\n`]));
    const sha = await commit("Three hundred and one files", files);
    await h.git(wc, "push", "-q", "origin", "main");

    const first = await h.app.rest.repos.getCommit({ ...repo, ref: sha });
    expect(first.data.files).toHaveLength(300);
    expect(first.data.stats).toEqual({ total: 301, additions: 301, deletions: 0 });
    expect(first.headers.link).toMatch(/page=2>; rel="next"/);
    const second = await h.app.rest.repos.getCommit({ ...repo, ref: sha, page: 2 });
    expect(second.data.sha).toBe(sha);
    expect(second.data.files?.map((f) => f.filename)).toEqual(["gen/f300.txt"]);
  });

  it("compares with commits and their parents, the merge base, and at most 300 files", async () => {
    const base = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await h.git(wc, "checkout", "-q", "-b", "feature");
    const side = await commit("Side", { "side.txt": "s\n" });
    await h.git(wc, "checkout", "-q", "main");
    const wide = await commit("Wide", Object.fromEntries(Array.from({ length: 310 }, (_, i) => [`w/${i}.txt`, `${i}\n`])));
    await h.git(wc, "merge", "-q", "--no-ff", "-m", "Merge side", "feature");
    const merge = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await h.git(wc, "push", "-q", "origin", "main");

    const { data } = await h.app.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...${merge}` });
    expect(data).toMatchObject({ status: "ahead", ahead_by: 3, total_commits: 3, merge_base_commit: { sha: base } });
    expect(data.commits.map((c) => [c.sha, c.parents.map((p) => p.sha)])).toEqual(
      expect.arrayContaining([
        [side, [base]],
        [wide, [base]],
        [merge, [wide, side]],
      ]),
    );
    expect(data.files).toHaveLength(300);
    // Against its first parent, a merge brought the side branch's file only.
    const merged = await h.app.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${wide}...${merge}` });
    expect(merged.data.files?.map((f) => f.filename)).toEqual(["side.txt"]);
  });

  it("answers 404 when two commits share no history", async () => {
    const main = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await h.git(wc, "checkout", "-q", "--orphan", "other");
    const root = await commit("Unrelated", { "u.txt": "u\n" });
    await h.git(wc, "push", "-q", "origin", "other");
    await expect(h.app.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${main}...${root}` })).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("No common ancestor"),
    });
  });
});
