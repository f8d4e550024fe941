import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLandQueue } from "../../src/flows/landRequest.js";
import type { LandService, RevertHistory } from "../../src/model/land.js";
import { createLandWorker, type LandWorker } from "../../src/flows/land.js";
import type { RedisHandle } from "../../src/adapters/store/redis.js";
import { FakeGitHub, OWNER, REPO, blockNetwork, cleanupRedis, testOctokit, testRedis, until } from "./landHelpers.js";

/** Whose approvals let `@sheriff land` merge: people with write permission, on the latest push where protection says so. */

const octokit = testOctokit();
let handle: RedisHandle;
let land: LandService;
let worker: LandWorker;
let gh: FakeGitHub;
const history: RevertHistory = { historyFor: async () => [] };

const request = (pr: number) => ({
  owner: OWNER,
  repo: REPO,
  pr,
  method: "squash" as const,
  requestedBy: "alice",
  installationId: 55501234,
});
const commentsOn = (pr: number) => gh.comments.filter((c) => c.pr === pr).map((c) => c.body);
const merged = (pr: number) => gh.merges.some((m) => m.pr === pr);

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
  await worker.start();
});

afterAll(async () => {
  await worker.close();
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

async function landAndWait(pr: number): Promise<string> {
  await land.enqueue(octokit, request(pr));
  await worker.refresh();
  await until(() => commentsOn(pr).length === 1, 8000, `the reply on #${pr}`);
  return commentsOn(pr)[0]!;
}

describe("land counts approvals only from people with write permission", () => {
  it("does not merge a PR approved only by a read-only user", async () => {
    gh.permissions.set("rita", "read");
    gh.addPr({ number: 70, reviews: [{ login: "rita", state: "APPROVED" }] });
    expect(await landAndWait(70)).toContain(
      "Could not land #70 on `main`: not approved by anyone with write permission (@rita has no write permission).",
    );
    expect(merged(70)).toBe(false);
  });

  it("does not merge a PR approved only by someone who is no collaborator (a public repository's passer-by)", async () => {
    gh.permissions.set("passerby", null);
    gh.permissions.set("tri", "triage");
    gh.addPr({
      number: 71,
      reviews: [
        { login: "passerby", state: "APPROVED" },
        { login: "tri", state: "APPROVED" },
      ],
    });
    expect(await landAndWait(71)).toContain("not approved by anyone with write permission (@passerby, @tri have no write permission)");
    expect(merged(71)).toBe(false);
  });

  it("merges when a maintainer approved next to a read-only user", async () => {
    gh.permissions.set("rita", "read");
    gh.permissions.set("max", "maintain");
    gh.addPr({
      number: 72,
      reviews: [
        { login: "rita", state: "APPROVED" },
        { login: "max", state: "APPROVED" },
      ],
    });
    expect(await landAndWait(72)).toMatch(/^Landed as `/);
    expect(merged(72)).toBe(true);
  });
});

describe("stale approvals follow the branch protection", () => {
  const old = "0".repeat(40);

  it("an approval given before the latest push does not count when the protection dismisses stale reviews", async () => {
    gh.dismissStaleReviews = true;
    gh.addPr({
      number: 73,
      reviews: [
        { login: "carol", state: "APPROVED", commitId: old },
        { login: "rita", state: "COMMENTED" },
      ],
    });
    expect(await landAndWait(73)).toContain(
      "not approved by anyone with write permission (@carol approved before the latest push, and this branch dismisses stale approvals)",
    );
    expect(merged(73)).toBe(false);
  });

  it("an approval of the latest push counts when stale reviews are dismissed", async () => {
    gh.dismissStaleReviews = true;
    gh.addPr({ number: 74, reviews: [{ login: "carol", state: "APPROVED", commitId: old }] });
    gh.prs.get(74)!.reviews.push({ login: "carol", state: "APPROVED" });
    expect(await landAndWait(74)).toMatch(/^Landed as `/);
  });

  it("an older approval still counts where the protection keeps stale reviews", async () => {
    gh.addPr({ number: 75, reviews: [{ login: "carol", state: "APPROVED", commitId: old }] });
    expect(await landAndWait(75)).toMatch(/^Landed as `/);
  });
});
