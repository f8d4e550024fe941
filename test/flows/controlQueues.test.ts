import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import type { Octokit } from "@octokit/rest";
import { pino } from "pino";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigCache } from "../../src/adapters/github/config.js";
import { RepoCache } from "../../src/adapters/git/git.js";
import { Queues } from "../../src/adapters/queue/queues.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { startControlWorkers, type ControlWorkers } from "../../src/flows/controlWorker.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import type { SheriffConfig } from "../../src/model/config.js";
import { parseConfig } from "../../src/model/configFile.js";
import type { AnalyzeJob, IntakeJob } from "../../src/model/jobs.js";
import type { RepoRef } from "../../src/model/repo.js";
import { keysUnder, sha, testOctokit } from "../adapters/support.js";
import { FakeGitHub } from "../helpers/fakeGitHub.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { testRedis } from "../helpers/redis.js";
import { testDatabase } from "../helpers/database.js";

const OWNER = "gpu-team";
const NAME = "flash-kernels";
const INSTALLATION = 2311213;
const CONFIG_TEXT = `suites:
  - { name: alpha, kind: command, command: "true", paths: ["alpha/**"] }
  - { name: beta, kind: command, command: "true", paths: ["beta/**"] }
`;
const CONFIG = parseConfig(CONFIG_TEXT);

/**
 * Analyses read their config through here (keyed by config sha), so a test can hold one analysis
 * in progress for as long as it likes and see which runs overlapped.
 */
class GatedConfigs extends ConfigCache {
  readonly events: string[] = [];
  private readonly gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  private readonly waiters: { label: string; resolve: () => void }[] = [];

  hold(label: string): void {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    this.gates.set(sha(label), { opened, open });
  }

  release(label: string): void {
    this.gates.get(sha(label))!.open();
  }

  /** Resolves once an analysis under `label` has started. */
  started(label: string): Promise<void> {
    if (this.events.includes(`start ${label}`)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ label, resolve }));
  }

  override async get(key: string): Promise<SheriffConfig> {
    const label = LABELS.get(key.split("@")[1]!) ?? "?";
    this.events.push(`start ${label}`);
    for (const w of this.waiters.filter((w) => w.label === label)) w.resolve();
    await this.gates.get(sha(label))?.opened;
    this.events.push(`end ${label}`);
    return CONFIG;
  }
}

const LABELS = new Map<string, string>();
function configSha(label: string): string {
  LABELS.set(sha(label), label);
  return sha(label);
}

/** The largest number of runs open at once among those whose label passes `filter`. */
function maxOverlap(events: string[], filter: (label: string) => boolean): number {
  let open = 0;
  let max = 0;
  for (const e of events) {
    const [kind, label] = e.split(" ") as [string, string];
    if (!filter(label)) continue;
    open += kind === "start" ? 1 : -1;
    max = Math.max(max, open);
  }
  return max;
}

interface Process {
  deps: PipelineDeps;
  workers: ControlWorkers;
  store: ReturnType<typeof testRedis>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe("control queues", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let prefix = "";
  let db: Awaited<ReturnType<typeof testDatabase>>;

  beforeEach(async () => {
    db = await testDatabase("control_queues");
    cleanups.push(() => db.cleanup());
  });

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
    expect(await keysUnder(prefix)).toEqual([]);
  });

  /** One app process's control workers on a shared Redis prefix (the first call picks it). */
  function startProcess(configs: ConfigCache, workDir: string, octokit: Octokit): Process {
    const store = testRedis("control-queues", prefix || undefined);
    prefix = store.prefix;
    const queues = new Queues(store);
    const deps: PipelineDeps = {
      access: { forInstallation: async () => ({ octokit, token: "ghs_test" }), appSlug: async () => "sheriff" },
      configs,
      ledger: new Ledger(db),
      queues,
      cache: new RepoCache(workDir),
      engine: () => [],
      log: pino({ level: "silent" }),
      parallelism: 1,
    };
    return { deps, workers: startControlWorkers(deps, { intake: 4, analysis: 4, followUp: 2 }), store };
  }

  function setup(processes = 1, octokit = testOctokit()) {
    const repo = new TestRepo();
    const github = new FakeGitHub(OWNER, NAME, repo.bare, INSTALLATION);
    const workDir = mkdtempSync(join(tmpdir(), "sheriff-control-"));
    const configs = new GatedConfigs();
    const started = Array.from({ length: processes }, () => startProcess(configs, workDir, octokit));
    cleanups.push(async () => {
      for (const p of started) {
        await p.workers.close();
        await p.deps.queues.close();
      }
      for (const p of started.slice(1)) await p.store.redis.quit();
      await started[0]!.store.cleanup();
      github.close();
      repo.remove();
      rmSync(workDir, { recursive: true, force: true });
    });
    const ref: RepoRef = { owner: OWNER, repo: NAME, installationId: INSTALLATION, cloneUrl: repo.bare, branch: "main" };
    return { repo, github, configs, processes: started, ref };
  }

  const analysis = (ref: RepoRef, suite: string, label: string): AnalyzeJob => ({
    type: "analyze",
    repo: ref,
    suite,
    configSha: configSha(label),
  });

  const push = (ref: RepoRef, before: string | null, after: string): IntakeJob => ({
    type: "intake",
    repo: ref,
    repoId: 1,
    defaultBranch: "main",
    before,
    after,
    forced: false,
    deliveryId: `delivery-${after}`,
  });

  async function drained(queues: Queues): Promise<boolean> {
    const counts = await Promise.all(
      [queues.intake, queues.analysis].map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized")),
    );
    return counts.every((c) => Object.values(c).every((n) => n === 0));
  }

  it("takes a push in while a long analysis is in progress", async () => {
    const { repo, configs, processes, ref } = setup();
    const { deps } = processes[0]!;
    configs.hold("long");
    await deps.queues.addControl(analysis(ref, "alpha", "long"));
    await configs.started("long");

    const root = repo.commit("Initial kernels", { ".github/sheriff.yml": CONFIG_TEXT, "alpha/a.cu": "1\n" });
    repo.push();
    await deps.queues.addControl(push(ref, null, root));
    await until("the push taken in", async () => (await deps.ledger.head(`${OWNER}/${NAME}`, "main")) === root);
    expect((await deps.ledger.chain(`${OWNER}/${NAME}`, "main")).map((c) => c.sha)).toEqual([root]);
    expect(configs.events).toEqual(["start long"]);

    configs.release("long");
    await until("the queues drained", () => drained(deps.queues));
    expect(configs.events).toEqual(["start long", "end long"]);
  });

  it("queues later pushes' GPU jobs while GitHub has not yet answered an earlier push's check-run write", async () => {
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    const octokit = testOctokit();
    let checkRunWrites = 0;
    octokit.hook.before("request", async (options) => {
      if (options.method !== "GET" && String(options.url).includes("/check-runs")) {
        checkRunWrites++;
        await answered;
      }
    });
    const { repo, github, processes, ref } = setup(1, octokit);
    // Cleanups run last first: the held writes are answered before the workers are closed, which waits for them.
    cleanups.push(() => answer());
    const { deps } = processes[0]!;
    const key = `${OWNER}/${NAME}`;
    const shas = [repo.commit("Initial kernels", { ".github/sheriff.yml": CONFIG_TEXT, "alpha/a.cu": "0\n" })];
    repo.push();
    await deps.queues.addControl(push(ref, null, shas[0]!));
    await until("the first check-run write sent", async () => checkRunWrites > 0);

    // More pushes than intake slots: none may be held by a follow-up waiting on GitHub.
    for (let i = 1; i <= 6; i++) {
      shas.push(repo.commit(`Change ${i}`, { "alpha/a.cu": `${i}\n` }));
      repo.push();
      await deps.queues.addControl(push(ref, shas[i - 1]!, shas[i]!));
    }
    await until("every push taken in", async () => (await deps.ledger.head(key, "main")) === shas.at(-1), 60_000);
    // The head is recorded just before the push's GPU jobs are queued.
    const queuedShas = async () => (await deps.queues.gpu.getJobs(["waiting", "prioritized"])).map((j) => j.data.job.sha);
    await until("the last push's GPU job queued", async () => (await queuedShas()).includes(shas.at(-1)!));
    expect(github.checkRuns.size).toBe(0);

    answer();
    await until(
      "the follow-ups done",
      async () => {
        const counts = await deps.queues.followUp.getJobCounts("waiting", "active", "delayed");
        return (
          Object.values(counts).every((n) => n === 0) && (await deps.queues.followUp.getJobCounts("completed")).completed === shas.length
        );
      },
      60_000,
    );
    expect([...github.checkRuns.values()].map((c) => c.head_sha).sort()).toEqual([...shas].sort());
  }, 150_000);

  it("runs analyses of different suites at the same time", async () => {
    const { configs, processes, ref } = setup();
    const { deps } = processes[0]!;
    configs.hold("alpha");
    configs.hold("beta");
    await deps.queues.addControl(analysis(ref, "alpha", "alpha"));
    await deps.queues.addControl(analysis(ref, "beta", "beta"));
    await Promise.all([configs.started("alpha"), configs.started("beta")]);
    configs.release("alpha");
    configs.release("beta");
    await until("the queues drained", () => drained(deps.queues));
    expect(maxOverlap(configs.events, () => true)).toBe(2);
  });

  it("never overlaps two analyses of one suite across two processes, and runs once more for requests made meanwhile", async () => {
    const { configs, processes, ref } = setup(2);
    const [a, b] = processes as [Process, Process];
    configs.hold("first");
    await a.deps.queues.addControl(analysis(ref, "alpha", "first"));
    await configs.started("first");
    // Three more requests, from both processes, while the first run is held.
    await b.deps.queues.addControl(analysis(ref, "alpha", "second"));
    await a.deps.queues.addControl(analysis(ref, "alpha", "third"));
    await b.deps.queues.addControl(analysis(ref, "alpha", "fourth"));
    // Give both processes' workers time to pick them up and find the suite busy.
    await sleep(300);
    expect(configs.events).toEqual(["start first"]);
    configs.release("first");
    await until("the queues drained", () => drained(a.deps.queues));
    expect(maxOverlap(configs.events, () => true)).toBe(1);
    // Folded into one run after the first, with the newest request's config sha.
    expect(configs.events).toEqual(["start first", "end first", "start fourth", "end fourth"]);
    const completed = await a.deps.queues.analysis.getJobs(["completed"]);
    expect(completed).toHaveLength(4);
    expect(await a.deps.queues.analysis.getJobCounts("failed")).toEqual({ failed: 0 });
  });

  it("takes pushes of one branch in push order with two processes", async () => {
    const { repo, processes, ref } = setup(2);
    const [a, b] = processes as [Process, Process];
    const shas = [repo.commit("Initial kernels", { ".github/sheriff.yml": CONFIG_TEXT, "alpha/a.cu": "0\n" })];
    for (let i = 1; i < 8; i++) shas.push(repo.commit(`Change ${i}`, { [`${i % 2 ? "alpha" : "beta"}/a.cu`]: `${i}\n` }));
    repo.push();
    for (const [i, after] of shas.entries()) await [a, b][i % 2]!.deps.queues.addControl(push(ref, shas[i - 1] ?? null, after));
    await until("every push taken in", async () => (await a.deps.ledger.head(`${OWNER}/${NAME}`, "main")) === shas.at(-1));
    await until("the queues drained", () => drained(a.deps.queues));
    expect((await a.deps.ledger.chain(`${OWNER}/${NAME}`, "main")).map((c) => c.sha)).toEqual(shas);
  });
});
