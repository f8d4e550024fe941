import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCommandSuite } from "../../src/runner/command.js";

const dir = mkdtempSync(join(tmpdir(), "sheriff-cmd-result-"));
const sha = "c".repeat(40);
const run = (command: string) => runCommandSuite({ dir, suite: "smoke", command, sha, timeoutMs: 10_000 });

/** A shell command writing a result to $SHERIFF_RESULT, with `change` over a passing one. */
function writes(change: Record<string, unknown>, then = ""): string {
  const now = new Date().toISOString();
  const result = {
    schema: "sheriff.result/v1",
    suite: "smoke",
    commit: sha,
    status: "completed",
    startedAt: now,
    finishedAt: now,
    tests: [{ name: "a", outcome: "pass" }],
    benchmarks: [],
    environment: { commit: sha },
    ...change,
  };
  return `cat > "$SHERIFF_RESULT" <<'JSON'\n${JSON.stringify(result)}\nJSON\n${then}`;
}

describe("a command suite's result file must agree with the run", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("does not pass a suite that exits 3 after writing a passing result", async () => {
    const result = await run(writes({}, "exit 3"));
    expect(result).toMatchObject({
      status: "error",
      tests: [
        {
          name: "smoke",
          outcome: "error",
          message: "$SHERIFF_RESULT: the suite exited with code 3, but its result says every test passed",
        },
      ],
    });
  });

  it("keeps a failing result of a suite that exits non-zero, and a passing one of a suite that exits 0", async () => {
    const failing = await run(writes({ tests: [{ name: "a", outcome: "fail", message: "off by one" }] }, "exit 1"));
    expect(failing).toMatchObject({ status: "completed", tests: [{ name: "a", outcome: "fail" }] });
    expect(await run(writes({}))).toMatchObject({ status: "completed", tests: [{ name: "a", outcome: "pass" }] });
  });

  it.each([
    [{ commit: "d".repeat(40), environment: { commit: "d".repeat(40) } }, `the result is for commit ${"d".repeat(40)}, the job for ${sha}`],
    [{ environment: { commit: "d".repeat(40) } }, `the result says it ran at commit ${"d".repeat(40)}, the job is for ${sha}`],
    [{ suite: "other" }, "the result is for suite other, the job for smoke"],
  ])("rejects a result for another job: %j", async (change, reason) => {
    const result = await run(writes(change));
    expect(result).toMatchObject({
      status: "error",
      commit: sha,
      environment: { commit: sha },
      tests: [{ outcome: "error", message: `$SHERIFF_RESULT: ${reason}` }],
    });
  });
});
