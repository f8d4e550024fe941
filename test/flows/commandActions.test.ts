import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { type FakeGitHub } from "../helpers/fakeGitHub.js";
import { type TestRepo } from "../helpers/gitRepo.js";
import { INSTALLATION, OWNER, REPO, landOnePr as landPr, prComment } from "../helpers/landedPr.js";

const checkRunFixture = JSON.parse(readFileSync(new URL("../fixtures/webhooks/check_run.rerequested.json", import.meta.url), "utf8"));

describe("comment commands through the real app", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;

  appTestHooks(() => ({ sheriff, github, repo }));

  async function landOnePr() {
    const landed = await landPr("commands", { carol: "write", eve: "read" }, (world) => ({ repo, github, sheriff } = world));
    return { change: landed.change, pr: landed.pr };
  }

  it("reverts a landed PR on a writer's command, even in shadow mode, with a true revert commit", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    await s.deliver("issue_comment", prComment(pr, "carol", '@sheriff revert -m "breaks the downstream build" -c build', 9001));
    const record = await s.waitFor("the requested revert", async () =>
      (await s.ledger.reverts(`${OWNER}/${REPO}`)).find((r) => r.outcome === "pr-opened"),
    );
    expect(record).toMatchObject({
      culprit: change,
      reason: "requested by @carol",
      summary: "Requested by @carol: breaks the downstream build",
      originalPr: pr,
    });
    expect(github!.callsTo("POST", /\/issues\/comments\/9001\/reactions$/).map((c) => c.body)).toEqual([{ content: "eyes" }]);
    const created = github!.callsTo("POST", /\/pulls$/);
    expect(created).toHaveLength(1);
    expect(repo!.git(repo!.bare, "rev-parse", `refs/heads/sheriff/revert-${change.slice(0, 7)}^{tree}`)).toBe(
      repo!.expectedRevertTree(change),
    );
    const replies = github!.comments.filter((c) => c.issue === pr);
    expect(replies.some((c) => c.body.includes(`Reverting ${change.slice(0, 7)}`))).toBe(true);
  });

  it("politely refuses a reader's revert and answers anyone's explain", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    await s.deliver("issue_comment", prComment(pr, "eve", '@sheriff revert -m "looks slow"', 9002));
    await s.deliver("issue_comment", prComment(pr, "eve", "@sheriff explain", 9003));
    await s.waitFor("two replies", async () => github!.comments.filter((c) => c.issue === pr).length >= 2 && (await s.idle()));
    expect(github!.callsTo("POST", /\/pulls$/)).toHaveLength(0);
    expect(await s.ledger.reverts(`${OWNER}/${REPO}`)).toEqual([]);
    const [refusal, explanation] = github!.comments.filter((c) => c.issue === pr).map((c) => c.body);
    expect(refusal).toMatch(/write access/i);
    expect(explanation).toContain(`What Sheriff did for #${pr}`);
    expect(explanation).toContain("landed");
    expect(explanation).toContain("result `convert`: landed #0: completed, 0 failing of 1");
    expect(explanation).not.toContain(change);
    // Both comments are in the history, with who asked and how each ended.
    expect((await s.ledger.commands(`${OWNER}/${REPO}`, pr)).map((c) => [c.commentId, c.name, c.requestedBy, c.status])).toEqual([
      [9002, "revert", "eve", "refused"],
      [9003, "explain", "eve", "done"],
    ]);
  });

  it("pauses and resumes automatic reverts on a writer's command, recorded, and shows it in explain and help", async () => {
    const { pr } = await landOnePr();
    const s = sheriff!;
    const said = () => github!.comments.filter((c) => c.issue === pr).map((c) => c.body);
    const ask = async (login: string, body: string, id: number, replies: number) => {
      await s.deliver("issue_comment", prComment(pr, login, body, id));
      await s.waitFor(`reply ${replies}`, async () => said().length >= replies && (await s.idle()));
      return said()[replies - 1]!;
    };

    expect(await ask("eve", '@sheriff pause -m "mine"', 9201, 1)).toContain("Sorry, `pause` needs write access");
    expect(await ask("carol", '@sheriff pause -m "driver rollout on the H100s"', 9202, 2)).toMatch(
      /^@carol Automatic reverts are paused on this repository since \d{4}-\d\d-\d\d \d\d:\d\d UTC by @carol: driver rollout on the H100s\./,
    );
    expect(await s.ledger.revertPause(`${OWNER}/${REPO}`)).toMatchObject({
      paused: true,
      by: "carol",
      reason: "driver rollout on the H100s",
    });
    expect(await ask("eve", "@sheriff explain", 9203, 3)).toContain("Automatic reverts are paused on this repository since");
    expect(await ask("carol", "@sheriff resume", 9204, 4)).toContain("Automatic reverts are on again (paused since");
    expect(await s.ledger.revertPause(`${OWNER}/${REPO}`)).toMatchObject({ paused: false, by: "carol" });
    expect(await ask("eve", "@sheriff help", 9205, 5)).toMatch(/Automatic reverts are not paused on this repository\.$/);
  });

  it("answers a second revert command with the revert PR Sheriff already opened", async () => {
    const { change, pr } = await landOnePr();
    const s = sheriff!;
    await s.deliver("issue_comment", prComment(pr, "carol", '@sheriff revert -m "breaks the build"', 9301));
    const record = await s.waitFor("the revert PR", async () =>
      (await s.ledger.reverts(`${OWNER}/${REPO}`)).find((r) => r.outcome === "pr-opened"),
    );
    await s.waitFor("the queues to drain", () => s.idle());
    await s.deliver("issue_comment", prComment(pr, "carol", '@sheriff revert -m "still broken"', 9302));
    await s.waitFor("the second reply", async () =>
      github!.comments.some(
        (c) => c.issue === pr && c.body.includes(`Sheriff already opened #${record.revertPr} to revert ${change.slice(0, 7)}`),
      ),
    );
    await s.waitFor("the queues to drain", () => s.idle());
    expect(github!.callsTo("POST", /\/pulls$/)).toHaveLength(1);
  });

  it("runs the commit's suites again when someone clicks Re-run on Sheriff's check run", async () => {
    const { change } = await landOnePr();
    const s = sheriff!;
    const payload = {
      ...checkRunFixture,
      check_run: { ...checkRunFixture.check_run, head_sha: change },
      repository: { ...checkRunFixture.repository, clone_url: repo!.bare },
      installation: { id: INSTALLATION },
    };
    await s.deliver("check_run", payload, "rerun-1");
    await s.deliver("check_run", payload, "rerun-1");
    await s.deliver("check_run", { ...payload, check_run: { ...payload.check_run, name: "some other app" } }, "rerun-2");
    await s.waitFor(
      "the rerun",
      async () => (await s.ledger.runs(`${OWNER}/${REPO}`, "convert")).some((r) => r.job.purpose === "retry") && (await s.idle()),
    );
    const retries = (await s.ledger.jobs(`${OWNER}/${REPO}`)).filter((j) => j.job.purpose === "retry");
    expect(retries.map((j) => [j.job.sha, j.job.attempt, j.state])).toEqual([[change, 1, "done"]]);
  });
});
