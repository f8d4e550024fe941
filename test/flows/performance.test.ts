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

const CONFIG = `policy: { autoRevert: on }
suites:
  - name: convert-bench
    kind: command
    command: node kernels/bench.cjs
    paths: ["kernels/**"]
    timeoutSeconds: 30
    thresholds: { slowdown: 0.05 }
`;

// A benchmark whose timings follow kernels/cost.txt with 1% jitter that differs from run to run:
// the stand-in for a kernel timed with CUDA events, so the test controls how much slower a commit is.
const BENCH = `const fs = require("fs");
const cost = parseFloat(fs.readFileSync("kernels/cost.txt", "utf8"));
let seed = (Date.now() ^ (process.pid << 8)) >>> 0;
const jitter = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.02;
const samples = Array.from({ length: 30 }, () => 100 * cost * (1 + jitter()));
const now = new Date().toISOString();
fs.writeFileSync(process.env.SHERIFF_RESULT, JSON.stringify({
  schema: "sheriff.result/v1", suite: process.env.SHERIFF_SUITE, commit: process.env.SHERIFF_COMMIT, status: "completed",
  startedAt: now, finishedAt: now, tests: [{ name: "convert/bf16/correct", outcome: "pass" }],
  benchmarks: [{ name: "convert/bf16/n=2^26", unit: "us", samples }], environment: { commit: process.env.SHERIFF_COMMIT },
}));
`;

describe("a slowdown, end to end through the app", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;

  appTestHooks(() => ({ sheriff, github, repo }));

  const push = (r: TestRepo, before: string, after: string, extra: Record<string, unknown> = {}) => ({
    ...fixture,
    before,
    after,
    repository: { ...fixture.repository, clone_url: r.bare },
    installation: { id: INSTALLATION },
    ...extra,
  });

  it("confirms a 20% slowdown with an interleaved A/B job and reverts it; a 1% change is left alone", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    sheriff = await startSheriff("perf");
    const s = sheriff;
    const key = `${OWNER}/${REPO}`;
    const root = repo.commit("Conversion benchmark", {
      ".github/sheriff.yml": CONFIG,
      "kernels/bench.cjs": BENCH,
      "kernels/cost.txt": "1.00\n",
    });
    repo.push();
    await s.deliver("push", push(repo, "0".repeat(40), root, { created: true }));
    const noise = repo.commit("Reorder loads", { "kernels/cost.txt": "1.01\n" });
    repo.push();
    await s.deliver("push", push(repo, root, noise));
    await s.waitFor(
      "the 1% change to settle",
      async () => (await s.ledger.runs(key, "convert-bench")).length >= 2 && (await s.idle()),
      60_000,
    );
    expect(await s.ledger.reverts(key)).toEqual([]);

    const slow = repo.commit("Scalar bf16 stores", { "kernels/cost.txt": "1.20\n" });
    repo.push();
    const pr = github.landedPull(slow, "Scalar bf16 stores", "carol");
    await s.deliver("push", push(repo, noise, slow));
    const record = await s.waitFor("the revert", async () => (await s.ledger.reverts(key))[0], 90_000);
    expect(record).toMatchObject({ culprit: slow, outcome: "pr-opened", originalPr: pr });

    const verdict = (await s.ledger.verdicts(key)).map((v) => v.decision).find((d) => d.type === "regression")!;
    expect(verdict).toMatchObject({ kind: "performance", culprit: slow, lastGood: noise });
    const bench = verdict.type === "regression" ? verdict.benchmarks[0]! : undefined;
    expect(bench!.ratio).toBeGreaterThan(1.15);
    expect(bench!.ratio).toBeLessThan(1.25);
    expect(bench!.pValue).toBeLessThan(0.01);
    const ab = (await s.ledger.runs(key, "convert-bench")).filter((r) => r.job.purpose === "ab");
    expect(ab.length).toBeGreaterThan(0);
    expect(ab.every((r) => r.baselineResult !== undefined && r.result.benchmarks[0]!.samples.length === 90)).toBe(true);
    const body = (github.callsTo("POST", /\/pulls$/)[0]!.body as { body: string }).body;
    expect(body).toMatch(/\| `convert\/bf16\/n=2\^26` \| 1\.\d{3}× \|/);
  }, 150_000);
});
