import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { landJobId, landQueueName } from "../../src/adapters/queue/land.js";
import { createLandQueue } from "../../src/flows/landRequest.js";
import type { LandService, PriorRevert, RevertHistory } from "../../src/model/land.js";
import { createLandWorker, type LandWorker } from "../../src/flows/land.js";
import type { RedisHandle } from "../../src/adapters/store/redis.js";
import { FakeGitHub, OWNER, REPO, blockNetwork, cleanupRedis, testOctokit, testRedis, until } from "./landHelpers.js";

const octokit = testOctokit();
let handle: RedisHandle;
let land: LandService;
let worker: LandWorker;
/** A second worker on the same prefix stands for a second Sheriff process. */
let otherProcess: LandWorker;
let gh: FakeGitHub;

const reverts = new Map<number, PriorRevert[]>();
const history: RevertHistory = {
  async historyFor(_owner, _repo, pr, title) {
    return reverts.get(pr) ?? (title.startsWith("Reland") ? [] : []);
  },
};

const request = (pr: number, method: "squash" | "merge" | "rebase" = "squash") => ({
  owner: OWNER,
  repo: REPO,
  pr,
  method,
  requestedBy: "alice",
  installationId: 55501234,
});

async function mainQueue(): Promise<Queue> {
  return new Queue(landQueueName(OWNER, REPO, "main"), { connection: handle.redis, prefix: handle.prefix });
}

beforeAll(async () => {
  blockNetwork();
  handle = testRedis();
  land = createLandQueue({ redis: handle, history });
  worker = createLandWorker({
    redis: handle,
    slug: "sheriff",
    octokitFor: async () => octokit,
    timing: { pollIntervalMs: 25, maxWaitMs: 500, discoverIntervalMs: 50 },
  });
  otherProcess = createLandWorker({
    redis: handle,
    slug: "sheriff",
    octokitFor: async () => octokit,
    timing: { pollIntervalMs: 25, maxWaitMs: 500, discoverIntervalMs: 50 },
  });
  await Promise.all([worker.start(), otherProcess.start()]);
});

afterAll(async () => {
  await Promise.all([worker.close(), otherProcess.close()]);
  await land.close();
  await cleanupRedis(handle);
  nock.cleanAll();
  nock.enableNetConnect();
});

beforeEach(() => {
  gh = new FakeGitHub();
  gh.mount();
});

afterEach(() => {
  nock.cleanAll();
});

const commentsOn = (pr: number) => gh.comments.filter((c) => c.pr === pr).map((c) => c.body);

describe("land queue", () => {
  it("lands an approved, green, mergeable PR with its head sha and says so", async () => {
    const pr = gh.addPr({ number: 42 });
    const reply = await land.enqueue(octokit, request(42));
    expect(reply).toMatch(/^Queued #42 to land on `main` \(squash\); it is next\./);
    await worker.refresh();
    await until(() => commentsOn(42).length === 1, 8000, "landed reply");
    const merge = gh.merges[0]!;
    expect(commentsOn(42)).toEqual([`Landed as \`${merge.sha}\` by @alice (squash into \`main\`). cc @bob`]);
    expect(gh.calls).toEqual([
      "GET /pulls/42", // enqueue: base branch
      "GET /pulls/42",
      "GET /pulls/42/reviews",
      `GET /commits/${pr.head}/check-runs`,
      `GET /commits/${pr.head}/status`,
      "GET /branches/main",
      "GET /rules/branches/main",
      `PUT /pulls/42/merge sha=${pr.head.slice(0, 8)} method=squash`,
      "POST /issues/42/comments",
    ]);
    // The job and its bookkeeping go away, so the PR could be queued again.
    await until(async () => (await handle.redis.exists(handle.key("land", "job", landJobId(OWNER, REPO, 42)))) === 0, 8000, "bookkeeping");
    const queue = await mainQueue();
    expect(await queue.getJob(landJobId(OWNER, REPO, 42))).toBeUndefined();
    await queue.close();
  });

  it.each([
    ["not approved", { reviews: [{ login: "carol", state: "COMMENTED" as const }] }, "not approved"],
    [
      "changes requested after an approval",
      {
        reviews: [
          { login: "carol", state: "APPROVED" as const },
          { login: "dave", state: "CHANGES_REQUESTED" as const },
        ],
      },
      "changes requested by @dave",
    ],
    ["a merge conflict", { mergeable: false, mergeable_state: "dirty" }, "merge conflict with main"],
    ["a draft", { draft: true }, "it is a draft"],
  ])("does not land a PR with %s and tells why", async (_name, overrides, reason) => {
    gh.addPr({ number: 43, ...overrides });
    await land.enqueue(octokit, request(43));
    await until(() => commentsOn(43).length === 1, 8000, "blocked reply");
    expect(commentsOn(43)[0]).toBe(
      `@alice Could not land #43 on \`main\`: ${reason}. Once that is fixed, comment \`@sheriff land\` again. cc @bob`,
    );
    expect(gh.calls.some((c) => c.includes("/merge"))).toBe(false);
  });

  it("does not land when a required check failed (check runs or commit statuses)", async () => {
    const pr = gh.addPr({ number: 44 });
    gh.requiredChecks = ["gpu", "lint"];
    gh.checks.set(pr.head, [{ name: "gpu", status: "completed", conclusion: "failure" }]);
    gh.statuses.set(pr.head, [{ context: "lint", state: "success" }]);
    await land.enqueue(octokit, request(44));
    await until(() => commentsOn(44).length === 1, 8000, "blocked reply");
    expect(commentsOn(44)[0]).toContain("Could not land #44 on `main`: check `gpu` failed.");
    expect(gh.calls.some((c) => c.includes("/merge"))).toBe(false);
  });

  it("updates a PR whose base moved, waits for its checks again, then merges the new head", async () => {
    const pr = gh.addPr({ number: 45, mergeable_state: "behind" });
    const oldHead = pr.head;
    gh.ciFetchesAfterUpdate = 2;
    await land.enqueue(octokit, request(45, "rebase"));
    await until(() => commentsOn(45).length === 1, 8000, "landed reply");
    expect(pr.head).not.toBe(oldHead);
    const writes = gh.calls.filter((c) => c.startsWith("PUT"));
    expect(writes).toEqual([
      `PUT /pulls/45/update-branch expected_head_sha=${oldHead.slice(0, 8)}`,
      `PUT /pulls/45/merge sha=${pr.head.slice(0, 8)} method=rebase`,
    ]);
    // Checks of the new head were looked at (and found pending) before the merge.
    const newHeadChecks = gh.calls.filter((c) => c === `GET /commits/${pr.head}/check-runs`);
    expect(newHeadChecks.length).toBeGreaterThanOrEqual(3);
    expect(commentsOn(45)[0]).toMatch(/^Landed as `[0-9a-f]{40}` by @alice \(rebase into `main`\)\. cc @bob$/);
  });

  it("reports a conflict found by update-branch", async () => {
    gh.addPr({ number: 46, mergeable_state: "behind" });
    gh.updateFailures.push({ status: 422, message: "merge conflict between base and head" });
    await land.enqueue(octokit, request(46));
    await until(() => commentsOn(46).length === 1, 8000, "blocked reply");
    expect(commentsOn(46)[0]).toContain("Could not land #46 on `main`: merge conflict with main.");
  });

  it("checks again when the head moved under the merge (409) and merges the new head", async () => {
    const pr = gh.addPr({ number: 47 });
    gh.mergeFailures.push({ status: 409, message: "Head branch was modified. Review and try the merge again." });
    await land.enqueue(octokit, request(47));
    await until(() => commentsOn(47).length === 1, 8000, "landed reply");
    expect(gh.calls.filter((c) => c.includes("/merge"))).toHaveLength(2);
    expect(gh.merges.map((m) => m.pr)).toEqual([47]);
    expect(commentsOn(47)[0]).toMatch(/^Landed as/);
    expect(pr.merged).toBe(true);
  });

  it("gives up after the deadline when checks never finish", async () => {
    const pr = gh.addPr({ number: 48 });
    gh.checks.set(pr.head, [{ name: "gpu", status: "in_progress", conclusion: null }]);
    await land.enqueue(octokit, request(48));
    await until(() => commentsOn(48).length === 1, 8000, "timeout reply");
    expect(commentsOn(48)[0]).toContain("Could not land #48 on `main`: gave up after");
    expect(commentsOn(48)[0]).toContain("waiting for check `gpu`");
  });

  it("lands two PRs strictly one at a time, in the order they were queued, with two worker processes", async () => {
    const first = gh.addPr({ number: 50 });
    const second = gh.addPr({ number: 51 });
    const firstHead = first.head;
    // Queue both before the worker can take the first.
    await Promise.all([land.enqueue(octokit, request(50)), new Promise((r) => setTimeout(r, 1))]);
    await land.enqueue(octokit, request(51));
    await until(() => commentsOn(51).length === 1 && commentsOn(50).length === 1, 8000, "both landed");
    expect(gh.merges.map((m) => m.pr)).toEqual([50, 51]);
    expect(gh.maxInFlight).toBe(1);
    // The worker did not look at #51 before #50 was merged (the enqueue's own GETs come first).
    const firstMerge = gh.calls.indexOf(`PUT /pulls/50/merge sha=${firstHead.slice(0, 8)} method=squash`);
    const workerLooksAt51 = gh.calls.map((c, i) => (c === "GET /pulls/51/reviews" ? i : -1)).filter((i) => i >= 0);
    expect(firstMerge).toBeGreaterThan(-1);
    expect(Math.min(...workerLooksAt51)).toBeGreaterThan(firstMerge);
    // #51's base moved when #50 landed, so it was updated before it merged.
    expect(gh.calls.filter((c) => c.startsWith("PUT /pulls/51"))).toEqual([
      expect.stringMatching(/^PUT \/pulls\/51\/update-branch/),
      `PUT /pulls/51/merge sha=${second.head.slice(0, 8)} method=squash`,
    ]);
  });

  it("enqueues a PR once when two land requests race", async () => {
    const pr = gh.addPr({ number: 52 });
    gh.checks.set(pr.head, [{ name: "gpu", status: "in_progress", conclusion: null }]);
    const replies = await Promise.all([land.enqueue(octokit, request(52)), land.enqueue(octokit, request(52, "merge"))]);
    const queue = await mainQueue();
    const jobs = await queue.getJobs(["active", "waiting", "delayed", "prioritized"]);
    expect(jobs.map((j) => j.id)).toEqual([landJobId(OWNER, REPO, 52)]);
    expect(replies.filter((r) => r.startsWith("Queued #52"))).toHaveLength(1);
    expect(replies.filter((r) => r.startsWith("#52 is already in the `main` land queue"))).toHaveLength(1);
    // Let it finish: green CI, then it lands exactly once.
    gh.checks.set(pr.head, [{ name: "gpu", status: "completed", conclusion: "success" }]);
    await until(() => commentsOn(52).length === 1, 8000, "landed reply");
    expect(gh.merges.map((m) => m.pr)).toEqual([52]);
    await queue.close();
  });

  it("cancel removes a queued land; the worker never looks at it", async () => {
    const head = gh.addPr({ number: 60 });
    gh.checks.set(head.head, [{ name: "gpu", status: "in_progress", conclusion: null }]);
    gh.addPr({ number: 61 });
    await land.enqueue(octokit, request(60));
    await land.enqueue(octokit, request(61));
    await until(() => gh.calls.includes("GET /pulls/60/reviews"), 8000, "worker on #60");
    expect(await land.cancel({ owner: OWNER, repo: REPO, pr: 61, requestedBy: "erin" })).toBe(
      "Removed #61 from the land queue (cancelled by @erin).",
    );
    expect(await land.cancel({ owner: OWNER, repo: REPO, pr: 61, requestedBy: "erin" })).toBeNull();
    // The head of the queue is waiting for CI between looks: cancelling it takes it out too.
    await until(async () => (await land.cancel({ owner: OWNER, repo: REPO, pr: 60, requestedBy: "erin" })) !== null, 8000, "cancel #60");
    const queue = await mainQueue();
    await until(async () => (await queue.getJobs(["active", "waiting", "delayed", "prioritized"])).length === 0, 8000, "empty queue");
    await new Promise((r) => setTimeout(r, 100));
    expect(gh.calls.filter((c) => c.includes("/pulls/61"))).toEqual(["GET /pulls/61"]); // the enqueue's own
    expect(gh.merges).toEqual([]);
    expect(commentsOn(60)).toEqual([]);
    await queue.close();
  });

  it("shows the revert history when a PR re-lands a reverted change", async () => {
    gh.addPr({ number: 70, title: "Reland #12: fused softmax rescale" });
    gh.checks.set(gh.prs.get(70)!.head, [{ name: "gpu", status: "in_progress", conclusion: null }]);
    reverts.set(70, [
      {
        pr: 12,
        sha: "1234567890abcdef1234567890abcdef12345678",
        revertPr: 15,
        reason: "2x slower | on H100",
        category: "perf",
        by: "sheriff[bot]",
        at: "2026-11-20T08:00:00Z",
      },
    ]);
    const reply = await land.enqueue(octokit, request(70));
    expect(reply).toContain("This PR re-lands a change that was reverted once:");
    expect(reply).toContain("| #12 (`1234567890ab`) | #15 | 2026-11-20 | sheriff[bot] | 2x slower \\| on H100 (perf) |");
    // Removed while it waits for CI, or stopped by the worker before merging: either way it ends.
    await until(
      async () => {
        const reply = await land.cancel({ owner: OWNER, repo: REPO, pr: 70, requestedBy: "alice" });
        return reply === null || reply.startsWith("Removed");
      },
      8000,
      "cancel #70",
    );
    expect(gh.merges).toEqual([]);
  });

  it("says so when the PR is already merged or closed", async () => {
    gh.addPr({ number: 80, merged: true, state: "closed" });
    gh.addPr({ number: 81, state: "closed" });
    expect(await land.enqueue(octokit, request(80))).toBe("#80 is already merged.");
    expect(await land.enqueue(octokit, request(81))).toBe("#81 is closed, so it cannot land.");
  });
});
