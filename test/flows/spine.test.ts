import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { FakeGitHub } from "../helpers/fakeGitHub.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { startSheriff } from "../helpers/sheriff.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/webhooks/push.json", import.meta.url), "utf8"));
const OWNER = "gpu-team";
const REPO = "flash-kernels";
const INSTALLATION = 2311213;

function config(autoRevert: "on" | "off" | "shadow", extra = "") {
  return `policy:
  autoRevert: ${autoRevert}
  maxAutoRevertsPerDay: 3
suites:
  - name: half-precision
    kind: command
    paths: ["kernels/convert/**"]
    command: sh kernels/convert/test.sh
    timeoutSeconds: 30
    thresholds: { retries: 1 }
${extra}`;
}

const GOOD = "round() { echo nearest-even; }\n";
const BAD = "round() { echo truncate; }\n";
const TEST = 'grep -q nearest-even kernels/convert/round.sh || { echo "bf16 rounding: expected nearest-even"; exit 1; }\n';

function pushPayload(repo: TestRepo, before: string, after: string, overrides: Record<string, unknown> = {}) {
  return {
    ...fixture,
    before,
    after,
    head_commit: { ...fixture.head_commit, id: after },
    repository: { ...fixture.repository, clone_url: repo.bare },
    installation: { id: INSTALLATION },
    ...overrides,
  };
}

describe("the spine: landed commit to revert PR", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;

  appTestHooks(() => ({ sheriff, github, repo }));

  async function landGoodThenBad(
    autoRevert: "on" | "off" | "shadow",
    prepare: (fake: FakeGitHub) => void = () => undefined,
    afterBadPush: (s: Sheriff) => Promise<void> = async () => undefined,
  ) {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    prepare(github);
    sheriff = await startSheriff(`spine-${autoRevert}`);
    const root = repo.commit("Initial kernels", {
      ".github/sheriff.yml": config(autoRevert),
      "kernels/convert/round.sh": GOOD,
      "kernels/convert/test.sh": TEST,
    });
    repo.push();
    const good = repo.commit("Vectorise the bf16 conversion", { "kernels/convert/round.sh": GOOD + "# vectorised\n" });
    repo.push();
    await sheriff.deliver("push", pushPayload(repo, root, good));
    await sheriff.waitFor(
      "the good commit's result",
      async () => (await sheriff!.ledger.runs(`${OWNER}/${REPO}`, "half-precision")).length >= 1,
    );
    const bad = repo.commit("Faster bf16 conversion", { "kernels/convert/round.sh": BAD + "# vectorised\n" });
    repo.push();
    const pr = github.landedPull(bad, "Faster bf16 conversion", "bob");
    await sheriff.deliver("push", pushPayload(repo, good, bad));
    await afterBadPush(sheriff);
    return { good, bad, pr };
  }

  it("opens a revert PR whose tree is git revert's, labels it and tells the author", async () => {
    const { good, bad, pr } = await landGoodThenBad("on");
    const s = sheriff!;
    const record = await s.waitFor("the revert", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0]);
    expect(record).toMatchObject({ culprit: bad, outcome: "pr-opened", originalPr: pr });

    const created = github!.callsTo("POST", /\/pulls$/);
    expect(created).toHaveLength(1);
    expect(created[0]!.body).toMatchObject({
      title: 'Revert "Faster bf16 conversion"',
      head: `sheriff/revert-${bad.slice(0, 7)}`,
      base: "main",
    });
    expect((created[0]!.body as { body: string }).body).toContain(`This reverts commit ${bad}`);
    expect((created[0]!.body as { body: string }).body).toContain("bf16 rounding: expected nearest-even");
    expect(github!.callsTo("POST", /\/issues\/\d+\/labels$/).map((c) => c.body)).toEqual([{ labels: ["sheriff:revert"] }]);
    const onOriginal = github!.comments.filter((c) => c.issue === pr);
    expect(onOriginal).toHaveLength(1);
    expect(onOriginal[0]!.body).toContain("@bob");
    expect(onOriginal[0]!.body).toContain(`#${record.revertPr}`);

    const branchTree = repo!.git(repo!.bare, "rev-parse", `refs/heads/sheriff/revert-${bad.slice(0, 7)}^{tree}`);
    expect(branchTree).toBe(repo!.expectedRevertTree(bad));
    expect(repo!.git(repo!.bare, "rev-parse", `refs/heads/sheriff/revert-${bad.slice(0, 7)}^`)).toBe(bad);

    const verdicts = await s.ledger.verdicts(`${OWNER}/${REPO}`);
    expect(verdicts.map((v) => v.decision)).toEqual([expect.objectContaining({ type: "regression", culprit: bad, lastGood: good })]);
    const checks = [...github!.checkRuns.values()].filter((c) => c.head_sha === bad);
    expect(checks).toHaveLength(1);
    // The config is read once per commit: intake and the analyses of that head share it, however many results arrive.
    expect(github!.callsTo("GET", /\/contents\//).map((c) => c.path.split("ref=")[1])).toEqual([good, bad]);
    expect(checks[0]).toMatchObject({ name: "Sheriff / post-land GPU", conclusion: "failure" });
  });

  it("in shadow mode only comments on the original PR", async () => {
    const { bad, pr } = await landGoodThenBad("shadow");
    const s = sheriff!;
    const record = await s.waitFor("the shadow verdict", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0]);
    expect(record.outcome).toBe("commented");
    expect(github!.callsTo("POST", /\/pulls$/)).toHaveLength(0);
    expect(repo!.git(repo!.bare, "branch", "--list", "sheriff/*")).toBe("");
    const onOriginal = github!.comments.filter((c) => c.issue === pr);
    expect(onOriginal).toHaveLength(1);
    expect(onOriginal[0]!.body).toContain("shadow mode");
    expect(onOriginal[0]!.body).toContain(bad.slice(0, 7));
  });

  it("explains a conflicting revert instead of opening a PR", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    sheriff = await startSheriff("spine-conflict");
    const s = sheriff;
    const root = repo.commit("Initial kernels", {
      ".github/sheriff.yml": config("on"),
      "kernels/convert/round.sh": GOOD,
      "kernels/convert/test.sh": TEST,
    });
    repo.push();
    await s.deliver("push", pushPayload(repo, "0".repeat(40), root, { created: true }));
    await s.waitFor("the baseline", async () => (await s.ledger.runs(`${OWNER}/${REPO}`, "half-precision")).length >= 1);
    const bad = repo.commit("Faster bf16 conversion", { "kernels/convert/round.sh": BAD });
    const pr = github.landedPull(bad, "Faster bf16 conversion", "bob");
    const later = repo.commit("Tune the conversion", { "kernels/convert/round.sh": "round() { echo truncate-faster; }\n" });
    repo.push();
    await s.deliver("push", pushPayload(repo, root, later));
    const record = await s.waitFor("the conflict", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0]);
    expect(record).toMatchObject({ culprit: bad, outcome: "conflict" });
    expect(github.callsTo("POST", /\/pulls$/)).toHaveLength(0);
    const onOriginal = github.comments.filter((c) => c.issue === pr);
    expect(onOriginal).toHaveLength(1);
    expect(onOriginal[0]!.body).toContain("conflicts in `kernels/convert/round.sh`");
  });

  it("records each landed commit once when GitHub redelivers, and drops malformed payloads", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    sheriff = await startSheriff("spine-redeliver");
    const s = sheriff;
    const root = repo.commit("Initial kernels", {
      ".github/sheriff.yml": config("on"),
      "kernels/convert/round.sh": GOOD,
      "kernels/convert/test.sh": TEST,
    });
    repo.push();
    const payload = pushPayload(repo, "0".repeat(40), root, { created: true });
    await s.deliver("push", payload, "delivery-1");
    await s.deliver("push", payload, "delivery-1");
    await s.deliver("push", { ...payload, after: "not-a-sha" }, "delivery-2");
    await s.waitFor(
      "quiet queues",
      async () => (await s.ledger.runs(`${OWNER}/${REPO}`, "half-precision")).length >= 1 && (await s.idle()),
    );
    const chain = await s.ledger.chain(`${OWNER}/${REPO}`, "main");
    expect(chain.map((c) => c.sha)).toEqual([root]);
    expect(chain[0]).toMatchObject({ suites: ["half-precision"], title: "Initial kernels", isRevert: false });
    const jobs = await s.ledger.jobs(`${OWNER}/${REPO}`);
    expect(jobs.map((j) => [j.job.purpose, j.state])).toEqual([["landed", "done"]]);
    expect(github.callsTo("GET", /contents\/\.github/)).toHaveLength(1);

    const docs = repo.commit("Docs", { "README.md": "kernels\n" });
    repo.push();
    await s.deliver("push", pushPayload(repo, root, docs));
    await s.waitFor("the docs push", async () => (await s.ledger.chain(`${OWNER}/${REPO}`, "main")).length === 2 && (await s.idle()));
    expect((await s.ledger.chain(`${OWNER}/${REPO}`, "main"))[1]).toMatchObject({ sha: docs, suites: [] });
    expect([...github.checkRuns.values()].filter((c) => c.head_sha === docs)).toEqual([
      expect.objectContaining({ name: "Sheriff / post-land GPU", status: "completed", conclusion: "skipped" }),
    ]);
    expect(await s.ledger.jobs(`${OWNER}/${REPO}`)).toHaveLength(1);
  });

  it("finishes a revert after GitHub fails mid-way, without opening or saying anything twice", async () => {
    const { bad, pr } = await landGoodThenBad("on", (fake) =>
      fake.failures.push(
        { method: "POST", path: /\/pulls$/, status: 502 },
        { method: "POST", path: /\/issues\/\d+\/comments$/, status: 500 },
      ),
    );
    const s = sheriff!;
    const record = await s.waitFor("the revert", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0], 40_000);
    expect(record).toMatchObject({ culprit: bad, outcome: "pr-opened" });
    expect(github!.pulls.filter((p) => p.user === "sheriff[bot]")).toHaveLength(1);
    expect(github!.failures).toEqual([]);
    expect(github!.comments.filter((c) => c.issue === pr)).toHaveLength(1);
    expect(await s.ledger.revertsToday(`${OWNER}/${REPO}`)).toBe(1);
  });

  it("records a force push as history rewritten and plans the new commits", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    sheriff = await startSheriff("spine-forced");
    const s = sheriff;
    const root = repo.commit("Initial kernels", {
      ".github/sheriff.yml": config("on"),
      "kernels/convert/round.sh": GOOD,
      "kernels/convert/test.sh": TEST,
    });
    repo.push();
    await s.deliver("push", pushPayload(repo, "0".repeat(40), root, { created: true }));
    const first = repo.commit("Tune", { "kernels/convert/round.sh": GOOD + "# tuned\n" });
    repo.push();
    await s.deliver("push", pushPayload(repo, root, first));
    await s.waitFor("two commits", async () => (await s.ledger.chain(`${OWNER}/${REPO}`, "main")).length === 2 && (await s.idle()));
    repo.git(repo.work, "reset", "--quiet", "--hard", root);
    const rewritten = repo.commit("Tune, take two", { "kernels/convert/round.sh": GOOD + "# tuned again\n" });
    repo.git(repo.work, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/main");
    await s.deliver("push", pushPayload(repo, first, rewritten, { forced: true }));
    await s.waitFor(
      "the rewritten chain",
      async () => (await s.ledger.chain(`${OWNER}/${REPO}`, "main")).at(-1)?.sha === rewritten && (await s.idle()),
    );
    expect((await s.ledger.chain(`${OWNER}/${REPO}`, "main")).map((c) => c.sha)).toEqual([root, rewritten]);
    expect((await s.ledger.timeline(`${OWNER}/${REPO}`)).find((e) => e.kind === "history-rewritten")?.text).toBe(
      "force push: 1 commit(s) left the branch",
    );
    expect((await s.ledger.jobs(`${OWNER}/${REPO}`)).map((j) => j.job.sha)).toContain(rewritten);
    expect(await s.ledger.reverts(`${OWNER}/${REPO}`)).toEqual([]);
  });

  it("survives Redis connections dropping mid-flow and still reverts once", async () => {
    const { bad } = await landGoodThenBad(
      "on",
      () => undefined,
      async (s) => {
        expect(await s.store.dropConnections()).toBeGreaterThan(2);
      },
    );
    const s = sheriff!;
    const record = await s.waitFor("the revert", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0], 60_000);
    expect(record).toMatchObject({ culprit: bad, outcome: "pr-opened" });
    await s.waitFor("quiet queues", () => s.idle(), 60_000);
    expect(github!.pulls.filter((p) => p.user === "sheriff[bot]")).toHaveLength(1);
  }, 90_000);

  it("survives the database ending every connection mid-flow and still reverts once", async () => {
    const { bad } = await landGoodThenBad(
      "on",
      () => undefined,
      async (s) => {
        // Open a few sessions first, so there is something to end while work is in flight.
        await Promise.all([1, 2, 3].map(() => s.db.pool.query("SELECT pg_sleep(0.05)")));
        expect(await s.db.dropConnections()).toBeGreaterThan(0);
      },
    );
    const s = sheriff!;
    // The probe's own first query may land on a pooled session the server ended: it fails once, like any client's.
    const reverts = () => s.ledger.reverts(`${OWNER}/${REPO}`).catch(() => []);
    const record = await s.waitFor("the revert", async () => (await reverts())[0], 60_000);
    expect(record).toMatchObject({ culprit: bad, outcome: "pr-opened" });
    await s.waitFor("quiet queues", () => s.idle(), 60_000);
    expect(github!.pulls.filter((p) => p.user === "sheriff[bot]")).toHaveLength(1);
    expect((await s.ledger.verdicts(`${OWNER}/${REPO}`)).filter((v) => v.decision.type === "regression")).toHaveLength(1);
  }, 90_000);

  it("picks up where it was after the process stops mid-flow and a new one starts on the same Redis", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    const first = await startSheriff("spine-restart");
    const root = repo.commit("Initial kernels", {
      ".github/sheriff.yml": config("on"),
      "kernels/convert/round.sh": GOOD,
      "kernels/convert/test.sh": TEST,
    });
    repo.push();
    await first.deliver("push", pushPayload(repo, "0".repeat(40), root, { created: true }));
    await first.waitFor("the baseline", async () => (await first.ledger.runs(`${OWNER}/${REPO}`, "half-precision")).length >= 1);
    const bad = repo.commit("Faster bf16 conversion", { "kernels/convert/round.sh": BAD });
    repo.push();
    await first.deliver("push", pushPayload(repo, root, bad));
    await first.stop();

    sheriff = await startSheriff("spine-restart", {
      restartOn: { prefix: first.store.prefix, workDir: first.workDir, schema: first.db.schema },
    });
    const s = sheriff;
    const record = await s.waitFor("the revert", async () => (await s.ledger.reverts(`${OWNER}/${REPO}`))[0], 60_000);
    expect(record).toMatchObject({ culprit: bad, outcome: "pr-opened" });
    expect((await s.ledger.chain(`${OWNER}/${REPO}`, "main")).map((c) => c.sha)).toEqual([root, bad]);
    expect(github.pulls.filter((p) => p.user === "sheriff[bot]")).toHaveLength(1);
  });
});
