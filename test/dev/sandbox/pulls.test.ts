import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "./helpers.js";

let h: Harness;
let wc: string;
const repo = { owner: "acme", repo: "kernels" };

beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, files: { "a.txt": "one\ntwo\nthree\n", "b.txt": "b\n" } });
  wc = await h.clone("acme", "kernels", h.sb.installationToken(7));
});
afterEach(async () => h.close());

async function branch(name: string, edits: Record<string, string>, from = "origin/main", message = `change on ${name}`): Promise<string> {
  await h.git(wc, "checkout", "-q", "-B", name, from);
  for (const [p, c] of Object.entries(edits)) h.write(wc, p, c);
  await h.git(wc, "add", "-A");
  await h.git(wc, "commit", "-q", "-m", message);
  await h.git(wc, "push", "-q", "-f", "origin", name);
  return (await h.git(wc, "rev-parse", "HEAD")).trim();
}

const open = async (head: string, title = `PR ${head}`) =>
  (await h.app.rest.pulls.create({ ...repo, head, base: "main", title, body: "body" })).data;

describe("pull requests", () => {
  it("creates PRs, computes mergeability for real and rejects duplicates and empty PRs", async () => {
    const sha = await branch("clean", { "c.txt": "c\n" });
    const pr = await open("clean");
    expect(pr).toMatchObject({
      number: 1,
      state: "open",
      merged: false,
      head: { ref: "clean", sha },
      base: { ref: "main" },
      user: { login: "sheriff-test[bot]", type: "Bot" },
    });
    const got = (await h.app.rest.pulls.get({ ...repo, pull_number: 1 })).data;
    expect(got.mergeable).toBe(true);
    expect(got.mergeable_state).toBe("clean");
    expect(got.merge_commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(got.commits).toBe(1);
    expect(got.changed_files).toBe(1);

    await expect(open("clean")).rejects.toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: "A pull request already exists for acme:clean." }] } },
    });
    await h.git(wc, "push", "-q", "origin", "origin/main:refs/heads/same");
    await expect(open("same")).rejects.toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: "No commits between main and same" }] } },
    });

    // a real conflict: both sides edit the same line
    await branch("conflict", { "a.txt": "one\nTWO-from-branch\nthree\n" });
    await open("conflict");
    await h.user(h.sb.addUser("m", { permissions: { "acme/kernels": "write" } }).token).rest.repos.createOrUpdateFileContents({
      ...repo,
      path: "a.txt",
      message: "edit on main",
      content: Buffer.from("one\nTWO-from-main\nthree\n").toString("base64"),
      sha: ((await h.app.rest.repos.getContent({ ...repo, path: "a.txt" })) as any).data.sha,
    });
    const conflicted = (await h.app.rest.pulls.get({ ...repo, pull_number: 2 })).data;
    expect(conflicted.mergeable).toBe(false);
    expect(conflicted.mergeable_state).toBe("dirty");
    await expect(h.app.rest.pulls.merge({ ...repo, pull_number: 2 })).rejects.toMatchObject({
      status: 405,
      message: expect.stringMatching(/not mergeable/),
    });
    await expect(h.app.rest.pulls.updateBranch({ ...repo, pull_number: 2 })).rejects.toMatchObject({ status: 422 });

    const list = (await h.app.rest.pulls.list({ ...repo, state: "open", head: "acme:clean" })).data;
    expect(list.map((p) => p.number)).toEqual([1]);
    await h.sb.waitForIdle();
    expect(h.events("pull_request", "opened").map((e) => e.payload.number)).toEqual([1, 2]);
  });

  it("merges with merge, squash and rebase producing the right history", async () => {
    await branch("m", { "m1.txt": "1\n" });
    await h.git(wc, "checkout", "-q", "m");
    h.write(wc, "m2.txt", "2\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "second on m");
    await h.git(wc, "push", "-q", "origin", "m");
    const mHead = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await branch("s", { "s1.txt": "1\n" }, "origin/main", "squash me 1");
    await branch("r", { "r1.txt": "1\n" }, "origin/main", "rebase me 1");
    await h.git(wc, "checkout", "-q", "r");
    h.write(wc, "r2.txt", "2\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "rebase me 2");
    await h.git(wc, "push", "-q", "origin", "r");
    const [pm, ps, pr] = [await open("m", "Merge PR"), await open("s", "Squash PR"), await open("r", "Rebase PR")];

    await expect(h.app.rest.pulls.merge({ ...repo, pull_number: pm.number, sha: "0".repeat(40) })).rejects.toMatchObject({ status: 409 });
    const merged = (await h.app.rest.pulls.merge({ ...repo, pull_number: pm.number, sha: mHead, merge_method: "merge" })).data;
    expect(merged).toMatchObject({ merged: true, message: "Pull Request successfully merged" });
    const squashed = (await h.app.rest.pulls.merge({ ...repo, pull_number: ps.number, merge_method: "squash" })).data;
    const rebased = (await h.app.rest.pulls.merge({ ...repo, pull_number: pr.number, merge_method: "rebase" })).data;
    await expect(h.app.rest.pulls.merge({ ...repo, pull_number: pr.number })).rejects.toMatchObject({ status: 405 });

    await h.git(wc, "fetch", "-q", "origin");
    const log = await h.git(wc, "log", "--format=%H %P|%s", "origin/main");
    const lines = log
      .trim()
      .split("\n")
      .map((l) => {
        const [ids, s] = l.split("|");
        const [id, ...parents] = ids!.split(" ");
        return { id, parents, s };
      });
    expect(lines[0]!.id).toBe(rebased.sha);
    expect(lines.slice(0, 2).map((l) => l.s)).toEqual(["rebase me 2", "rebase me 1"]);
    expect(lines[2]).toMatchObject({ id: squashed.sha, s: "Squash PR (#2)", parents: [merged.sha] });
    expect(lines[3]).toMatchObject({ id: merged.sha, s: "Merge pull request #1 from acme/m" });
    expect(lines[3]!.parents[1]).toBe(mHead);
    expect(await h.git(wc, "show", "--format=", "--name-only", rebased.sha)).toBe("r2.txt\n");
    expect(await h.git(wc, "show", "--format=%an", "-s", rebased.sha)).toBe("Alice\n");

    const got = (await h.app.rest.pulls.get({ ...repo, pull_number: pm.number })).data;
    expect(got).toMatchObject({ state: "closed", merged: true, merge_commit_sha: merged.sha, merged_by: { login: "sheriff-test[bot]" } });
    const prs = (await h.app.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: squashed.sha })).data;
    expect(prs.map((p) => p.number)).toEqual([2]);
    const prCommits = (await h.app.rest.pulls.listCommits({ ...repo, pull_number: pr.number })).data;
    expect(prCommits.map((c) => c.commit.message)).toEqual(["rebase me 1", "rebase me 2"]);

    await h.sb.waitForIdle();
    const closed = h.events("pull_request", "closed").map((e) => [e.payload.number, e.payload.pull_request.merged]);
    expect(closed).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    const mainPushes = h
      .events("push")
      .filter((e) => e.payload.ref === "refs/heads/main")
      .map((e) => e.payload.after);
    expect(mainPushes).toEqual([merged.sha, squashed.sha, rebased.sha]);
    // the push for the merge commit announces the merge commit and the PR's commits
    const first = h.events("push").find((e) => e.payload.after === merged.sha)!.payload;
    expect(first.commits.map((c: any) => c.message)).toEqual([
      "change on m",
      "second on m",
      "Merge pull request #1 from acme/m\n\nMerge PR",
    ]);
  });

  it("updates a branch, syncs PR heads on push and closes/reopens", async () => {
    await branch("u", { "u.txt": "u\n" });
    const pr = await open("u");
    await branch("other", { "o.txt": "o\n" });
    await h.git(wc, "push", "-q", "origin", "other:main");
    const behind = (await h.app.rest.repos.compareCommits({ ...repo, base: "main", head: "u" })).data;
    expect(behind).toMatchObject({ status: "diverged", ahead_by: 1, behind_by: 1 });
    await h.app.rest.pulls.updateBranch({ ...repo, pull_number: pr.number });
    const after = (await h.app.rest.repos.compareCommits({ ...repo, base: "main", head: "u" })).data;
    expect(after).toMatchObject({ status: "ahead", ahead_by: 2, behind_by: 0 });
    const got = (await h.app.rest.pulls.get({ ...repo, pull_number: pr.number })).data;
    expect(got.head.sha).toBe(after.commits.at(-1)!.sha);
    await expect(h.app.rest.pulls.updateBranch({ ...repo, pull_number: pr.number })).rejects.toMatchObject({ status: 422 });

    await h.app.rest.pulls.update({ ...repo, pull_number: pr.number, state: "closed" });
    await h.app.rest.pulls.update({ ...repo, pull_number: pr.number, state: "open", title: "renamed" });
    const reviews = await h
      .user(h.sb.addUser("rev", { permissions: { "acme/kernels": "write" } }).token)
      .rest.pulls.createReview({ ...repo, pull_number: pr.number, event: "APPROVE" });
    expect(reviews.data.state).toBe("APPROVED");
    expect((await h.app.rest.pulls.listReviews({ ...repo, pull_number: pr.number })).data).toHaveLength(1);
    const files = (await h.app.rest.pulls.listFiles({ ...repo, pull_number: pr.number })).data;
    expect(files.map((f) => f.filename)).toEqual(["u.txt"]);
    await h.sb.waitForIdle();
    const actions = h.events("pull_request").map((e) => e.payload.action);
    expect(actions).toEqual(["opened", "synchronize", "closed", "edited", "reopened"]);
  });
});
