import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleIssueComment, type CommandActions, type CommandDeps } from "../../src/flows/commands.js";
import { createPermissionChecker } from "../../src/adapters/github/permissions.js";
import { createLandQueue } from "../../src/flows/landRequest.js";
import type { LandService } from "../../src/model/land.js";
import type { RedisHandle } from "../../src/adapters/store/redis.js";
import { API, REPO_PATH, blockNetwork, cleanupRedis, commentPayload, testOctokit, testRedis } from "./landHelpers.js";
import { silentLog } from "../../src/model/log.js";
import { GITHUB_COMMENT_LIMIT } from "../../src/core/commands/reply.js";

let handle: RedisHandle;
let land: LandService;
let calls: string[];
let replies: string[];

function actions(explain = "Nothing to explain."): CommandActions {
  const record = (action: string, result: string | null) => async (): Promise<any> => {
    calls.push(action);
    return result;
  };
  return {
    revert: record("revert", "Reverting."),
    rerun: record("rerun", "Queued 1 GPU job."),
    bisect: record("bisect", "Bisecting."),
    rebaseline: record("rebaseline", "Rebaselined."),
    explain: record("explain", explain),
    cancel: record("cancel", null),
    pause: record("pause", "Paused."),
    resume: record("resume", "Resumed."),
    pauseStatus: async () => "Automatic reverts are not paused on this repository.",
  };
}

function deps(overrides: Partial<CommandDeps> = {}): CommandDeps {
  return {
    octokit: testOctokit(),
    redis: handle,
    slug: "sheriff",
    permissions: createPermissionChecker({ redis: handle, ttlSeconds: 60 }),
    actions: actions(),
    land,
    log: silentLog,
    ...overrides,
  };
}

function expectReply(): void {
  nock(API)
    .post(`${REPO_PATH}/issues/42/comments`)
    .reply(201, (_uri, body) => {
      const text = (body as { body: string }).body;
      // GitHub's own rule: a longer body is refused and nobody hears anything.
      if (text.length > GITHUB_COMMENT_LIMIT) return [422, { message: "body is too long (maximum is 65536 characters)" }];
      replies.push(text);
      return { id: 7000 + replies.length };
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

describe("handleIssueComment within limits", () => {
  it("runs nothing for a comment of 1,000 commands and answers once, without asking GitHub anything else", async () => {
    const payload = commentPayload(Array.from({ length: 1000 }, () => "@sheriff rerun").join("\n"), { login: "maint" });
    expectReply();
    const outcome = await handleIssueComment(deps(), payload);
    expect(outcome).toMatchObject({ status: "too-many-commands", count: 1000 });
    expect(calls).toEqual([]);
    expect(replies).toEqual([
      "@maint This comment gives 1000 `@sheriff` commands; one comment may give at most 10, so I did nothing. Split them over several comments.",
    ]);
  });

  it("still runs ten commands", async () => {
    const payload = commentPayload(Array.from({ length: 10 }, () => "@sheriff explain").join("\n"), { login: "maint" });
    nock(API).post(`${REPO_PATH}/issues/comments/${payload.comment.id}/reactions`).reply(201, { id: 1, content: "eyes" });
    expectReply();
    await handleIssueComment(deps(), payload);
    expect(calls).toHaveLength(10);
  });

  it("truncates a 1.9 MB reply to fit in one comment, with a note", async () => {
    const payload = commentPayload("@sheriff explain", { login: "maint" });
    nock(API).post(`${REPO_PATH}/issues/comments/${payload.comment.id}/reactions`).reply(201, { id: 1, content: "eyes" });
    expectReply();
    await handleIssueComment(deps({ actions: actions(`What Sheriff did:\n${"- a line of the timeline\n".repeat(76_000)}`) }), payload);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(replies[0]).toMatch(/^@maint What Sheriff did:/);
    expect(replies[0]).toMatch(/Reply truncated to fit GitHub's limit/);
  });

  it("echoes a short piece of a 100 KB reason in the syntax error", async () => {
    const payload = commentPayload(`@sheriff revert -m "${"why ".repeat(25_000)}"`, { login: "maint" });
    expectReply();
    const outcome = await handleIssueComment(deps(), payload);
    expect(outcome.status).toBe("syntax-error");
    expect(calls).toEqual([]);
    expect(replies[0]!.length).toBeLessThan(10_000);
    expect(replies[0]).toContain("the reason is longer than 1000 characters");
  });
});
