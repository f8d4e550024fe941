import { existsSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DTYPE, loadAddon, REDUCE, type KernelLibrary, type NativeAddon, type NativeError } from "../../src/runner/builtin/native.js";
import { prepareKernels } from "../../src/runner/harness.js";
import { ensureAddon, kernelsRepo, SHARED_WORK_DIR } from "../runner/support.js";

let addon: NativeAddon;
let lib: KernelLibrary;
let repoDir: string | undefined;

beforeAll(async () => {
  ensureAddon();
  addon = loadAddon();
  const repo = kernelsRepo();
  repoDir = repo.root;
  const build = await prepareKernels(repo.checkout(repo.good), { workDir: SHARED_WORK_DIR, cuda: "off" });
  lib = addon.load(build.libPath);
}, 120_000);

afterAll(() => {
  if (repoDir) rmSync(repoDir, { recursive: true, force: true });
});

describe("native addon (no GPU, no CUDA driver here)", () => {
  it("loads and reports no CUDA device", () => {
    expect(addon.abiVersion).toBe(1);
    const info = addon.deviceInfo();
    if (!existsSync("/dev/nvidiactl")) {
      expect(info.deviceCount).toBe(0);
      expect(info.message).toMatch(/^no CUDA device/);
    }
    const status = lib.status();
    expect(status).toMatchObject({ abiVersion: 1, builtWithCuda: false, cuda: false });
    expect(status.message).toMatch(/^no CUDA device/);
    expect(lib.cudaAvailable()).toBe(false);
  });

  it("runs the host execution and the reference on TypedArrays", () => {
    const src = Float32Array.from([1.00390625, 1.01171875, -2.5, 65504, NaN, Infinity]);
    const host = new Uint16Array(src.length);
    const ref = new Uint16Array(src.length);
    lib.convert("host", DTYPE.f32, src, DTYPE.bf16, host);
    lib.convert("ref", DTYPE.f32, src, DTYPE.bf16, ref);
    expect(Array.from(host)).toEqual(Array.from(ref));
    expect(host[0]).toBe(0x3f80); // tie to even: down
    expect(host[1]).toBe(0x3f82); // tie to even: up
    expect(host[4]).toBe(0x7fc0);

    const self = new Float32Array([1, 1, 1, 1]);
    const args = {
      dtype: DTYPE.f32,
      self,
      selfRows: 2,
      rowSize: 2,
      index: BigInt64Array.from([1n, 1n]),
      source: Float32Array.from([2, 4, 6, 8]),
      reduce: REDUCE.mean,
      includeSelf: false,
    };
    lib.indexReduce("host", args);
    expect(Array.from(self)).toEqual([1, 1, 4, 6]);
  });

  it("throws JS errors carrying sk_last_error()", () => {
    const args = {
      dtype: DTYPE.f32,
      self: new Float32Array(4),
      selfRows: 2,
      rowSize: 2,
      index: BigInt64Array.from([5n]),
      source: new Float32Array(2),
      reduce: REDUCE.amax,
      includeSelf: true,
    };
    let err: NativeError | undefined;
    try {
      lib.indexReduce("ref", args);
    } catch (e) {
      err = e as NativeError;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/sk_index_reduce_ref: .*out of range/);
    expect(err!.code).toBe("SK_ERR_INVALID");
    // the CUDA path says clearly that there is no CUDA
    expect(() => lib.convert("cuda", DTYPE.f32, new Float32Array(4), DTYPE.bf16, new Uint16Array(4))).toThrow(/without CUDA/);
    expect(() => lib.timeSpin(10, { reps: 2 })).toThrow(/without CUDA/);
    expect(() => addon.load("/nonexistent/libsheriff_kernels.so")).toThrow(/cannot load kernels library/);
    expect(() => addon.load("/lib/x86_64-linux-gnu/libm.so.6")).toThrow(/not a Sheriff kernels library/);
  });

  it("summarizes timing samples with the library's statistics", () => {
    const s = lib.summarize(Float32Array.from([4, 1, 3, 2]));
    expect(s).toMatchObject({ n: 4, median: 2.5, min: 1, max: 4, mean: 2.5 });
  });
});
