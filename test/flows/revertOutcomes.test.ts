import nock from "nock";
import { describe, expect, it } from "vitest";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { type FakeGitHub } from "../helpers/fakeGitHub.js";
import { type TestRepo } from "../helpers/gitRepo.js";
import { OWNER, REPO, landOnePr as landPr, prComment } from "../helpers/landedPr.js";

describe("a requested revert on a real repository", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;

  appTestHooks(() => ({ sheriff, github, repo }));

  async function landOnePr() {
    const landed = await landPr("revert-outcomes", { carol: "write" }, (world) => ({ repo, github, sheriff } = world));
    return { change: landed.change, pr: landed.pr };
  }

  const revertComment = (pr: number, id: number) => prComment(pr, "carol", '@sheriff revert -m "breaks the build"', id);

  it("says the commit is already reverted at head: no PR, one comment, a record with that outcome", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    // Someone undid it by hand already, in a commit that does not say it reverts it.
    const head = repo!.commit("Go back to the old conversion for now", { "kernels/convert.cu": "v1\n" });
    repo!.push();

    await s.deliver("issue_comment", revertComment(pr, 9101));
    const record = await s.waitFor("the revert record", async () =>
      (await s.ledger.reverts(`${OWNER}/${REPO}`)).find((r) => r.culprit === change),
    );
    await s.waitFor("the queues to drain", () => s.idle());
    expect(record).toMatchObject({ outcome: "already-reverted", reason: `already reverted at head (${head.slice(0, 7)})`, originalPr: pr });
    expect(record.revertPr).toBeUndefined();
    expect(github!.callsTo("POST", /\/pulls$/)).toEqual([]);
    const said = github!.comments.filter((c) => c.issue === pr && c.body.includes("already reverted at the head of main"));
    expect(said).toHaveLength(1);
    expect(said[0]!.body).toContain(`(${head.slice(0, 7)})`);
    expect(said[0]!.body).toContain("@bob");
    expect(repo!.git(repo!.bare, "for-each-ref", "--format=%(refname)", "refs/heads/sheriff")).toBe("");
  }, 60_000);

  it("never reverts what a person's landed revert undid already, and says which commit did", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    repo!.git(repo!.work, "revert", "--no-edit", change);
    const revert = repo!.head();
    repo!.commit("Later work on the conversion", { "kernels/convert.cu": "v3\n" });
    repo!.push();

    await s.deliver("issue_comment", revertComment(pr, 9103));
    const record = await s.waitFor("the revert record", async () =>
      (await s.ledger.reverts(`${OWNER}/${REPO}`)).find((r) => r.culprit === change),
    );
    await s.waitFor("the queues to drain", () => s.idle());
    expect(record).toMatchObject({
      outcome: "already-reverted",
      reason: expect.stringContaining(`already reverted on the branch by ${revert.slice(0, 7)}`),
    });
    expect(github!.callsTo("POST", /\/pulls$/)).toEqual([]);
    const said = github!.comments.filter((c) => c.issue === pr && c.body.includes("so no second revert PR was opened"));
    expect(said).toHaveLength(1);
    expect(said[0]!.body).toContain(
      `@carol Sheriff was asked to revert ${change.slice(0, 7)}, but ${revert.slice(0, 7)}, already on the branch`,
    );
  }, 60_000);

  it("commits the revert as the app's bot account, with its id in the noreply address", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    nock("https://api.github.com")
      .get(/^\/users\/sheriff(%5B|\[)bot(%5D|\])$/)
      .reply(200, { login: "sheriff[bot]", id: 41898282, type: "Bot" });

    await s.deliver("issue_comment", revertComment(pr, 9102));
    await s.waitFor("the revert PR", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`)).find((r) => r.outcome === "pr-opened"));
    const branch = `refs/heads/sheriff/revert-${change.slice(0, 7)}`;
    expect(repo!.git(repo!.bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>", branch)).toBe(
      "sheriff[bot] <41898282+sheriff[bot]@users.noreply.github.com>|sheriff[bot] <41898282+sheriff[bot]@users.noreply.github.com>",
    );
  }, 60_000);
});
