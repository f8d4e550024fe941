import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigCache } from "../../src/adapters/github/config.js";
import { hasCommit, RepoCache } from "../../src/adapters/git/git.js";
import { controlJobId, gpuJobId, Queues } from "../../src/adapters/queue/queues.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { decide } from "../../src/core/verdict/engine.js";
import { startControlWorkers, type ControlWorkers } from "../../src/flows/controlWorker.js";
import { reconcileBranches } from "../../src/flows/reconcile.js";
import { followUpPush } from "../../src/flows/intake.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import type { IntakeJob } from "../../src/model/jobs.js";
import type { RepoRef } from "../../src/model/repo.js";
import { harness, type Harness } from "../dev/sandbox/helpers.js";
import { testDatabase } from "../helpers/database.js";
import { testRedis } from "../helpers/redis.js";
import { fastImportCommits } from "../helpers/gitRepo.js";

const KEY = "acme/kernels";
const CONFIG = `suites:
  - { name: alpha, kind: command, command: "true", paths: ["alpha/**"] }
  - { name: beta, kind: command, command: "true", paths: ["beta/**"] }
`;

interface CheckRunCall {
  sha: string | undefined;
  gpuJobs: string[];
}

let h: Harness;
let wc: string;
let deps: PipelineDeps;
let workers: ControlWorkers;
let ref: RepoRef;
const cleanups: (() => Promise<void> | void)[] = [];
/** Each check-run request, with the GPU jobs in the queue when it was made. */
const checkRunCalls: CheckRunCall[] = [];
/** The commit of each config read from GitHub. */
const configReads: string[] = [];
/** Requests failing on purpose: the first one matching is answered with an error, then removed. */
const failNext: { method: string; url: RegExp; ref?: string; status?: number }[] = [];

beforeEach(async () => {
  h = await harness();
  const repo = await h.sb.createRepo("acme", "kernels", {
    installationId: 7,
    files: { ".github/sheriff.yml": CONFIG, "alpha/a.cu": "0\n" },
  });
  wc = await h.clone("acme", "kernels", h.sb.installationToken(7));
  ref = { owner: "acme", repo: "kernels", installationId: 7, cloneUrl: repo.cloneUrl, branch: "main" };
  const store = testRedis("intake-listing");
  const db = await testDatabase("intake-listing");
  const workDir = mkdtempSync(join(tmpdir(), "sheriff-intake-"));
  const queues = new Queues(store);
  h.app.hook.before("request", async (options) => {
    const at = failNext.findIndex(
      (f) => f.method === options.method && f.url.test(options.url) && (!f.ref || (options as { ref?: string }).ref === f.ref),
    );
    if (at >= 0) {
      const [failure] = failNext.splice(at, 1);
      throw Object.assign(new Error(`injected failure of ${options.method} ${options.url}`), { status: failure!.status ?? 502 });
    }
    if (/contents/.test(options.url)) configReads.push((options as { ref?: string }).ref ?? "");
    if (!/check-runs/.test(options.url)) return;
    const sha =
      (options as { head_sha?: string }).head_sha ?? (await checkRunSha(Number((options as { check_run_id?: number }).check_run_id)));
    const gpuJobs = (await queues.gpu.getJobs(["waiting", "delayed", "prioritized"])).map((j) => j.id!);
    checkRunCalls.push({ sha, gpuJobs });
  });
  deps = {
    access: { forInstallation: async () => ({ octokit: h.app, token: h.sb.installationToken(7) }), appSlug: async () => "sheriff-test" },
    configs: new ConfigCache(),
    ledger: new Ledger(db),
    queues,
    cache: new RepoCache(workDir),
    engine: decide,
    log: pino({ level: "silent" }),
    parallelism: 1,
  };
  workers = startControlWorkers(deps, { intake: 4, analysis: 1, followUp: 2 });
  cleanups.push(async () => {
    await workers.close();
    for (const q of queues.all) await q.obliterate({ force: true });
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
  checkRunCalls.length = 0;
  configReads.length = 0;
  failNext.length = 0;
});

async function checkRunSha(id: number): Promise<string | undefined> {
  const rows = await deps.ledger.db.pool.query<{ sha: string }>("SELECT sha FROM check_runs WHERE check_run_id = $1", [id]);
  return rows.rows[0]?.sha;
}

async function commit(message: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) h.write(wc, path, content);
  await h.git(wc, "add", "-A");
  await h.git(wc, "commit", "-q", "-m", message);
  return (await h.git(wc, "rev-parse", "HEAD")).trim();
}

const intake = (before: string | null, after: string, forced = false): IntakeJob => ({
  type: "intake",
  repo: ref,
  repoId: 1,
  defaultBranch: "main",
  before,
  after,
  forced,
  deliveryId: `delivery-${after}`,
});

/** Pushes the working copy's HEAD, queues the push's intake and waits until it completed; its outcome. */
async function pushAndTakeIn(before: string | null, after: string, options: { forced?: boolean } = {}): Promise<Record<string, unknown>> {
  await h.git(wc, "push", "-q", ...(options.forced ? ["--force"] : []), "origin", "HEAD:main");
  const job = intake(before, after, options.forced);
  await deps.queues.addControl(job);
  return completed(job);
}

/** Waits until the push's intake job and, where it planned jobs, its follow-up completed; the intake's outcome. */
async function completed(job: IntakeJob): Promise<Record<string, unknown>> {
  const id = controlJobId(job);
  const deadline = Date.now() + 30_000;
  const until = async (queue: Queue, jobId: string) => {
    while ((await queue.getJobState(jobId)) !== "completed") {
      if (Date.now() > deadline) throw new Error(`${queue.name} job ${jobId} not completed`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await until(deps.queues.intake, id);
  const outcome = (await deps.queues.intake.getJob(id))!.returnvalue as Record<string, unknown>;
  if (outcome.kind === "planned") await until(deps.queues.followUp, `follow-up.${id}`);
  return outcome;
}

const chain = async () => (await deps.ledger.chain(KEY, "main")).map((c) => [c.sha, c.suites]);
const landedNotes = async (sha: string) => (await deps.ledger.timelineAt(KEY, [sha])).filter((n) => n.kind === "landed");
const mirrorHas = (sha: string) => hasCommit(deps.cache.mirrorPath("acme", "kernels"), sha);

describe("intake listing", () => {
  it("lists a small push through the API without fetching the mirror, and queues GPU jobs before writing check runs", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    expect(await pushAndTakeIn(null, root)).toMatchObject({ kind: "planned", listedBy: "mirror", jobs: 2 });

    const one = await commit("Tune alpha", { "alpha/a.cu": "1\n" });
    const docs = await commit("Docs only", { "docs/notes.md": "n\n" });
    const two = await commit("Tune beta", { "beta/b.cu": "1\n" });
    checkRunCalls.length = 0;
    expect(await pushAndTakeIn(root, two)).toMatchObject({ kind: "planned", listedBy: "api", commits: 3, newCommits: 3, jobs: 2 });
    expect(await mirrorHas(two)).toBe(false);
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [one, ["alpha"]],
      [docs, []],
      [two, ["beta"]],
    ]);

    // Each job's commit had its check run written only once the job was in the queue.
    const jobOf = (sha: string, suite: string) => gpuJobId(ref, { sha, suite, purpose: "landed", attempt: 0 });
    const bySha = new Map(checkRunCalls.map((c) => [c.sha, c.gpuJobs]));
    expect(bySha.get(one)).toContain(jobOf(one, "alpha"));
    expect(bySha.get(two)).toContain(jobOf(two, "beta"));
    expect(bySha.get(docs)).toEqual(expect.arrayContaining([jobOf(one, "alpha"), jobOf(two, "beta")]));
    expect((await deps.ledger.checkRunId(KEY, docs)) !== null).toBe(true);
    expect(await landedNotes(docs)).toHaveLength(1);

    // The config was read at the first push only: the second left the file alone. A push changing it reads it again.
    expect(configReads).toEqual([root]);
    const tuned = await commit("Tune the config", { ".github/sheriff.yml": `${CONFIG}# tuned\n` });
    await pushAndTakeIn(two, tuned);
    expect(configReads).toEqual([root, tuned]);
  });

  it("falls back to the mirror when the API fails, and lists a force push through the API with its merge base", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    const kept = await commit("Kept", { "alpha/a.cu": "1\n" });
    const dropped = await commit("Dropped", { "beta/b.cu": "1\n" });
    failNext.push({ method: "GET", url: /\/compare\// });
    expect(await pushAndTakeIn(root, dropped)).toMatchObject({ listedBy: "mirror", commits: 2, newCommits: 2 });

    await h.git(wc, "reset", "-q", "--hard", kept);
    const rewritten = await commit("Rewritten", { "beta/b.cu": "2\n" });
    expect(await pushAndTakeIn(dropped, rewritten, { forced: true })).toMatchObject({
      listedBy: "api",
      rewritten: [dropped],
      commits: 1,
      newCommits: 1,
    });
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [kept, ["alpha"]],
      [rewritten, ["beta"]],
    ]);
    expect((await deps.ledger.timelineAt(KEY, [rewritten])).map((n) => n.kind)).toContain("history-rewritten");
  });

  it("retries only the follow-up after the turn: later pushes go ahead, nothing is recorded twice", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    const first = await commit("First", { "alpha/a.cu": "1\n" });
    const second = await commit("Second", { "beta/b.cu": "1\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");

    // The first push's check run fails in its follow-up; the second push is taken in meanwhile.
    failNext.push({ method: "POST", url: /check-runs/ });
    await deps.queues.addControl(intake(root, first));
    await deps.queues.addControl(intake(first, second));
    await completed(intake(first, second));
    expect(await deps.ledger.head(KEY, "main")).toBe(second);
    expect(await completed(intake(root, first))).toMatchObject({ kind: "planned", listedBy: "api", newCommits: 1 });

    expect(await deps.ledger.head(KEY, "main")).toBe(second);
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [first, ["alpha"]],
      [second, ["beta"]],
    ]);
    expect((await deps.ledger.jobsAt(KEY, first)).map((j) => j.job.suite)).toEqual(["alpha"]);
    expect(await deps.ledger.checkRunId(KEY, first)).not.toBeNull();
    expect(await landedNotes(first)).toHaveLength(1);
  });

  it("records the commits of pushes Sheriff never took in when the next push comes, and blames none of them on it", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    // Landed while Sheriff was away: pushed to GitHub, its webhook never taken in.
    const missed = await commit("Break alpha", { "alpha/a.cu": "bad\n" });
    const docs = await commit("Docs", { "docs/notes.md": "n\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");
    const next = await commit("Tune beta", { "beta/b.cu": "1\n" });
    expect(await pushAndTakeIn(docs, next)).toMatchObject({ kind: "planned", commits: 3, newCommits: 3, jobs: 2, listedBy: "mirror" });
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [missed, ["alpha"]],
      [docs, []],
      [next, ["beta"]],
    ]);
    expect((await deps.ledger.jobsAt(KEY, missed)).map((j) => j.job.suite)).toEqual(["alpha"]);
    const notes = await deps.ledger.timelineAt(KEY, [next]);
    expect(notes.find((n) => n.kind === "reconciled")?.text).toMatch(/^2 commit\(s\) landed/);

    // The lost push, redelivered or retried now, finds its commits recorded and the branch moved on.
    expect(await pushAndTakeIn(root, docs)).toMatchObject({ kind: "ignored", reason: expect.stringMatching(/already taken in/) });
    expect(await chain()).toHaveLength(4);
    expect(await landedNotes(missed)).toHaveLength(1);
  });

  it("cuts the chain where a force push Sheriff never took in rewrote the branch", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    const dropped = await commit("Dropped", { "alpha/a.cu": "1\n" });
    await pushAndTakeIn(root, dropped);
    await h.git(wc, "reset", "-q", "--hard", root);
    const replacement = await commit("Replacement", { "beta/b.cu": "1\n" });
    await h.git(wc, "push", "-q", "--force", "origin", "HEAD:main");
    const next = await commit("Next", { "alpha/a.cu": "2\n" });
    expect(await pushAndTakeIn(replacement, next)).toMatchObject({ kind: "planned", rewritten: [dropped], commits: 2 });
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [replacement, ["beta"]],
      [next, ["alpha"]],
    ]);
  });

  it("lets a branch's later pushes go ahead while a failed push waits for its retry", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    // The first push changes the config, so it has to read it.
    const first = await commit("First", { "alpha/a.cu": "1\n", ".github/sheriff.yml": `${CONFIG}# tuned\n` });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");
    const second = await commit("Second", { "beta/b.cu": "1\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");

    // It cannot read it (an answer the client does not retry); its own retry comes seconds later.
    failNext.push({ method: "GET", url: /\/contents\//, ref: first, status: 422 });
    await deps.queues.addControl(intake(root, first));
    await deps.queues.addControl(intake(first, second));
    expect(await completed(intake(first, second))).toMatchObject({ kind: "planned", commits: 2 });
    expect(await deps.queues.intake.getJobState(controlJobId(intake(root, first)))).not.toBe("completed");
    expect(await completed(intake(root, first))).toMatchObject({ kind: "ignored" });
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [first, ["alpha"]],
      [second, ["beta"]],
    ]);
    expect(failNext).toEqual([]);
  });

  it("ignores a branch's first push retried after a later one went ahead, rather than taking it for a rewrite", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    const first = await commit("First", { "alpha/a.cu": "1\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");
    failNext.push({ method: "GET", url: /\/contents\//, ref: root, status: 422 });
    await deps.queues.addControl(intake(null, root));
    await deps.queues.addControl(intake(root, first));
    expect(await completed(intake(root, first))).toMatchObject({ kind: "planned", commits: 1 });
    expect(await completed(intake(null, root))).toMatchObject({ kind: "ignored" });
    expect(await chain()).toEqual([[first, ["alpha"]]]);
    expect(await deps.ledger.head(KEY, "main")).toBe(first);
    expect(failNext).toEqual([]);
  });

  it("takes in a push whose webhook never came at the next reconciliation round", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    expect(await reconcileBranches(deps)).toEqual({ checked: 1, behind: 0, failed: 0 });

    const lost = await commit("Tune alpha", { "alpha/a.cu": "1\n" });
    const last = await commit("Tune beta", { "beta/b.cu": "1\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:main");
    expect(await reconcileBranches(deps)).toEqual({ checked: 1, behind: 1, failed: 0 });
    expect(await completed(intake(root, last))).toMatchObject({ kind: "planned", commits: 2, jobs: 2 });
    expect(await chain()).toEqual([
      [root, ["alpha"]],
      [lost, ["alpha"]],
      [last, ["beta"]],
    ]);
    expect(await reconcileBranches(deps)).toEqual({ checked: 1, behind: 0, failed: 0 });
  });

  it("governs another branch by the default branch's config, never by the branch's own", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    const onRelease = (before: string, after: string): IntakeJob => ({ ...intake(before, after), repo: { ...ref, branch: "release" } });
    const takeIn = async (job: IntakeJob) => {
      await deps.queues.addControl(job);
      return completed(job);
    };

    // An unreviewed branch names itself watched and swaps a suite's command: ignored, nothing queued.
    await h.git(wc, "checkout", "-q", "-b", "release");
    const hostile = CONFIG.replace('command: "true", paths: ["alpha/**"]', 'command: "cat $PRIVATE_KEY_PATH", paths: ["alpha/**"]');
    const own = await commit("Watch me", { ".github/sheriff.yml": `branches: [main, release]\n${hostile}`, "alpha/a.cu": "r\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:release");
    expect(await takeIn(onRelease(root, own))).toMatchObject({ kind: "ignored", reason: "branch release is not watched" });
    expect(await deps.ledger.hasChain(KEY, "release")).toBe(false);

    // Once main's reviewed config watches it, it is taken in with main's suites.
    await h.git(wc, "checkout", "-q", "main");
    const reviewed = await commit("Watch release", { ".github/sheriff.yml": `branches: [main, release]\n${CONFIG}` });
    await pushAndTakeIn(root, reviewed);
    await h.git(wc, "checkout", "-q", "release");
    const next = await commit("Tune alpha on release", { "alpha/a.cu": "r2\n" });
    await h.git(wc, "push", "-q", "origin", "HEAD:release");
    expect(await takeIn(onRelease(own, next))).toMatchObject({ kind: "planned" });
    const queued = await deps.queues.gpu.getJobs(["waiting", "prioritized"]);
    const alpha = queued.filter((j) => j.data.repo.branch === "release" && j.data.suite.name === "alpha");
    expect(alpha.length).toBeGreaterThan(0);
    for (const job of alpha) expect(job.data.suite).toMatchObject({ kind: "command", command: "true" });
    expect(await deps.ledger.configSha(KEY, "release")).toBe(reviewed);
  });

  it("records every commit of a push of 2,100", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    fastImportCommits(wc, "main", root, 2_100, (i) => ({ message: `Tune alpha ${i}`, path: "alpha/a.cu", content: `${i}\n` }));
    await h.git(wc, "reset", "-q", "--hard", "main");
    const head = (await h.git(wc, "rev-parse", "HEAD")).trim();
    expect(await pushAndTakeIn(root, head)).toMatchObject({ kind: "planned", commits: 2_100, newCommits: 2_100, jobs: 1 });
    const recorded = await deps.ledger.chain(KEY, "main");
    expect(recorded).toHaveLength(2_101);
    expect(recorded.at(-1)).toMatchObject({ sha: head, title: "Tune alpha 2100", suites: ["alpha"] });
    expect(recorded[1]!.title).toBe("Tune alpha 1");
  });

  it("withdraws an older queued job of the suite after the turn, and never a newer one", async () => {
    const root = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await pushAndTakeIn(null, root);
    const older = await commit("Tune alpha", { "alpha/a.cu": "1\n" });
    await pushAndTakeIn(root, older);
    const newer = await commit("Tune alpha again", { "alpha/a.cu": "2\n" });
    await pushAndTakeIn(older, newer);
    const state = async (sha: string) => (await deps.ledger.jobsAt(KEY, sha)).map((j) => j.state);
    expect(await state(older)).toEqual(["superseded"]);
    expect(await state(newer)).toEqual(["queued"]);

    // The older push's follow-up, run again late, finds the newer job queued after its own: it stays.
    const olderJob = { sha: older, suite: "alpha", purpose: "landed" as const, attempt: 0 };
    await followUpPush(deps, ref, { notes: [], queued: [], uncovered: [], supersede: [olderJob] });
    expect(await state(newer)).toEqual(["queued"]);
    expect((await deps.queues.gpu.getJobs(["waiting", "prioritized"])).map((j) => j.data.job.sha)).toContain(newer);
  });
});
