import { readFileSync } from "node:fs";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { FakeGitHub } from "../helpers/fakeGitHub.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { startSheriff } from "../helpers/sheriff.js";

const pushFixture = JSON.parse(readFileSync(new URL("../fixtures/webhooks/push.json", import.meta.url), "utf8"));
const commentFixture = JSON.parse(readFileSync(new URL("../fixtures/comments/pr-comment-created.json", import.meta.url), "utf8"));
const OWNER = "gpu-team";
const REPO = "flash-kernels";
const INSTALLATION = 2311213;
const CONFIG = `policy: { autoRevert: shadow }
suites:
  - { name: convert, kind: command, command: "sh test.sh", paths: ["kernels/**"], timeoutSeconds: 30 }
`;

describe("a requested revert on a real repository", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;

  appTestHooks(() => ({ sheriff, github, repo }));

  async function landOnePr() {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    github.permissions.set("carol", "write");
    sheriff = await startSheriff("revert-outcomes");
    const root = repo.commit("Initial kernels", { ".github/sheriff.yml": CONFIG, "test.sh": "exit 0\n", "kernels/convert.cu": "v1\n" });
    const change = repo.commit("Use the new conversion", { "kernels/convert.cu": "v2\n" });
    repo.push();
    const pr = github.landedPull(change, "Use the new conversion", "bob");
    await sheriff.deliver("push", {
      ...pushFixture,
      before: root,
      after: change,
      repository: { ...pushFixture.repository, clone_url: repo.bare },
      installation: { id: INSTALLATION },
    });
    const s = sheriff;
    await s.waitFor("the post-land run", async () => (await s.ledger.runs(`${OWNER}/${REPO}`, "convert")).length >= 1 && (await s.idle()));
    return { change, pr };
  }

  function revertComment(pr: number, id: number) {
    const login = "carol";
    return {
      ...commentFixture,
      issue: { ...commentFixture.issue, number: pr },
      comment: {
        ...commentFixture.comment,
        id,
        body: '@sheriff revert -m "breaks the build"',
        user: { ...commentFixture.comment.user, login, type: "User" },
      },
      sender: { ...commentFixture.sender, login, type: "User" },
      repository: {
        ...commentFixture.repository,
        name: REPO,
        full_name: `${OWNER}/${REPO}`,
        owner: { ...commentFixture.repository.owner, login: OWNER },
        default_branch: "main",
      },
      installation: { id: INSTALLATION },
    };
  }

  it("says the commit is already reverted at head: no PR, one comment, a record with that outcome", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    // Someone reverted it by hand already.
    repo!.git(repo!.work, "revert", "--no-edit", change);
    const head = repo!.head();
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
