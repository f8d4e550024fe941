import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const script = new URL("../../kernels/scripts/ci.sh", import.meta.url).pathname;
const builds: string[] = [];

async function ciBuild(cuda: "ON" | "OFF" | "AUTO"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `sheriff-kernels-${cuda.toLowerCase()}-`));
  builds.push(dir);
  const { stdout } = await exec("bash", [script, dir], { env: { ...process.env, SHERIFF_KERNELS_CUDA: cuda }, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

describe("kernels/ builds and its CPU tests pass on a machine without a GPU", () => {
  afterAll(() => builds.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("CPU-only: the references and the host execution of the kernel code, checked by ctest", async () => {
    const out = await ciBuild("OFF");
    expect(out).toMatch(/SHERIFF_KERNELS_CUDA=OFF/);
    expect(out).toMatch(/100% tests passed, 0 tests failed/);
  }, 300_000);

  it("everything, CUDA kernels for sm_80 and sm_90a included, where nvcc is installed (GPU tests skip without a device)", async () => {
    const out = await ciBuild("AUTO");
    expect(out).toMatch(/100% tests passed|tests passed, 0 tests failed/);
    expect(out).not.toMatch(/[1-9]\d* tests failed/);
  }, 900_000);
});
