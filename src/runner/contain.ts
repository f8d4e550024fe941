import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * What a job's processes get and how they all end. Suites run code from the watched
 * repository, so they see none of the worker's environment (app credentials, Redis and
 * database URLs), only an allow-list, and every process of a job is killed when it ends.
 *
 * Every process of a job carries SHERIFF_JOB_TOKEN in its environment; `setsid` and `nohup`
 * keep it, so a scan of /proc finds processes that left the job's process group. The token
 * names the worker process that owns the job (pid and start time), so a worker that starts
 * after a crash can tell leftovers of a dead worker from jobs of a live one.
 */

export const JOB_TOKEN_VAR = "SHERIFF_JOB_TOKEN";

/** Host variables a suite keeps: where programs and the toolchain (compilers, CUDA) are, and the locale. */
const HOST_VARS = ["PATH", "LANG", "LC_ALL", "CC", "CXX", "CUDACXX", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH"] as const;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A job's private directories: HOME and TMPDIR of its processes. */
export interface JobScratch {
  home: string;
  tmp: string;
}

/** Creates `<root>/home` and `<root>/tmp` for one job's processes. */
export async function makeScratch(root: string): Promise<JobScratch> {
  const scratch = { home: join(root, "home"), tmp: join(root, "tmp") };
  await mkdir(scratch.home, { recursive: true });
  await mkdir(scratch.tmp, { recursive: true });
  return scratch;
}

/**
 * The whole environment of a job's processes: the allow-listed host variables, HOME and TMPDIR
 * in the job's scratch directory, and what Sheriff hands the suite (`extra`: SHERIFF_SUITE,
 * SHERIFF_COMMIT, SHERIFF_RESULT, CUDA_VISIBLE_DEVICES...). Nothing else of the worker's.
 */
export function jobEnv(scratch: JobScratch, extra: NodeJS.ProcessEnv = {}, host: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of HOST_VARS) if (host[name] !== undefined) env[name] = host[name];
  env.PATH ??= DEFAULT_PATH;
  return { ...env, HOME: scratch.home, TMPDIR: scratch.tmp, ...extra };
}

interface ProcEntry {
  pid: number;
  ppid: number;
  token: string | null;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  // field 22 of stat, the 20th after the name: clock ticks since boot when the process started
  return stat === null ? null : (statFields(stat)[19] ?? null);
}

function tokenIn(environ: Buffer): string | null {
  const prefix = `${JOB_TOKEN_VAR}=`;
  for (const entry of environ.toString("utf8").split("\0")) if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  return null;
}

/** Every live process with its parent and job token; [] where there is no /proc. Zombies have no environment and are skipped. */
async function processes(): Promise<ProcEntry[]> {
  const names = await readdir("/proc").catch(() => [] as string[]);
  const entries = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n): Promise<ProcEntry | null> => {
        const [stat, environ] = await Promise.all([
          readFile(`/proc/${n}/stat`, "utf8").catch(() => null),
          readFile(`/proc/${n}/environ`).catch(() => null),
        ]);
        if (stat === null) return null;
        const fields = statFields(stat);
        if (fields[0] === "Z") return null;
        return { pid: Number(n), ppid: Number(fields[1]), token: environ ? tokenIn(environ) : null };
      }),
  );
  return entries.filter((e): e is ProcEntry => e !== null);
}

/** The marked processes and every descendant of them or of `roots` (a child that cleared its environment is still a child). */
export function jobMembers(procs: ProcEntry[], isMember: (token: string) => boolean, roots: number[] = []): number[] {
  const members = new Set<number>(procs.filter((p) => p.token !== null && isMember(p.token)).map((p) => p.pid));
  const known = new Set([...members, ...roots]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!known.has(p.pid) && known.has(p.ppid)) {
        known.add(p.pid);
        members.add(p.pid);
        grew = true;
      }
    }
  }
  for (const root of roots) if (procs.some((p) => p.pid === root)) members.add(root);
  members.delete(process.pid);
  return [...members];
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** SIGKILLs the processes `select` picks until a scan finds none (a process may fork while we kill). */
async function killUntilGone(select: (procs: ProcEntry[]) => number[] | Promise<number[]>): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const victims = await select(await processes());
    if (victims.length === 0) break;
    for (const pid of victims) killQuietly(pid);
    killed += victims.length;
    await new Promise((r) => setTimeout(r, 10));
  }
  return killed;
}

let ownerPrefix: Promise<string> | undefined;

/** `<pid>.<start time>` of this process: the owner part of its jobs' tokens. */
function owner(): Promise<string> {
  ownerPrefix ??= startTime(process.pid).then((start) => `${process.pid}.${start ?? "0"}`);
  return ownerPrefix;
}

/** A fresh token for one job's processes. */
export async function newJobToken(): Promise<string> {
  return `${await owner()}.${randomBytes(12).toString("hex")}`;
}

/**
 * Kills the job's process group, its marked processes and their descendants, and those of
 * `leader` while it has not been reaped (after that its pid may name another process).
 */
export async function killJob(token: string, group: number | undefined, leader?: number): Promise<number> {
  if (group !== undefined) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // the group is gone already
    }
  }
  return killUntilGone((procs) => jobMembers(procs, (t) => t === token, leader === undefined ? [] : [leader]));
}

/** True when the worker process that a token names is alive (same pid and start time). */
async function ownerAlive(token: string): Promise<boolean> {
  const [pid, start] = token.split(".");
  if (!pid || !/^\d+$/.test(pid)) return false;
  return (await startTime(Number(pid))) === start;
}

/**
 * Kills what jobs of dead workers left running (after a `kill -9` of the worker, say): every
 * marked process whose owning worker is gone, and its descendants. Jobs of live workers are
 * left alone. Returns how many processes were killed.
 */
export async function killLeftovers(): Promise<number> {
  return killUntilGone(async (procs) => {
    const tokens = [...new Set(procs.flatMap((p) => (p.token === null ? [] : [p.token])))];
    const dead = new Set<string>();
    for (const token of tokens) if (!(await ownerAlive(token))) dead.add(token);
    return jobMembers(procs, (t) => dead.has(t));
  });
}

const execFileAsync = promisify(execFile);

/** The uid and gid a job's processes run as (SHERIFF_SUITE_USER on the worker host). */
export interface SuiteUser {
  name: string;
  uid: number;
  gid: number;
}

/** Resolves SHERIFF_SUITE_USER (a user name or uid) through `id`; undefined when unset. */
export async function suiteUserFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<SuiteUser | undefined> {
  const name = env.SHERIFF_SUITE_USER?.trim();
  if (!name) return undefined;
  const id = async (flag: string) => Number((await execFileAsync("id", [flag, name])).stdout.trim());
  const [uid, gid] = await Promise.all([id("-u"), id("-g")]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`SHERIFF_SUITE_USER: no user ${name}`);
  return { name, uid, gid };
}

/** Gives the suite user the directories a job writes (its checkout and scratch). */
export async function handOver(user: SuiteUser | undefined, paths: string[]): Promise<void> {
  if (!user) return;
  await execFileAsync("chown", ["-R", `${user.uid}:${user.gid}`, ...paths]);
}

/** Takes directories back from the suite user (a kernels build that later jobs may read but not change). */
export async function takeBack(user: SuiteUser | undefined, paths: string[]): Promise<void> {
  if (!user) return;
  await execFileAsync("chown", ["-R", `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`, ...paths]);
  await execFileAsync("chmod", ["-R", "go-w,a+rX", ...paths]);
}
