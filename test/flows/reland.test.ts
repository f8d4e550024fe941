import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoCache } from "../../src/adapters/git/git.js";
import { Ledger } from "../../src/adapters/store/ledger.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { noticeRelands } from "../../src/flows/reland.js";
import { testDatabase } from "../helpers/database.js";
import { TestRepo } from "../helpers/gitRepo.js";

const KEY = "gpu-team/flash-kernels";
let repo: TestRepo;
let db: Awaited<ReturnType<typeof testDatabase>>;
let workDir: string;

beforeAll(async () => {
  repo = new TestRepo();
  db = await testDatabase("reland");
  workDir = mkdtempSync(join(tmpdir(), "sheriff-reland-"));
});

afterAll(async () => {
  await db.cleanup();
  repo.remove();
  rmSync(workDir, { recursive: true, force: true });
});

describe("a reverted culprit landed again", () => {
  it("is recorded once when a later commit makes the same change under a reland title, and not when the change differs", async () => {
    const base = repo.commit("Base", { "kernels/gather.cu": "a\nb\nc\n", "README.md": "x\n" });
    const title = "Use index_reduce for the paged KV gather (#812)";
    const culprit = repo.commit(title, { "kernels/gather.cu": "a\nB\nc\n" });
    const revert = repo.commit(`Revert "${title}"`, { "kernels/gather.cu": "a\nb\nc\n" });
    const changed = repo.commit("Reland: Use index_reduce for the paged KV gather", { "kernels/gather.cu": "a\nB2\nc\n" });
    const back = repo.commit("Back out the changed reland", { "kernels/gather.cu": "a\nb\nc\n" });
    const same = repo.commit(`Revert "Revert "${title}""`, { "kernels/gather.cu": "a\nB\nc\n" });
    repo.push();
    const ledger = new Ledger(db);
    const chain = [base, culprit, revert, changed, back, same];
    const titles = [
      "Base",
      title,
      `Revert "${title}"`,
      "Reland: Use index_reduce for the paged KV gather",
      "Back out",
      `Revert "Revert "${title}""`,
    ];
    await ledger.recordCommits(
      KEY,
      "main",
      chain.map((sha, i) => ({
        sha,
        parent: chain[i - 1] ?? "0".repeat(40),
        title: titles[i]!,
        author: "alice",
        suites: [],
        isRevert: i === 2,
      })),
    );
    await ledger.recordRevert(KEY, {
      culprit,
      suite: "attention",
      outcome: "pr-opened",
      reason: "autoRevert is on",
      summary: "breaks the gather",
      at: new Date().toISOString(),
      revertPr: 9,
    });
    const deps = {
      ledger,
      cache: new RepoCache(workDir),
      access: { forInstallation: async () => ({ token: "", octokit: {} }) },
      log: pino({ level: "silent" }),
    } as unknown as PipelineDeps;
    const ref = { owner: "gpu-team", repo: "flash-kernels", installationId: 1, cloneUrl: repo.bare, branch: "main" };

    // A reland whose change differs is a new change, not evidence against the revert.
    expect(await noticeRelands(deps, ref, [{ sha: changed, title: titles[3]! }])).toEqual([]);
    expect((await ledger.revertOf(KEY, culprit))!.relandedAs).toBeUndefined();
    expect(await noticeRelands(deps, ref, [{ sha: same, title: titles[5]! }])).toEqual([culprit]);
    expect((await ledger.revertOf(KEY, culprit))!.relandedAs).toBe(same);
    // Once only, and kept when the revert step records the revert again.
    expect(await noticeRelands(deps, ref, [{ sha: same, title: titles[5]! }])).toEqual([]);
    await ledger.recordRevert(KEY, { ...(await ledger.revertOf(KEY, culprit))!, relandedAs: undefined, reason: "retried" });
    expect((await ledger.revertOf(KEY, culprit))!.relandedAs).toBe(same);
    expect((await ledger.timelineAt(KEY, [culprit])).filter((e) => e.kind === "relanded")).toHaveLength(1);
  }, 30_000);
});
