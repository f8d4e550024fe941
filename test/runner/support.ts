import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Shared setup of the runner tests: the compiled suite child, the addon, a kernels repo with planted bugs. */

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function hashDir(h: ReturnType<typeof createHash>, dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) hashDir(h, p);
    else h.update(p).update(readFileSync(p));
  }
}

/**
 * The suite child runs as plain Node (it is a separate process), so the tests compile Sheriff's
 * runner to JS once (tsc, only the files the child imports) into a content-keyed folder under
 * node_modules/.cache, where zod and yaml resolve.
 */
export function compiledEntry(): string {
  const h = createHash("sha256");
  hashDir(h, join(ROOT, "src"));
  h.update(readFileSync(join(ROOT, "test/runner/tsconfig.child.json")));
  const key = h.digest("hex").slice(0, 16);
  const out = join(ROOT, "node_modules/.cache", `sheriff-child-${key}`);
  const entry = join(out, "runner", "suiteMain.js");
  if (!existsSync(entry)) {
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "test/runner/tsconfig.child.json"), "--outDir", tmp],
        { cwd: ROOT, stdio: "pipe" },
      );
    } catch (err) {
      // type errors elsewhere in src/ (the typecheck reports them) still emit JavaScript
      if (!existsSync(join(tmp, "runner", "suiteMain.js"))) throw err;
    }
    try {
      renameSync(tmp, out);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test file compiled it first
    }
  }
  return entry;
}

/**
 * Sheriff built as `npm run build` builds it, for tests that run its CLI as separate processes:
 * a copy of the project (symlinks to everything but dist/) whose dist/ is compiled once per
 * content of src/, under node_modules/.cache. Returns the project's root.
 */
export function compiledProject(): string {
  const h = createHash("sha256");
  hashDir(h, join(ROOT, "src"));
  h.update(readFileSync(join(ROOT, "tsconfig.json")));
  const project = join(ROOT, "node_modules/.cache", `sheriff-project-${h.digest("hex").slice(0, 16)}`);
  if (existsSync(join(project, "dist", "entry", "cli.js"))) return project;
  const tmp = `${project}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  for (const entry of readdirSync(ROOT)) if (entry !== "dist" && entry !== "node_modules") symlinkSync(join(ROOT, entry), join(tmp, entry));
  symlinkSync(join(ROOT, "node_modules"), join(tmp, "node_modules"));
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", join(tmp, "dist")],
    {
      cwd: ROOT,
      stdio: "pipe",
    },
  );
  try {
    renameSync(tmp, project);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test file built it first
  }
  return project;
}

/** Builds the native addon if it is not built yet (npm install builds it; a fresh clone in CI too). */
export function ensureAddon(): string {
  const path = join(ROOT, "native/build/Release/sheriff_native.node");
  if (!existsSync(path)) execFileSync(process.execPath, [join(ROOT, "native/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  return path;
}

/** The kernels build cache shared by test runs: keyed by content, so a second run builds nothing. */
export const SHARED_WORK_DIR = join(tmpdir(), "sheriff-test-kernels-cache");

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Alice",
  GIT_AUTHOR_EMAIL: "alice@example.com",
  GIT_COMMITTER_NAME: "Alice",
  GIT_COMMITTER_EMAIL: "alice@example.com",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: GIT_ENV }).trim();
}

export interface KernelsRepo {
  /** Temp folder holding the repository and its worktrees: remove it when done. */
  root: string;
  dir: string;
  good: string;
  /** Only a README changed: same kernels tree as `good`. */
  docsOnly: string;
  bf16Truncation: string;
  /** The timing library reads the end event without synchronizing it first. */
  eventReadBeforeCompletion: string;
  segfault: string;
  hang: string;
  compileError: string;
  checkout(sha: string): string;
}

function edit(dir: string, path: string, from: string, to: string): void {
  const full = join(dir, path);
  const text = readFileSync(full, "utf8");
  if (!text.includes(from)) throw new Error(`planting a bug: "${from}" not found in ${path}`);
  writeFileSync(full, text.replace(from, to));
}

/**
 * A real git repository with Sheriff's kernels/ (as committed at HEAD of this checkout) and
 * scratch branches with planted bugs: bf16 conversion that truncates, a segfault, a hang, a
 * compile error. `checkout(sha)` gives a worktree of a commit, like the GPU worker's.
 */
export function kernelsRepo(): KernelsRepo {
  const root = mkdtempSync(join(tmpdir(), "sheriff-kernels-repo-"));
  const dir = join(root, "repo");
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "--quiet", "-b", "main");
  execFileSync("sh", ["-c", `git -C '${ROOT}' archive HEAD kernels | tar -x -C '${dir}'`]);
  writeFileSync(join(dir, "README.md"), "kernels\n");
  git(dir, "add", "-A");
  git(dir, "commit", "--quiet", "-m", "kernels");
  const good = git(dir, "rev-parse", "HEAD");
  const branch = (name: string, change: () => void): string => {
    git(dir, "checkout", "--quiet", "-b", name, good);
    change();
    git(dir, "commit", "--quiet", "-am", name);
    const sha = git(dir, "rev-parse", "HEAD");
    git(dir, "checkout", "--quiet", "main");
    return sha;
  };
  const docsOnly = branch("scratch/docs", () => writeFileSync(join(dir, "README.md"), "kernels, documented\n"));
  const bf16Truncation = branch("scratch/bf16-truncation", () =>
    edit(
      dir,
      "kernels/include/sk_convert_ops.h",
      "return (uint16_t)((x + 0x7fffu + lsb) >> 16);",
      "(void)lsb; return (uint16_t)(x >> 16);",
    ),
  );
  const eventReadBeforeCompletion = branch("scratch/event-no-sync", () =>
    edit(
      dir,
      "kernels/include/sk_timing_logic.h",
      "Ev s = be.synchronize(end);",
      "Ev s = Ev::Ok;  // planted: end is read without waiting for it",
    ),
  );
  const hostFn = "SK_API int sk_convert_host(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n) {";
  const segfault = branch("scratch/segfault", () =>
    edit(dir, "kernels/src/host_impl.cpp", hostFn, `${hostFn}\n  if (n > 4) *(volatile int*)(uintptr_t)n = 0;  // planted: wild write`),
  );
  const hang = branch("scratch/hang", () =>
    edit(dir, "kernels/src/host_impl.cpp", hostFn, `${hostFn}\n  for (volatile int spin = 1; spin;) {}  // planted: hang`),
  );
  const compileError = branch("scratch/compile-error", () =>
    edit(dir, "kernels/src/host_impl.cpp", hostFn, `${hostFn}\n  this does not compile;`),
  );
  return {
    root,
    dir,
    good,
    docsOnly,
    bf16Truncation,
    eventReadBeforeCompletion,
    segfault,
    hang,
    compileError,
    checkout(sha: string): string {
      const wt = join(root, `wt-${sha.slice(0, 8)}-${Math.random().toString(36).slice(2, 8)}`);
      git(dir, "worktree", "add", "--quiet", "--detach", wt, sha);
      return wt;
    },
  };
}
