import type { RegressionDecision, FlakyDecision, Rebaseline, RunRecord } from "../../model/engine.js";
import type { StoredCommit, JobRecord, VerdictRecord, RevertRecord, TimelineEntry } from "../../model/ledger.js";
import { jobId } from "../../model/jobs.js";
import type { RedisHandle } from "./redis.js";
import { transaction, type Database } from "./database.js";

/** What one repository's import wrote (rows new to the database; a repeated import writes none). */
export interface ImportCounts {
  repo: string;
  commits: number;
  jobs: number;
  runs: number;
  verdicts: number;
  reverts: number;
  rebaselines: number;
  timeline: number;
  checkRuns: number;
}

/**
 * Moves the history an earlier Sheriff kept in Redis (`<prefix>:repo:<owner/name>:*`) into the
 * database, keeping every record's own times and order. Each repository is one transaction, and
 * every insert skips what is already there, so an interrupted import can simply be run again.
 * Redis is only read: once the import is checked, the old keys can be deleted by hand.
 */
export async function importRedisLedger(store: RedisHandle, db: Database): Promise<ImportCounts[]> {
  const out: ImportCounts[] = [];
  for (const repo of await legacyRepos(store)) out.push(await importRepo(store, db, repo));
  return out;
}

async function legacyRepos(store: RedisHandle): Promise<string[]> {
  const repos = new Set<string>();
  const marker = store.key("repo", "");
  let cursor = "0";
  do {
    const [next, keys] = await store.redis.scan(cursor, "MATCH", `${marker}*`, "COUNT", 1000);
    cursor = next;
    // <prefix>:repo:<owner>/<name>:<record...>; repository names never contain ':'.
    for (const key of keys) repos.add(key.slice(marker.length).split(":")[0]!);
  } while (cursor !== "0");
  return [...repos].filter((r) => r.includes("/")).sort();
}

/** Reads a hash's values in slices, so a large history never becomes one giant reply. */
async function hashValues(store: RedisHandle, key: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  let cursor = "0";
  do {
    const [next, flat] = await store.redis.hscan(key, cursor, "COUNT", 1000);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  } while (cursor !== "0");
  return out;
}

async function listValues(store: RedisHandle, key: string): Promise<string[]> {
  const out: string[] = [];
  for (let start = 0; ; start += 1000) {
    const slice = await store.redis.lrange(key, start, start + 999);
    out.push(...slice);
    if (slice.length < 1000) return out;
  }
}

async function importRepo(store: RedisHandle, db: Database, repo: string): Promise<ImportCounts> {
  const key = (...parts: string[]) => store.key("repo", repo, ...parts);
  const commits = new Map((await hashValues(store, key("commits"))).map(([sha, v]) => [sha, JSON.parse(v) as StoredCommit]));
  const branches = await branchChains(store, key);
  const heads = await hashValues(store, key("heads"));
  const jobs = (await hashValues(store, key("jobs"))).map(([, v]) => JSON.parse(v) as JobRecord);
  const runs: RunRecord[] = [];
  for (const suiteKey of await keysMatching(store, key("runs", "*")))
    runs.push(...(await hashValues(store, suiteKey)).map(([, v]) => JSON.parse(v) as RunRecord));
  const verdicts = (await hashValues(store, key("verdicts"))).map(([, v]) => JSON.parse(v) as VerdictRecord);
  const reverts = (await hashValues(store, key("reverts"))).map(([, v]) => JSON.parse(v) as RevertRecord);
  const revertDays = await hashValues(store, key("revert-days"));
  const rebaselines = (await listValues(store, key("rebaselines"))).map((v) => JSON.parse(v) as Rebaseline);
  const checkRuns = await hashValues(store, key("check-runs"));
  const timeline = (await listValues(store, key("timeline"))).map((v) => JSON.parse(v) as TimelineEntry);

  return transaction(db, async (client) => {
    const counts: ImportCounts = { repo, commits: 0, jobs: 0, runs: 0, verdicts: 0, reverts: 0, rebaselines: 0, timeline: 0, checkRuns: 0 };
    const head = new Map(heads);
    for (const [branch, shas] of branches) {
      await client.query("INSERT INTO branches (repo, branch, head, next_seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", [
        repo,
        branch,
        head.get(branch) ?? null,
        shas.length,
      ]);
      for (const [seq, sha] of shas.entries()) {
        const c = commits.get(sha);
        if (!c) continue;
        const row = await client.query(
          `INSERT INTO commits (repo, branch, seq, sha, parent, title, author, suites, is_revert, landed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
          [repo, branch, seq, sha, c.parent, c.title, c.author, c.suites, c.isRevert, c.landedAt],
        );
        counts.commits += row.rowCount ?? 0;
      }
    }
    for (const [branch, sha] of heads) {
      if (!branches.has(branch))
        await client.query("INSERT INTO branches (repo, branch, head) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [repo, branch, sha]);
    }
    // Jobs in the order they were queued: `ord` then follows it, as the engine's pending list did.
    for (const j of jobs.sort((a, b) => a.enqueuedAt.localeCompare(b.enqueuedAt))) {
      const row = await client.query(
        `INSERT INTO jobs (repo, id, sha, suite, purpose, job, state, error, enqueued_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
        [repo, j.id, j.job.sha, j.job.suite, j.job.purpose, j.job, j.state, j.error ?? null, j.enqueuedAt, j.updatedAt],
      );
      counts.jobs += row.rowCount ?? 0;
    }
    for (const r of runs.sort((a, b) => a.result.finishedAt.localeCompare(b.result.finishedAt))) {
      const row = await client.query(
        `INSERT INTO runs (repo, job_id, suite, sha, purpose, job, result, baseline_result, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [repo, jobId(r.job), r.job.suite, r.job.sha, r.job.purpose, r.job, r.result, r.baselineResult ?? null, r.result.finishedAt],
      );
      counts.runs += row.rowCount ?? 0;
    }
    for (const v of verdicts) {
      const d: RegressionDecision | FlakyDecision = v.decision;
      const row = await client.query(
        "INSERT INTO verdicts (repo, type, suite, sha, decision, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [repo, d.type, d.suite, d.type === "regression" ? d.culprit : d.sha, d, v.at],
      );
      counts.verdicts += row.rowCount ?? 0;
    }
    for (const r of reverts) {
      const row = await client.query(
        `INSERT INTO reverts (repo, culprit, suite, outcome, original_pr, revert_pr, record, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [repo, r.culprit, r.suite, r.outcome, r.originalPr ?? null, r.revertPr ?? null, r, r.at],
      );
      counts.reverts += row.rowCount ?? 0;
    }
    for (const [day, count] of revertDays)
      await client.query("INSERT INTO revert_days (repo, day, count) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
        repo,
        day,
        Number(count),
      ]);
    for (const [sha, id] of checkRuns) {
      const row = await client.query("INSERT INTO check_runs (repo, sha, check_run_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
        repo,
        sha,
        Number(id),
      ]);
      counts.checkRuns += row.rowCount ?? 0;
    }
    // Lists have no key: import them only into a repository that has none yet, so a rerun adds nothing twice.
    if (!(await hasRows(client, "rebaselines", repo)))
      for (const r of rebaselines) {
        await client.query("INSERT INTO rebaselines (repo, suite, sha, reason, by_login, at) VALUES ($1, $2, $3, $4, $5, $6)", [
          repo,
          r.suite,
          r.sha,
          r.reason,
          r.by,
          r.at,
        ]);
        counts.rebaselines++;
      }
    if (!(await hasRows(client, "timeline", repo)))
      for (const e of timeline) {
        await client.query("INSERT INTO timeline (repo, at, kind, text, sha, suite) VALUES ($1, $2, $3, $4, $5, $6)", [
          repo,
          e.at,
          e.kind,
          e.text,
          e.sha ?? null,
          e.suite ?? null,
        ]);
        counts.timeline++;
      }
    return counts;
  });
}

async function hasRows(client: Pick<Database["pool"], "query">, table: "rebaselines" | "timeline", repo: string): Promise<boolean> {
  return (await client.query(`SELECT 1 FROM ${table} WHERE repo = $1 LIMIT 1`, [repo])).rows.length > 0;
}

async function keysMatching(store: RedisHandle, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await store.redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== "0");
  return out.sort();
}

async function branchChains(store: RedisHandle, key: (...parts: string[]) => string): Promise<Map<string, string[]>> {
  const prefix = key("chain", "");
  const chains = new Map<string, string[]>();
  for (const chainKey of await keysMatching(store, `${prefix}*`))
    chains.set(chainKey.slice(prefix.length), await listValues(store, chainKey));
  return chains;
}
