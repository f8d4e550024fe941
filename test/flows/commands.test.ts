import nock from "nock";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleIssueComment, type CommandActions, type CommandDeps } from "../../src/flows/commands.js";
import { createPermissionChecker } from "../../src/adapters/github/permissions.js";
import { landJobId, landQueueName } from "../../src/adapters/queue/land.js";
import { createLandQueue } from "../../src/flows/landRequest.js";
import type { LandService } from "../../src/model/land.js";
import type { RedisHandle } from "../../src/adapters/store/redis.js";
import { API, OWNER, REPO, REPO_PATH, blockNetwork, cleanupRedis, commentPayload, fixture, testOctokit, testRedis } from "./landHelpers.js";
import { silentLog } from "../../src/model/log.js";

let handle: RedisHandle;
let land: LandService;
let calls: { action: string; req: Record<string, unknown> }[];
let replies: string[];

/** Recording stand-ins for the lead's actions (the real ones live outside this module). */
function recordingActions(overrides: Partial<CommandActions> = {}): CommandActions {
  const record =
    (action: string, result: string | null) =>
    async (req: object): Promise<any> => {
      const { octokit: _octokit, ...rest } = req as Record<string, unknown>;
      calls.push({ action, req: rest });
      return result;
    };
  return {
    revert: record("revert", "Opened revert PR #99."),
    rerun: record("rerun", "Queued 2 GPU jobs."),
    bisect: record("bisect", "Bisecting 12 commits."),
    rebaseline: record("rebaseline", "Rebaselined `half-precision`."),
    explain: record("explain", "Sheriff reverted nothing here: every suite passed."),
    pause: record("pause", "Automatic reverts are paused."),
    resume: record("resume", "Automatic reverts are on again."),
    pauseStatus: async () => "Automatic reverts are not paused on this repository.",
    cancel: record("cancel", null),
    ...overrides,
  };
}

function deps(overrides: Partial<CommandDeps> = {}): CommandDeps {
  return {
    octokit: testOctokit(),
    redis: handle,
    slug: "sheriff",
    permissions: createPermissionChecker({ redis: handle, ttlSeconds: 60 }),
    actions: recordingActions(),
    land,
    log: silentLog,
    ...overrides,
  };
}

const api = () => nock(API);
function expectPermission(login: string, roleName: string | null, permission = "read", status = 200): void {
  api()
    .get(`${REPO_PATH}/collaborators/${login}/permission`)
    .reply(status, status === 200 ? { permission, role_name: roleName, user: { login } } : { message: "Not Found" });
}
function expectEyes(commentId: number): void {
  api().post(`${REPO_PATH}/issues/comments/${commentId}/reactions`, { content: "eyes" }).reply(201, { id: 1, content: "eyes" });
}
function expectReply(issue = 42): void {
  api()
    .post(`${REPO_PATH}/issues/${issue}/comments`)
    .reply(201, (_uri, body) => {
      replies.push((body as { body: string }).body);
      return { id: 5000 + replies.length };
    });
}
function expectPull(pr = 42, extra: Record<string, unknown> = {}): void {
  api()
    .get(`${REPO_PATH}/pulls/${pr}`)
    .reply(200, {
      number: pr,
      state: "open",
      merged: false,
      title: `PR ${pr}`,
      body: "",
      user: { login: "bob" },
      base: { ref: "main" },
      head: { sha: "a".repeat(40) },
      ...extra,
    });
}

beforeAll(() => {
  blockNetwork();
  handle = testRedis();
  land = createLandQueue({ redis: handle });
});

afterAll(async () => {
  await land.close();
  await cleanupRedis(handle);
  nock.enableNetConnect();
});

beforeEach(() => {
  calls = [];
  replies = [];
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("handleIssueComment", () => {
  it("anyone may ask for help: no permission lookup, eyes, then the help", async () => {
    const payload = commentPayload("@sheriff help", { login: "mallory" });
    expectEyes(payload.comment.id);
    expectReply();
    const outcome = await handleIssueComment(deps(), payload);
    expect(outcome.status).toBe("handled");
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^@mallory \n\n\*\*Sheriff commands\.\*\*/);
    expect(replies[0]).toContain('| `@sheriff revert -m "<reason>" [-c <category>]` |');
    expect(nock.isDone()).toBe(true);
  });

  it("anyone may ask for an explanation", async () => {
    const payload = commentPayload("@sheriff explain", { login: "mallory" });
    expectEyes(payload.comment.id);
    expectReply();
    await handleIssueComment(deps(), payload);
    expect(calls).toEqual([
      {
        action: "explain",
        req: {
          owner: OWNER,
          repo: REPO,
          pr: 42,
          requestedBy: "mallory",
          installationId: 55501234,
          commentId: payload.comment.id,
          defaultBranch: "main",
        },
      },
    ]);
    expect(replies).toEqual(["@mallory Sheriff reverted nothing here: every suite passed."]);
    expect(nock.isDone()).toBe(true);
  });

  it("refuses a revert from a read-only user politely and calls no action", async () => {
    const payload = commentPayload('@sheriff revert -m "too slow"', { login: "reader" });
    expectPermission("reader", "read", "read");
    expectReply();
    const outcome = await handleIssueComment(deps(), payload);
    expect(outcome).toMatchObject({ status: "handled", results: [{ outcome: "refused" }] });
    expect(calls).toEqual([]);
    expect(replies).toEqual([
      "@reader Sorry, `revert` needs write access to gpu-lab/kernels, and you have read access. Ask a maintainer to run it for you.",
    ]);
    expect(nock.isDone()).toBe(true);
  });

  it("treats triage as read and a 404 as no access", async () => {
    const a = commentPayload("@sheriff cancel", { login: "triager" });
    expectPermission("triager", "triage", "read");
    expectReply();
    await handleIssueComment(deps(), a);
    const b = commentPayload("@sheriff land", { login: "ghost" });
    expectPermission("ghost", null, "none", 404);
    expectReply();
    await handleIssueComment(deps(), b);
    expect(calls).toEqual([]);
    expect(replies[0]).toContain("you have read access");
    expect(replies[1]).toContain("`land` needs write access to gpu-lab/kernels, and you have no access");
    expect(nock.isDone()).toBe(true);
  });

  it("runs a revert for a maintainer, with eyes first and the result in the reply; the permission is cached", async () => {
    const first = commentPayload('@sheriff revert -m "2x slower on H100" -c perf', { login: "maint" });
    expectPermission("maint", "maintain", "write");
    expectEyes(first.comment.id);
    expectReply();
    await handleIssueComment(deps(), first);
    // Second command within the TTL: no second permission lookup.
    const second = commentPayload("@sheriff rebaseline half-precision -m 'intended'", { login: "maint" });
    expectEyes(second.comment.id);
    expectReply();
    await handleIssueComment(deps(), second);
    expect(calls.map((c) => [c.action, c.req.reason, c.req.category ?? c.req.suite])).toEqual([
      ["revert", "2x slower on H100", "perf"],
      ["rebaseline", "intended", "half-precision"],
    ]);
    expect(replies).toEqual(["@maint Opened revert PR #99.", "@maint Rebaselined `half-precision`."]);
    expect(nock.isDone()).toBe(true);
  });

  it("ignores other bots and its own comments, without any GitHub call", async () => {
    const self = fixture("bot-comment-created.json");
    expect(await handleIssueComment(deps(), self)).toEqual({ status: "ignored", reason: "bot" });
    const dependabot = commentPayload("@sheriff land", { login: "dependabot[bot]" });
    expect(await handleIssueComment(deps(), dependabot)).toEqual({ status: "ignored", reason: "bot" });
    const typed = commentPayload("@sheriff land");
    typed.sender.type = "Bot";
    expect(await handleIssueComment(deps(), typed)).toEqual({ status: "ignored", reason: "bot" });
    expect(calls).toEqual([]);
  });

  it("does not run edited (or deleted) comments", async () => {
    const edited = fixture("pr-comment-edited.json");
    expect(await handleIssueComment(deps(), edited)).toEqual({ status: "ignored", reason: "not-created" });
    expect(await handleIssueComment(deps(), { ...edited, action: "deleted" })).toEqual({ status: "ignored", reason: "not-created" });
    expect(calls).toEqual([]);
  });

  it("does a redelivered webhook once", async () => {
    const payload = commentPayload("@sheriff rerun varlen-attention", { login: "maint2" });
    expectPermission("maint2", "write", "write");
    expectEyes(payload.comment.id);
    expectReply();
    const [a, b] = await Promise.all([handleIssueComment(deps(), payload), handleIssueComment(deps(), structuredClone(payload))]);
    const c = await handleIssueComment(deps(), structuredClone(payload));
    expect([a.status, b.status].sort()).toEqual(["handled", "ignored"]);
    expect(c).toEqual({ status: "ignored", reason: "duplicate" });
    expect(calls).toHaveLength(1);
    expect(replies).toHaveLength(1);
    expect(nock.isDone()).toBe(true);
  });

  it("gives the comment back when GitHub fails before anything ran, so a redelivery retries", async () => {
    const payload = commentPayload("@sheriff rerun", { login: "flaky" });
    api().get(`${REPO_PATH}/collaborators/flaky/permission`).reply(500, { message: "Server Error" });
    await expect(handleIssueComment(deps(), payload)).rejects.toMatchObject({ status: 500 });
    expect(calls).toEqual([]);
    expectPermission("flaky", "write", "write");
    expectEyes(payload.comment.id);
    expectReply();
    expect((await handleIssueComment(deps(), structuredClone(payload))).status).toBe("handled");
    expect(calls.map((c) => c.action)).toEqual(["rerun"]);
    expect(nock.isDone()).toBe(true);
  });

  it("answers a syntax error with what was wrong and the help, and runs nothing from that comment", async () => {
    const payload = commentPayload("@sheriff explain\n@sheriff land --squash --rebase", { login: "maint" });
    expectReply();
    const outcome = await handleIssueComment(deps(), payload);
    expect(outcome.status).toBe("syntax-error");
    expect(calls).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain("@maint I could not understand a command in this comment, so I did nothing:");
    expect(replies[0]).toContain(
      "- line 2, `@sheriff land --squash --rebase`: `land` takes one of --squash, --merge, --rebase, not both --squash and --rebase.",
    );
    expect(replies[0]).toContain("<details><summary>Help</summary>");
    expect(replies[0]).toContain("| `@sheriff bisect <good>..<bad> [--suite <name>]` |");
    expect(nock.isDone()).toBe(true);
  });

  it("does nothing at all for a comment without commands (not even Redis)", async () => {
    const payload = commentPayload("LGTM\n```\n@sheriff land\n```\n> @sheriff revert -m x");
    expect(await handleIssueComment(deps(), payload)).toEqual({ status: "ignored", reason: "no-commands" });
    expect(await handle.redis.exists(handle.key("commands", "comment", String(payload.comment.id)))).toBe(0);
  });

  it("rejects a payload that is not an issue_comment", async () => {
    const outcome = await handleIssueComment(deps(), { action: "created", comment: { id: "x" } });
    expect(outcome).toMatchObject({ status: "ignored", reason: "invalid-payload" });
  });

  it("answers several commands in one reply, one eyes reaction, in order", async () => {
    const payload = commentPayload(
      "Thanks!\n@sheriff rerun index-reduce\n@sheriff bisect 1a2b3c4..9f8e7d6 --suite index-reduce\n@sheriff help",
      {
        login: "maint",
      },
    );
    expectEyes(payload.comment.id);
    expectReply();
    await handleIssueComment(deps(), payload);
    expect(calls.map((c) => c.action)).toEqual(["rerun", "bisect"]);
    expect(calls[1]!.req).toMatchObject({ good: "1a2b3c4", bad: "9f8e7d6", suite: "index-reduce" });
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(
      /^@maint\n- \*\*`rerun`\*\*: Queued 2 GPU jobs\.\n- \*\*`bisect`\*\*: Bisecting 12 commits\.\n- \*\*`help`\*\*: \n {2}\n {2}\*\*Sheriff commands/,
    );
    expect(nock.isDone()).toBe(true);
  });

  it("reports an action that throws as failed", async () => {
    const payload = commentPayload("@sheriff rerun", { login: "maint" });
    expectEyes(payload.comment.id);
    expectReply();
    const outcome = await handleIssueComment(
      deps({ actions: recordingActions({ rerun: async () => Promise.reject(new Error("no GPU runner is registered")) }) }),
      payload,
    );
    expect(outcome).toMatchObject({ status: "handled", results: [{ outcome: "failed" }] });
    expect(replies).toEqual(["@maint `rerun` failed: no GPU runner is registered"]);
    expect(nock.isDone()).toBe(true);
  });

  it("only helps on plain issues", async () => {
    const payload = commentPayload("@sheriff revert -m x\n@sheriff help", { login: "maint", fixtureName: "issue-comment-created.json" });
    expectEyes(payload.comment.id);
    expectReply(43);
    await handleIssueComment(deps(), payload);
    expect(calls).toEqual([]);
    expect(replies[0]).toContain("- **`revert`**: `revert` works on pull requests only; #43 is an issue.");
    expect(replies[0]).toContain("**Sheriff commands.**");
    expect(nock.isDone()).toBe(true);
  });

  it("takes pause and resume from writers on issues too, and ends the help with the pause state", async () => {
    const payload = commentPayload('@sheriff pause -m "driver rollout"\n@sheriff resume\n@sheriff help', {
      login: "keeper",
      fixtureName: "issue-comment-created.json",
    });
    expectPermission("keeper", "maintain", "write");
    expectEyes(payload.comment.id);
    expectReply(43);
    await handleIssueComment(deps(), payload);
    expect(calls.map((c) => [c.action, c.req.reason, c.req.requestedBy, c.req.pr])).toEqual([
      ["pause", "driver rollout", "keeper", 43],
      ["resume", undefined, "keeper", 43],
    ]);
    expect(replies[0]).toContain("- **`pause`**: Automatic reverts are paused.");
    expect(replies[0]).toMatch(/\*\*Sheriff commands\.\*\*[\s\S]*Automatic reverts are not paused on this repository\.$/);
    expect(nock.isDone()).toBe(true);
  });

  it("refuses pause and resume to readers", async () => {
    const payload = commentPayload('@sheriff pause -m "stop it"\n@sheriff resume', { login: "reader-rae" });
    expectPermission("reader-rae", "read");
    expectReply();
    await handleIssueComment(deps(), payload);
    expect(calls).toEqual([]);
    expect(replies[0]).toContain("Sorry, `pause` needs write access");
    expect(replies[0]).toContain("Sorry, `resume` needs write access");
  });

  it("queues a PR once when two land comments race", async () => {
    const a = commentPayload("@sheriff land", { login: "lander", pr: 101 });
    const b = commentPayload("@sheriff land --merge", { login: "lander", pr: 101 });
    expectPermission("lander", "admin", "admin");
    expectPull(101);
    expectPull(101);
    expectEyes(a.comment.id);
    expectEyes(b.comment.id);
    expectReply(101);
    expectReply(101);
    // Warm the permission cache so the race is about the queue, not the lookup.
    await createPermissionChecker({ redis: handle }).permissionOf(testOctokit(), OWNER, REPO, "lander");
    await Promise.all([handleIssueComment(deps(), a), handleIssueComment(deps(), b)]);
    const queue = new Queue(landQueueName(OWNER, REPO, "main"), { connection: handle.redis, prefix: handle.prefix });
    const jobs = await queue.getJobs(["waiting", "active", "delayed", "prioritized"]);
    expect(jobs.map((j) => j.id)).toEqual([landJobId(OWNER, REPO, 101)]);
    expect(replies.filter((r) => r.startsWith("@lander Queued #101 to land on `main`"))).toHaveLength(1);
    expect(replies.filter((r) => r.startsWith("@lander #101 is already in the `main` land queue"))).toHaveLength(1);
    expect(nock.isDone()).toBe(true);

    // cancel takes it out of the queue and also cancels the lead's pending work.
    const c = commentPayload("@sheriff cancel", { login: "lander", pr: 101 });
    expectEyes(c.comment.id);
    expectReply(101);
    await handleIssueComment(deps({ actions: recordingActions({ cancel: async () => "Cancelled 1 bisection." }) }), c);
    expect(replies[2]).toBe("@lander Removed #101 from the land queue (cancelled by @lander). Cancelled 1 bisection.");
    expect(await queue.getJobs(["waiting", "active", "delayed", "prioritized"])).toEqual([]);
    // And with nothing left, cancel says so.
    const d = commentPayload("@sheriff cancel", { login: "lander", pr: 101 });
    expectEyes(d.comment.id);
    expectReply(101);
    await handleIssueComment(deps(), d);
    expect(replies[3]).toBe("@lander Nothing to cancel for #101.");
    await queue.close();
    expect(nock.isDone()).toBe(true);
  });
});
