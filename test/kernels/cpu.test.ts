import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const script = new URL("../../kernels/scripts/ci.sh", import.meta.url).pathname;
const build = mkdtempSync(join(tmpdir(), "sheriff-kernels-cpu-"));

describe("kernels/ on a machine without a GPU", () => {
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  it("builds the CPU references and host paths, and ctest checks them", async () => {
    const { stdout } = await exec("bash", [script, build], { env: { ...process.env, SHERIFF_KERNELS_CUDA: "OFF" }, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toMatch(/100% tests passed, 0 tests failed/);
  }, 300_000);
});
