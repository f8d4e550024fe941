import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCommandSuite } from "../../src/runner/command.js";

const dir = mkdtempSync(join(tmpdir(), "sheriff-cmd-"));
const sha = "c".repeat(40);
const run = (command: string, timeoutMs = 10_000) => runCommandSuite({ dir, suite: "smoke", command, sha, timeoutMs });

describe("command suites", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes on exit 0 and fails with the exit code otherwise", async () => {
    expect((await run("echo fine")).tests).toEqual([{ name: "smoke", outcome: "pass" }]);
    const failed = await run("echo broken >&2; exit 3");
    expect(failed).toMatchObject({ status: "completed", tests: [{ outcome: "fail", message: "exited with code 3" }] });
    expect(failed.log).toContain("broken");
  });

  it("turns a segfaulting child into a crashed result", async () => {
    const result = await run(`node -e "process.kill(process.pid, 'SIGSEGV')"`);
    expect(result).toMatchObject({ status: "crashed", tests: [{ outcome: "error", message: "killed by SIGSEGV" }] });
  });

  it("kills a hung suite and everything it started at the time limit", async () => {
    const result = await run("sleep 30 & sleep 30; wait", 300);
    expect(result).toMatchObject({ status: "timed_out", tests: [{ outcome: "error", message: "timed out after 0 s" }] });
  });

  it("reads the full result a suite writes, and reports an invalid one as an error", async () => {
    const valid = JSON.stringify({
      schema: "sheriff.result/v1",
      suite: "smoke",
      commit: sha,
      status: "completed",
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      tests: [
        { name: "a", outcome: "pass" },
        { name: "b", outcome: "fail", message: "off by one" },
      ],
      benchmarks: [{ name: "k", unit: "us", samples: [1, 2, 3] }],
      environment: { commit: sha },
    });
    const written = await run(`cat > "$SHERIFF_RESULT" <<'JSON'\n${valid}\nJSON`);
    expect(written.tests.map((t) => t.outcome)).toEqual(["pass", "fail"]);
    expect(written.benchmarks[0]!.samples).toEqual([1, 2, 3]);
    const invalid = await run(`echo '{"schema":"nope"}' > "$SHERIFF_RESULT"`);
    expect(invalid).toMatchObject({
      status: "error",
      tests: [{ outcome: "error", message: expect.stringContaining("invalid GPU job result") }],
    });
  });
});
