import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { API_TEST, API_V0, DEMO_CONFIG, SMOKE_TEST } from "./story.js";

const SKIP = new Set(["build", "check", "node_modules"]);

async function walk(root: string, dir: string, out: Record<string, string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, full, out);
    else if (entry.isFile()) out[relative(root, full)] = await readFile(full, "utf8");
  }
}

/**
 * The demo repository at the start of the day: Sheriff's own `kernels/` (the real CUDA kernels,
 * CPU references and host paths), a Python API layer with its tests, and a smoke test.
 * The Sheriff config lands in the first push, as when a team adopts Sheriff.
 */
export async function initialFiles(projectRoot: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  await walk(projectRoot, join(projectRoot, "kernels"), files);
  return {
    ...files,
    "README.md": "# flash-kernels\n\nVariable-length attention and friends for inference.\n",
    "kernels/api/varlen.py": API_V0,
    "tests/test_varlen_api.py": API_TEST,
    "tests/smoke.sh": SMOKE_TEST,
  };
}

export const ADOPT_SHERIFF = { ".github/sheriff.yml": DEMO_CONFIG };
