import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CHECK_NAME, reportConfigError, upsertCheckRun } from "../../../src/adapters/github/checks.js";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import type { CommitSummary } from "../../../src/model/checkRun.js";
import type { RepoRef } from "../../../src/model/repo.js";
import { API, blockNetwork, sha, testOctokit, takeUncalledMocks } from "../support.js";
import { testDatabase } from "../../helpers/database.js";

const REPO: RepoRef = {
  owner: "gpu-team",
  repo: "flash-kernels",
  installationId: 2311213,
  cloneUrl: "https://github.com/gpu-team/flash-kernels.git",
  branch: "main",
};
const PATH = "/repos/gpu-team/flash-kernels";
const SHA = sha("c1");

const running: CommitSummary = { conclusion: "neutral", title: "2 of 3 suites running", text: "varlen-attention: passed" };
const failed: CommitSummary = { conclusion: "failure", title: "varlen-attention regressed", text: "fwd_d128 fails since this commit" };

let db: Awaited<ReturnType<typeof testDatabase>>;
let ledger: Ledger;

beforeAll(blockNetwork);
afterAll(() => nock.enableNetConnect());

beforeEach(async () => {
  db = await testDatabase("checks");
  ledger = new Ledger(db);
});

afterEach(async () => {
  const pending = takeUncalledMocks();
  await db.cleanup();
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("upsertCheckRun", () => {
  it("creates the commit's check run once, then updates it by the id kept in the ledger", async () => {
    const create = nock(API)
      .post(`${PATH}/check-runs`, {
        name: CHECK_NAME,
        head_sha: SHA,
        output: { title: running.title, summary: running.text },
        status: "in_progress",
      })
      .reply(201, { id: 8_123_456_789, head_sha: SHA, name: CHECK_NAME });
    await upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running });
    expect(create.isDone()).toBe(true);
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(8_123_456_789);

    const update = nock(API)
      .patch(`${PATH}/check-runs/8123456789`, {
        output: { title: failed.title, summary: failed.text },
        status: "completed",
        conclusion: "failure",
      })
      .reply(200, { id: 8_123_456_789 });
    await upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: true, summary: failed });
    expect(update.isDone()).toBe(true);
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(8_123_456_789);
  });

  it("keeps one check run per commit", async () => {
    nock(API)
      .post(`${PATH}/check-runs`, (body) => body.head_sha === SHA)
      .reply(201, { id: 1 });
    nock(API)
      .post(`${PATH}/check-runs`, (body) => body.head_sha === sha("c2"))
      .reply(201, { id: 2 });
    await upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running });
    await upsertCheckRun(testOctokit(), ledger, REPO, sha("c2"), { done: true, summary: failed });
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(1);
    expect(await ledger.checkRunId("gpu-team/flash-kernels", sha("c2"))).toBe(2);
  });

  it("creates one check run when several processes refresh a new commit at once, and all of them write it", async () => {
    const create = nock(API).post(`${PATH}/check-runs`).delay(200).reply(201, { id: 77 });
    const updates = nock(API).patch(`${PATH}/check-runs/77`).times(2).reply(200, { id: 77 });
    await Promise.all([1, 2, 3].map(() => upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running })));
    expect(create.isDone()).toBe(true);
    expect(updates.isDone()).toBe(true);
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(77);
  });

  it("lets a later refresh create the check run when the claim's holder died before creating it", async () => {
    const stale = new Ledger(db, () => new Date(Date.now() - 60_000));
    expect(await stale.claimCheckRun("gpu-team/flash-kernels", SHA, 30_000)).toBe(true);
    nock(API).post(`${PATH}/check-runs`).reply(201, { id: 5 });
    await upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running });
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(5);
  });

  it("stores no id when GitHub refuses the create, so the next refresh creates it", async () => {
    nock(API).post(`${PATH}/check-runs`).reply(500, { message: "Server Error" });
    await expect(upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running })).rejects.toMatchObject({
      status: 500,
    });
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBeNull();
    // The claim was given back: the next refresh creates the check run at once.
    nock(API).post(`${PATH}/check-runs`).reply(201, { id: 9 });
    await upsertCheckRun(testOctokit(), ledger, REPO, SHA, { done: false, summary: running });
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBe(9);
  });
});

describe("reportConfigError", () => {
  it("puts the parse error on the commit as an action-required check run", async () => {
    const message = '.github/sheriff.yml is not a valid Sheriff config:\n  - policy.autoRevert: expected "on" | "off" | "shadow"';
    const scope = nock(API)
      .post(`${PATH}/check-runs`, {
        name: CHECK_NAME,
        head_sha: SHA,
        status: "completed",
        conclusion: "action_required",
        output: { title: "Invalid .github/sheriff.yml", summary: "```\n" + message + "\n```" },
      })
      .reply(201, { id: 99 });
    await reportConfigError(testOctokit(), REPO, SHA, message);
    expect(scope.isDone()).toBe(true);
    // A config error is not the commit's Sheriff check run: nothing is stored for updates.
    expect(await ledger.checkRunId("gpu-team/flash-kernels", SHA)).toBeNull();
  });
});
