import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigCache } from "../../src/adapters/github/config.js";
import { RepoCache } from "../../src/adapters/git/git.js";
import { Queues } from "../../src/adapters/queue/queues.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { decide } from "../../src/core/verdict/engine.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { revertCulprit } from "../../src/flows/revert.js";
import type { RevertJob } from "../../src/model/jobs.js";
import type { RevertRecord } from "../../src/model/ledger.js";
import type { RepoRef } from "../../src/model/repo.js";
import { harness, type Harness } from "../dev/sandbox/helpers.js";
import { testDatabase } from "../helpers/database.js";
import { testRedis } from "../helpers/redis.js";

const repo = { owner: "acme", repo: "kernels" };
const KEY = "acme/kernels";
const CONFIG = `policy: { autoRevert: "on" }
suites:
  - { name: convert, kind: command, command: "true", paths: ["kernels/**"] }
`;
const HOUR = 3600_000;

/**
 * The revert step against the GitHub stand-in, with real git, PostgreSQL and Redis: the limits on
 * automatic reverts, and every GitHub effect once when GitHub's answers are lost and the step is
 * retried as BullMQ retries it.
 */
describe("the revert step's limits and exactly-once effects", () => {
  let h: Harness;
  let ref: RepoRef;
  let deps: PipelineDeps;
  /** How far the ledger's clock runs ahead of the stand-in's (a verdict long after the merge). */
  let clockAhead = 0;
  const cleanups: (() => Promise<void> | void)[] = [];
  /** Requests (by Octokit route template) that GitHub carries out and whose answer is then replaced by a 502, once each. */
  const loseAnswerOf: { method: string; url: RegExp }[] = [];
  const users: Record<string, { token: string }> = {};

  beforeEach(async () => {
    clockAhead = 0;
    h = await harness();
    const created = await h.sb.createRepo(repo.owner, repo.repo, {
      installationId: 7,
      files: { ".github/sheriff.yml": CONFIG, "kernels/convert.cu": "v1\n" },
    });
    ref = { ...repo, installationId: 7, cloneUrl: created.cloneUrl, branch: "main" };
    for (const login of ["alice", "carol", "dave"]) users[login] = h.sb.addUser(login, { permissions: { [KEY]: "write" } });
    h.app.hook.after("request", (_response, options) => {
      const at = loseAnswerOf.findIndex((l) => l.method === options.method && l.url.test(options.url));
      if (at < 0) return;
      loseAnswerOf.splice(at, 1);
      throw Object.assign(new Error(`answer of ${options.method} ${options.url} lost`), { status: 502 });
    });
    const store = testRedis("revert-limits");
    const db = await testDatabase("revert-limits");
    const workDir = mkdtempSync(join(tmpdir(), "sheriff-revert-"));
    const queues = new Queues(store);
    deps = {
      access: { forInstallation: async () => ({ octokit: h.app, token: h.sb.installationToken(7) }), appSlug: async () => "sheriff-test" },
      configs: new ConfigCache(),
      ledger: new Ledger(db, () => new Date(Date.now() + clockAhead)),
      queues,
      cache: new RepoCache(workDir),
      engine: decide,
      log: pino({ level: "silent" }),
      parallelism: 1,
    };
    cleanups.push(async () => {
      await queues.close();
      await store.cleanup();
      await db.cleanup();
      rmSync(workDir, { recursive: true, force: true });
      await h.close();
    });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
    loseAnswerOf.length = 0;
  });

  /** A PR by `login` changing `kernels/convert.cu`, merged (squash); its number and the commit it landed as. */
  async function landPull(login: string, branch: string, content: string, labels: string[] = []): Promise<{ pr: number; sha: string }> {
    const wc = await h.clone(repo.owner, repo.repo, users[login]!.token, login);
    await h.git(wc, "checkout", "-q", "-b", branch);
    h.write(wc, "kernels/convert.cu", content);
    await h.git(wc, "commit", "-q", "-am", `Conversion ${content.trim()}`);
    await h.git(wc, "push", "-q", "origin", branch);
    const asUser = h.user(users[login]!.token);
    const { data: pull } = await asUser.rest.pulls.create({ ...repo, head: branch, base: "main", title: `Conversion ${content.trim()}` });
    if (labels.length) await asUser.rest.issues.addLabels({ ...repo, issue_number: pull.number, labels });
    const { data: merged } = await asUser.rest.pulls.merge({ ...repo, pull_number: pull.number, merge_method: "squash" });
    return { pr: pull.number, sha: merged.sha };
  }

  /** The culprit as the analysis leaves it: landed in the ledger with a regression verdict of `convert`. */
  async function confirmedCulprit(sha: string, title: string): Promise<RevertJob> {
    await deps.ledger.recordCommits(KEY, "main", [
      { sha, parent: "0".repeat(40), title, author: "alice", suites: ["convert"], isRevert: false },
    ]);
    await deps.ledger.recordVerdict(KEY, {
      type: "regression",
      suite: "convert",
      kind: "correctness",
      culprit: sha,
      lastGood: sha,
      failingTests: [{ name: "convert/bf16", message: "off by one ulp" }],
      benchmarks: [],
      summary: `${sha.slice(0, 7)} breaks convert/bf16`,
    });
    return { type: "revert", repo: ref, suite: "convert", culprit: sha, configSha: sha };
  }

  /** Runs the step until it returns, as BullMQ's five attempts would; the errors of the failed attempts. */
  async function retried(job: RevertJob): Promise<{ record: RevertRecord; errors: string[] }> {
    const errors: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return { record: await revertCulprit(deps, job), errors };
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new Error(`the revert step failed five times: ${errors.join("; ")}`);
  }

  async function commentsOn(pr: number): Promise<string[]> {
    const listed = await h.app.paginate(h.app.rest.issues.listComments, { ...repo, issue_number: pr, per_page: 100 });
    return listed.map((c) => c.body ?? "");
  }

  async function openRevertPulls(): Promise<{ number: number; head: string; author: string }[]> {
    const listed = await h.app.paginate(h.app.rest.pulls.list, { ...repo, state: "open", per_page: 100 });
    return listed.map((p) => ({ number: p.number, head: p.head.ref, author: p.user?.login ?? "" }));
  }

  it("opens one revert PR and tells the author once when the answers of the PR, its label and the comment are lost", async () => {
    const { pr, sha } = await landPull("alice", "bf16", "v2\n");
    const job = await confirmedCulprit(sha, "Conversion v2");
    loseAnswerOf.push(
      { method: "POST", url: /\/repos\/\{owner\}\/\{repo\}\/pulls$/ },
      { method: "POST", url: /\/issues\/\{issue_number\}\/labels$/ },
      { method: "POST", url: /\/issues\/\{issue_number\}\/comments$/ },
    );
    const { record, errors } = await retried(job);

    expect(errors).toHaveLength(3);
    expect(record).toMatchObject({ outcome: "pr-opened", reason: "autoRevert is on", originalPr: pr });
    const reverts = await openRevertPulls();
    expect(reverts).toEqual([{ number: record.revertPr, head: `sheriff/revert-${sha.slice(0, 7)}`, author: "sheriff-test[bot]" }]);
    const told = await commentsOn(pr);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`@alice Sheriff found that this PR's commit ${sha.slice(0, 7)} regressed \`convert\``);
    expect(told[0]).toContain(`opened #${record.revertPr}`);
    const { data: labels } = await h.app.rest.issues.listLabelsOnIssue({ ...repo, issue_number: record.revertPr! });
    expect(labels.map((l) => l.name)).toEqual(["sheriff:revert"]);
    expect(await deps.ledger.revertsToday(KEY)).toBe(1);

    // A redelivered job after the record changes nothing on GitHub.
    await revertCulprit(deps, job);
    expect(await commentsOn(pr)).toHaveLength(1);
    expect(await openRevertPulls()).toHaveLength(1);
  }, 60_000);

  it("holds an automatic revert back while paused, and says who paused it and why, once", async () => {
    const { pr, sha } = await landPull("alice", "bf16", "v2\n");
    await deps.ledger.recordRevertPause(KEY, { paused: true, reason: "driver rollout", by: "carol", at: new Date().toISOString() });
    const job = await confirmedCulprit(sha, "Conversion v2");
    loseAnswerOf.push({ method: "POST", url: /\/issues\/\{issue_number\}\/comments$/ });
    const { record } = await retried(job);

    expect(record).toMatchObject({ outcome: "commented", reason: expect.stringContaining("paused on this repository by @carol") });
    expect(await openRevertPulls()).toEqual([]);
    const told = await commentsOn(pr);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("No revert PR was opened: automatic reverts are paused on this repository by @carol");
    expect(told[0]).toContain("driver rollout");
    expect(told[0]).toContain("breaks convert/bf16");
    expect(await deps.ledger.revertsToday(KEY)).toBe(0);
  }, 60_000);

  it("says why on the commit itself, once, when the culprit landed without a PR", async () => {
    const wc = await h.clone(repo.owner, repo.repo, users.alice!.token, "alice");
    h.write(wc, "kernels/convert.cu", "pushed\n");
    await h.git(wc, "commit", "-q", "-am", "Push a conversion straight to main");
    await h.git(wc, "push", "-q", "origin", "HEAD:main");
    const sha = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await deps.ledger.recordRevertPause(KEY, { paused: true, reason: "driver rollout", by: "carol", at: new Date().toISOString() });
    loseAnswerOf.push({ method: "POST", url: /\/commits\/\{commit_sha\}\/comments$/ });
    const { record, errors } = await retried(await confirmedCulprit(sha, "Push a conversion straight to main"));

    expect(errors).toHaveLength(1);
    expect(record).toMatchObject({ outcome: "commented", reason: expect.stringContaining("paused on this repository by @carol") });
    expect(record.originalPr).toBeUndefined();
    const listed = await h.app.paginate(h.app.rest.repos.listCommentsForCommit, { ...repo, commit_sha: sha, per_page: 100 });
    expect(listed.map((c) => c.user?.login)).toEqual(["sheriff-test[bot]"]);
    expect(listed[0]!.body).toContain(
      `Sheriff found that ${sha.slice(0, 7)} regressed \`convert\` after landing. No revert PR was opened: automatic reverts are paused`,
    );
  }, 60_000);

  it("leaves a PR with the opt-out label, and a culprit older than the maximum age, to people", async () => {
    const labelled = await landPull("alice", "bf16", "v2\n", ["sheriff-no-revert"]);
    const labelRecord = await revertCulprit(deps, await confirmedCulprit(labelled.sha, "Conversion v2"));
    expect(labelRecord).toMatchObject({ outcome: "commented", reason: expect.stringContaining("label `sheriff-no-revert`") });
    expect((await commentsOn(labelled.pr))[0]).toContain("which opts it out of automatic reverts");

    const old = await landPull("carol", "fp16", "v3\n");
    clockAhead = 30 * HOUR;
    const oldRecord = await revertCulprit(deps, await confirmedCulprit(old.sha, "Conversion v3"));
    expect(oldRecord.outcome).toBe("commented");
    expect(oldRecord.reason).toMatch(/^it landed 30(\.0)? hours ago, longer than the 24 hours \(`policy\.maxCulpritAgeHours`\)/);
    expect((await commentsOn(old.pr))[0]).toContain("@carol Sheriff found that");
    expect(await openRevertPulls()).toEqual([]);
  }, 60_000);

  it("lets a person's revert past the pause, the label and the age, but never beside a person's open revert PR", async () => {
    const { pr, sha } = await landPull("alice", "bf16", "v2\n", ["sheriff-no-revert"]);
    clockAhead = 48 * HOUR;
    await deps.ledger.recordRevertPause(KEY, { paused: true, reason: "driver rollout", by: "carol", at: new Date().toISOString() });
    const requested: RevertJob = { ...(await confirmedCulprit(sha, "Conversion v2")), requestedBy: "carol", reason: "breaks bf16" };
    const opened = await revertCulprit(deps, requested);
    expect(opened).toMatchObject({ outcome: "pr-opened", reason: "requested by @carol" });
    expect(await openRevertPulls()).toHaveLength(1);
    expect(await commentsOn(pr)).toEqual([expect.stringContaining(`opened #${opened.revertPr} to revert it`)]);

    // Another culprit, which Dave is already reverting by hand with GitHub's Revert button.
    const second = await landPull("alice", "fp16", "v3\n");
    const wc = await h.clone(repo.owner, repo.repo, users.dave!.token, "dave");
    await h.git(wc, "checkout", "-q", "-b", "revert-fp16");
    await h.git(wc, "revert", "--no-edit", second.sha);
    await h.git(wc, "push", "-q", "origin", "revert-fp16");
    const { data: byHand } = await h.user(users.dave!.token).rest.pulls.create({
      ...repo,
      head: "revert-fp16",
      base: "main",
      title: 'Revert "Conversion v3"',
      body: `Reverts ${KEY}#${second.pr}`,
    });
    const job = await confirmedCulprit(second.sha, "Conversion v3");
    const automatic = await revertCulprit(deps, job);
    const byCarol = await revertCulprit(deps, { ...job, requestedBy: "carol", reason: "breaks fp16" });

    expect(byCarol).toMatchObject({ outcome: "skipped", reason: `#${byHand.number} by @dave already reverts it` });
    expect(automatic).toMatchObject({ outcome: "skipped", reason: `#${byHand.number} by @dave already reverts it` });
    expect((await openRevertPulls()).map((p) => p.head).sort()).toEqual(["revert-fp16", `sheriff/revert-${sha.slice(0, 7)}`]);
    const told = await commentsOn(second.pr);
    expect(told).toHaveLength(2);
    expect(
      told.some((c) => c.includes(`@carol Sheriff was asked to revert ${second.sha.slice(0, 7)}, but #${byHand.number} by @dave`)),
    ).toBe(true);
    expect(told.some((c) => c.includes(`No revert PR was opened: #${byHand.number} by @dave already reverts it`))).toBe(true);
  }, 90_000);
});
