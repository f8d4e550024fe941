import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probotAccess } from "../../src/adapters/github/access.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import { HOST_ISSUE_LABEL } from "../../src/core/hostNotice.js";
import { startSandbox, type Sandbox } from "../../src/dev/sandbox/server.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { tellHostQuarantine } from "../../src/flows/hostHealth.js";
import { testDatabase } from "../helpers/database.js";

const KEY = "gpu-team/flash-kernels";
const ref = { owner: "gpu-team", repo: "flash-kernels", installationId: 5, cloneUrl: "", branch: "main" };
let sandbox: Sandbox;
let db: Awaited<ReturnType<typeof testDatabase>>;
let dataDir: string;
let deps: PipelineDeps;

beforeAll(async () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  dataDir = mkdtempSync(join(tmpdir(), "sheriff-host-issue-"));
  sandbox = await startSandbox({ dataDir, app: { id: 77, slug: "sheriff", publicKey } });
  await sandbox.createRepo("gpu-team", "flash-kernels", { installationId: 5, files: { "README.md": "kernels\n" } });
  db = await testDatabase("host_issue");
  const log = pino({ level: "silent" });
  const probot = new Probot({
    appId: 77,
    privateKey,
    baseUrl: sandbox.apiUrl,
    log,
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  deps = { access: probotAccess(probot, sandbox.apiUrl), ledger: new Ledger(db), log } as unknown as PipelineDeps;
});

afterAll(async () => {
  await sandbox.close();
  await db.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a quarantined host told to people", () => {
  it("opens one issue naming the host and the evidence however often it is asked, and closes it with a comment on re-admission", async () => {
    const evidence = ["alpha.index_reduce at alpha@1111111", "alpha.index_reduce at alpha@2222222"];
    const summary = "gpu-7 failed alpha.index_reduce where other hosts passed it at 8 states (the most on any other host: 0)";
    const from = await deps.ledger.quarantineHost(KEY, "gpu-7", { summary, evidence });
    const [quarantine] = await deps.ledger.hostQuarantines(KEY, new Date(0));
    expect(quarantine!.from).toBe(from);
    const job = { type: "host-issue" as const, repo: ref, host: "gpu-7", from: quarantine!.from, action: "open" as const };
    const first = await tellHostQuarantine(deps, job);
    expect(await tellHostQuarantine(deps, job)).toEqual(first);
    const { octokit } = await deps.access.forInstallation(5);
    const issues = (await octokit.rest.issues.listForRepo({ owner: "gpu-team", repo: "flash-kernels", state: "all" })).data;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.title).toBe("Sheriff quarantined GPU host gpu-7");
    expect(issues[0]!.labels.map((l) => (typeof l === "string" ? l : l.name))).toEqual([HOST_ISSUE_LABEL]);
    expect(issues[0]!.body).toContain("`gpu-7`");
    expect(issues[0]!.body).toContain("alpha.index_reduce at alpha@2222222");

    await deps.ledger.readmitHost(KEY, "gpu-7");
    await tellHostQuarantine(deps, { ...job, action: "close" });
    await tellHostQuarantine(deps, { ...job, action: "close" });
    const closed = (await octokit.rest.issues.get({ owner: "gpu-team", repo: "flash-kernels", issue_number: first.issue! })).data;
    expect(closed.state).toBe("closed");
    const comments = (await octokit.rest.issues.listComments({ owner: "gpu-team", repo: "flash-kernels", issue_number: first.issue! }))
      .data;
    expect(comments.map((c) => c.body)).toEqual(["`gpu-7` passed 3 canary runs in a row that other hosts passed: Sheriff re-admitted it."]);
  }, 30_000);
});
