import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The addon's typed surface is declared once, beside it (native/index.d.ts; documented in native/README.md). */
import type * as Addon from "../../../native/index.js";

export type {
  AttentionArgs,
  DeviceInfo,
  DtypeCode,
  IndexReduceArgs,
  KernelLibrary,
  KernelMode,
  TimingOptions,
  TimingStats,
} from "../../../native/index.js";
export type NativeAddon = typeof Addon;

export const DTYPE = { f32: 0, f16: 1, bf16: 2 } as const;
export type DtypeName = keyof typeof DTYPE;
export const REDUCE = { prod: 0, mean: 1, amax: 2, amin: 3 } as const;
export type ReduceName = keyof typeof REDUCE;

/** Error thrown by the addon: `status` is the sk_status code when the kernels library failed. */
export type NativeError = Error & { status?: number; code?: string };

/** Where the addon is: $SHERIFF_NATIVE_ADDON, else native/build/Release/ of the Sheriff checkout above this file. */
export function addonPath(): string {
  if (process.env.SHERIFF_NATIVE_ADDON) return resolve(process.env.SHERIFF_NATIVE_ADDON);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "native", "build", "Release", "sheriff_native.node");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "native", "build", "Release", "sheriff_native.node");
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(
      `native addon not built (${path} missing): run "npm run build:native" (needs a C++ compiler, python3 and Node's headers)`,
    );
  }
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}
