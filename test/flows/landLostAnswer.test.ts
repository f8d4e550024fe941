import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLandWorker, type LandWorker } from "../../src/flows/land.js";
import { createLandQueue } from "../../src/flows/landRequest.js";
import type { LandService } from "../../src/model/land.js";
import { harness, type Harness } from "../dev/sandbox/helpers.js";
import { testRedis } from "../helpers/redis.js";

const repo = { owner: "acme", repo: "kernels" };

/**
 * The land worker against the GitHub stand-in when GitHub acts but its answer never arrives (a
 * timeout, a proxy's 502 after the merge went through): the retry must see its own merge.
 */
describe("landing when GitHub's answer is lost", () => {
  let h: Harness;
  let store: ReturnType<typeof testRedis>;
  let land: LandService;
  let worker: LandWorker;
  /** Requests (by Octokit route template) that GitHub carries out and whose answer is then replaced by a 502, once each. */
  const loseAnswerOf: { method: string; url: RegExp }[] = [];

  beforeEach(async () => {
    h = await harness();
    await h.sb.createRepo(repo.owner, repo.repo, { installationId: 7, files: { "README.md": "hi\n" } });
    h.app.hook.after("request", (_response, options) => {
      const at = loseAnswerOf.findIndex((l) => l.method === options.method && l.url.test(options.url));
      if (at < 0) return;
      loseAnswerOf.splice(at, 1);
      throw Object.assign(new Error(`answer of ${options.method} ${options.url} lost`), { status: 502 });
    });
    store = testRedis("land-lost-answer");
    land = createLandQueue({ redis: store });
    worker = createLandWorker({
      redis: store,
      slug: "sheriff-test",
      octokitFor: async () => h.app,
      timing: { pollIntervalMs: 100, discoverIntervalMs: 100 },
    });
    await worker.start();
  });

  afterEach(async () => {
    await worker.close();
    await land.close();
    await store.cleanup();
    await h.close();
    loseAnswerOf.length = 0;
  });

  /** Alice's PR with one commit, approved by Carol (both with write permission). */
  async function approvedPull(): Promise<number> {
    const alice = h.sb.addUser("alice", { permissions: { "acme/kernels": "write" } });
    const carol = h.sb.addUser("carol", { permissions: { "acme/kernels": "write" } });
    const wc = await h.clone(repo.owner, repo.repo, alice.token, "alice");
    await h.git(wc, "checkout", "-q", "-b", "faster-convert");
    h.write(wc, "kernels/convert.cu", "v2\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "Faster conversion");
    await h.git(wc, "push", "-q", "origin", "faster-convert");
    const pr = (await h.user(alice.token).rest.pulls.create({ ...repo, head: "faster-convert", base: "main", title: "Faster conversion" }))
      .data;
    await h.user(carol.token).rest.pulls.createReview({ ...repo, pull_number: pr.number, event: "APPROVE" });
    return pr.number;
  }

  async function commentsOn(pr: number): Promise<string[]> {
    const listed = await h.app.paginate(h.app.rest.issues.listComments, { ...repo, issue_number: pr, per_page: 100 });
    return listed.map((c) => c.body ?? "");
  }

  async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 40_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("reports its own merge as landed, once, when the answers of the merge and of the report are lost", async () => {
    const pr = await approvedPull();
    loseAnswerOf.push(
      { method: "PUT", url: /\/pulls\/\{pull_number\}\/merge$/ },
      { method: "POST", url: /\/issues\/\{issue_number\}\/comments$/ },
    );
    await land.enqueue(h.app, { ...repo, pr, method: "squash", requestedBy: "alice", installationId: 7 });
    await worker.refresh();

    const merged = await until("the merge", async () => {
      const { data } = await h.app.rest.pulls.get({ ...repo, pull_number: pr });
      return data.merged ? data : null;
    });
    // Two retries: the first finds its merge and posts the report (answer lost), the second finds the report.
    await until(
      "both lost answers to be retried",
      async () => loseAnswerOf.length === 0 && (await store.redis.keys(`${store.prefix}:land:job:*`)).length === 0,
    );
    const comments = await commentsOn(pr);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain(`Landed as \`${merged.merge_commit_sha}\` by @alice (squash into \`main\`).`);
    expect(comments.join("\n")).not.toContain("Could not land");
    const { data: main } = await h.app.rest.repos.getBranch({ ...repo, branch: "main" });
    expect(main.commit.sha).toBe(merged.merge_commit_sha);
  }, 60_000);
});
