// Git storage: thin async wrappers over the real git CLI, operating on bare repositories.
import { spawn } from "node:child_process";

export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** Isolate server-side git from the user's configuration. */
export const GIT_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
};

export class SandboxGitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed (${code}): ${stderr.trim()}`);
  }
}

export interface GitRun {
  stdout: string;
  stdoutBuf: Buffer;
  stderr: string;
  code: number;
}

export interface GitOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  okCodes?: number[];
  cwd?: string;
}

export function runGit(gitDir: string | null, args: string[], opts: GitOptions = {}): Promise<GitRun> {
  const full = gitDir ? [`--git-dir=${gitDir}`, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn("git", full, {
      cwd: opts.cwd,
      env: { ...process.env, ...GIT_ENV, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdoutBuf = Buffer.concat(out);
      const r = { stdout: stdoutBuf.toString("utf8"), stdoutBuf, stderr: Buffer.concat(err).toString("utf8"), code: code ?? -1 };
      if ((opts.okCodes ?? [0]).includes(r.code)) resolve(r);
      else reject(new SandboxGitError(args, r.code, r.stderr));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

export async function git(gitDir: string, args: string[], opts: GitOptions = {}): Promise<string> {
  return (await runGit(gitDir, args, opts)).stdout;
}

export interface Identity {
  name: string;
  email: string;
  /** ISO timestamp. */
  date: string;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: Identity;
  committer: Identity;
  message: string;
}

export async function revParse(dir: string, rev: string, type = "commit"): Promise<string | null> {
  if (rev.startsWith("-")) return null;
  const r = await runGit(dir, ["rev-parse", "--verify", "--quiet", `${rev}^{${type}}`], { okCodes: [0, 1, 128] });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Resolves a branch name, tag, full ref or (abbreviated) sha to a commit sha. */
export async function resolveCommit(dir: string, ref: string): Promise<string | null> {
  // A full sha is by far the commonest ref the app sends; trying it first saves two git processes.
  const candidates = /^[0-9a-f]{40}$/i.test(ref)
    ? [ref, `refs/heads/${ref}`, `refs/tags/${ref}`]
    : [`refs/heads/${ref}`, `refs/tags/${ref}`, ref];
  for (const candidate of candidates) {
    const sha = await revParse(dir, candidate);
    if (sha) return sha;
  }
  return null;
}

export async function objectType(dir: string, sha: string): Promise<string | null> {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return null;
  const r = await runGit(dir, ["cat-file", "-t", sha], { okCodes: [0, 1, 128] });
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function listRefs(dir: string, patterns: string[] = ["refs/heads", "refs/tags"]): Promise<Map<string, string>> {
  const out = await git(dir, ["for-each-ref", "--format=%(refname) %(objectname)", ...patterns]);
  const map = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [ref, sha] = line.split(" ");
    if (ref && sha) map.set(ref, sha);
  }
  return map;
}

export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await runGit(dir, ["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [0, 1] });
  return r.code === 0;
}

export async function mergeBase(dir: string, a: string, b: string): Promise<string | null> {
  const r = await runGit(dir, ["merge-base", a, b], { okCodes: [0, 1] });
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function revList(dir: string, args: string[]): Promise<string[]> {
  return (await git(dir, ["rev-list", ...args])).split("\n").filter(Boolean);
}

function parseIdent(line: string): Identity {
  const m = /^(.*) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(line);
  if (!m) return { name: line, email: "", date: new Date(0).toISOString() };
  return { name: m[1]!, email: m[2]!, date: new Date(Number(m[3]) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
}

export async function readCommit(dir: string, sha: string): Promise<CommitInfo> {
  const raw = await git(dir, ["cat-file", "commit", sha]);
  const idx = raw.indexOf("\n\n");
  const header = idx >= 0 ? raw.slice(0, idx) : raw;
  const message = idx >= 0 ? raw.slice(idx + 2) : "";
  const info: CommitInfo = {
    sha,
    tree: "",
    parents: [],
    author: parseIdent(""),
    committer: parseIdent(""),
    message: message.replace(/\n$/, ""),
  };
  for (const line of header.split("\n")) {
    const sp = line.indexOf(" ");
    const key = line.slice(0, sp);
    const val = line.slice(sp + 1);
    if (key === "tree") info.tree = val;
    else if (key === "parent") info.parents.push(val);
    else if (key === "author") info.author = parseIdent(val);
    else if (key === "committer") info.committer = parseIdent(val);
  }
  return info;
}

export interface FileChange {
  filename: string;
  status: "added" | "removed" | "modified";
  additions: number;
  deletions: number;
  changes: number;
  sha: string | null;
}

/** Files changed from `from` (commit or null for root) to `to`, renames reported as remove+add. */
export async function diffFiles(dir: string, from: string | null, to: string): Promise<FileChange[]> {
  const base = from ?? EMPTY_TREE;
  const [raw, numstat] = await Promise.all([
    git(dir, ["diff-tree", "-r", "--no-renames", "--no-commit-id", "-z", base, to]),
    git(dir, ["diff-tree", "-r", "--no-renames", "--no-commit-id", "--numstat", "-z", base, to]),
  ]);
  const counts = new Map<string, [number, number]>();
  for (const rec of numstat.split("\0")) {
    const m = /^(\S+)\t(\S+)\t(.*)$/s.exec(rec);
    if (m) counts.set(m[3]!, [m[1] === "-" ? 0 : Number(m[1]), m[2] === "-" ? 0 : Number(m[2])]);
  }
  const parts = raw.split("\0");
  const files: FileChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!.split(" ");
    const path = parts[i + 1]!;
    const letter = meta[4] ?? "M";
    const status = letter === "A" ? "added" : letter === "D" ? "removed" : "modified";
    const [additions, deletions] = counts.get(path) ?? [0, 0];
    files.push({
      filename: path,
      status,
      additions,
      deletions,
      changes: additions + deletions,
      sha: status === "removed" ? null : (meta[3] ?? null),
    });
  }
  return files;
}

export interface MergeTreeResult {
  clean: boolean;
  tree: string;
  conflicts: string[];
}

/** Three-way merge without a worktree (git >= 2.38). */
export async function mergeTree(dir: string, ours: string, theirs: string): Promise<MergeTreeResult> {
  const r = await runGit(dir, ["merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs], { okCodes: [0, 1] });
  const lines = r.stdout.split("\n");
  const tree = lines[0]!.trim();
  const conflicts = r.code === 0 ? [] : lines.slice(1).filter(Boolean);
  return { clean: r.code === 0, tree, conflicts };
}

function gitDate(iso: string): string {
  return `@${Math.floor(new Date(iso).getTime() / 1000)} +0000`;
}

export function identityEnv(author: Identity, committer: Identity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: gitDate(author.date),
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: gitDate(committer.date),
  };
}

export async function commitTree(
  dir: string,
  tree: string,
  parents: string[],
  message: string,
  author: Identity,
  committer: Identity,
): Promise<string> {
  const args = ["commit-tree", tree, ...parents.flatMap((p) => ["-p", p])];
  return (await git(dir, args, { input: message, env: identityEnv(author, committer) })).trim();
}

/** Compare-and-swap ref update; `oldSha` null means "must not exist", undefined means unchecked. */
export async function updateRef(dir: string, ref: string, newSha: string, oldSha?: string | null): Promise<void> {
  const args = ["update-ref", ref, newSha];
  if (oldSha !== undefined) args.push(oldSha ?? "0".repeat(40));
  await git(dir, args);
}

export async function deleteRef(dir: string, ref: string, oldSha?: string): Promise<void> {
  await git(dir, ["update-ref", "-d", ref, ...(oldSha ? [oldSha] : [])]);
}

export async function hashObject(dir: string, content: Buffer, type = "blob"): Promise<string> {
  return (await git(dir, ["hash-object", "-w", "-t", type, "--stdin"], { input: content })).trim();
}

export async function readBlob(dir: string, sha: string): Promise<Buffer> {
  return (await runGit(dir, ["cat-file", "blob", sha])).stdoutBuf;
}

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  size?: number;
  path: string;
}

export async function lsTree(dir: string, treeish: string, opts: { recursive?: boolean; path?: string } = {}): Promise<TreeEntry[]> {
  const args = ["ls-tree", "-l", "-z"];
  if (opts.recursive) args.push("-r", "-t");
  args.push(treeish);
  if (opts.path !== undefined) args.push("--", opts.path);
  const r = await runGit(dir, args, { okCodes: [0, 128] });
  if (r.code !== 0) return [];
  const entries: TreeEntry[] = [];
  for (const rec of r.stdout.split("\0")) {
    const m = /^(\d+) (\w+) ([0-9a-f]+)\s+(\S+)\t(.*)$/s.exec(rec);
    if (!m) continue;
    const e: TreeEntry = { mode: m[1]!, type: m[2] as TreeEntry["type"], sha: m[3]!, path: m[5]! };
    if (m[4] !== "-") e.size = Number(m[4]);
    entries.push(e);
  }
  return entries;
}

/** Builds a tree with a private index: optional base tree, then file puts (sha) and removals (null). */
export async function buildTree(
  dir: string,
  indexFile: string,
  baseTree: string | null,
  edits: { path: string; mode: string; sha: string | null; type: string }[],
): Promise<string> {
  const env = { GIT_INDEX_FILE: indexFile };
  if (baseTree) await git(dir, ["read-tree", baseTree], { env });
  else await git(dir, ["read-tree", "--empty"], { env });
  const info = (lines: string[]): Promise<string> => git(dir, ["update-index", "--index-info"], { env, input: lines.join("\n") + "\n" });
  for (const e of edits) {
    if (e.sha === null || e.type === "tree") {
      // remove the path (file) or everything under it (directory); mode 0 removes an index entry
      const ls = await git(dir, ["ls-files", "-z", "--", e.path], { env });
      const paths = ls.split("\0").filter(Boolean);
      if (paths.length) await info(paths.map((p) => `0 ${"0".repeat(40)}\t${p}`));
      if (e.sha && e.type === "tree") await git(dir, ["read-tree", `--prefix=${e.path}/`, e.sha], { env });
      continue;
    }
    await info([`${e.mode} ${e.sha}\t${e.path}`]);
  }
  return (await git(dir, ["write-tree"], { env })).trim();
}
