import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { connectRedis, type RedisHandle } from "../../src/adapters/store/redis.js";

export const API = "https://api.github.com";
export const OWNER = "gpu-lab";
export const REPO = "kernels";
export const REPO_PATH = `/repos/${OWNER}/${REPO}`;

/** A Redis handle on the local server under a prefix of its own. */
export function testRedis(): RedisHandle {
  return connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", `sheriff-test-${randomBytes(6).toString("hex")}`);
}

/** Deletes every key under the handle's prefix (BullMQ queues included) and disconnects. */
export async function cleanupRedis(handle: RedisHandle): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await handle.redis.scan(cursor, "MATCH", `${handle.prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await handle.redis.del(...keys);
  } while (cursor !== "0");
  await handle.redis.quit();
}

export function testOctokit(): Octokit {
  const quiet = () => {};
  return new Octokit({ auth: "ghs_test", request: { retries: 0 }, log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
}

export function blockNetwork(): void {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
}

export function fixture<T = Record<string, any>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/comments/${name}`, import.meta.url), "utf8")) as T;
}

let nextCommentId = 3_200_000_000;

/** A real-shaped `issue_comment` payload with a fresh comment id (unless given). */
export function commentPayload(
  body: string,
  opts: { login?: string; id?: number; pr?: number; fixtureName?: string } = {},
): Record<string, any> {
  const payload = fixture(opts.fixtureName ?? "pr-comment-created.json");
  payload.comment.body = body;
  payload.comment.id = opts.id ?? nextCommentId++;
  if (opts.login) {
    payload.comment.user.login = opts.login;
    payload.sender.login = opts.login;
  }
  if (opts.pr) payload.issue.number = opts.pr;
  return payload;
}

export interface FakeReview {
  login: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  /** The head the review was given on; default the PR's head when asked. */
  commitId?: string;
}

export interface FakeCheck {
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
}

export interface FakePr {
  number: number;
  title: string;
  body: string;
  author: string;
  state: "open" | "closed";
  merged: boolean;
  draft: boolean;
  mergeable: boolean | null;
  mergeable_state: string;
  head: string;
  base: string;
  reviews: FakeReview[];
}

/**
 * A stateful fake of the parts of the GitHub REST API the land worker uses, mounted with nock.
 * Every request is logged (method, path, interesting body fields), so tests assert the exact calls.
 */
export class FakeGitHub {
  prs = new Map<number, FakePr>();
  /** Check runs by commit sha. */
  checks = new Map<string, FakeCheck[]>();
  statuses = new Map<string, { context: string; state: string }[]>();
  requiredChecks = ["gpu"];
  /** Collaborator permissions by login; anyone else has write. A login mapped to null is no collaborator (404). */
  permissions = new Map<string, "admin" | "maintain" | "write" | "triage" | "read" | null>();
  /** `required_pull_request_reviews.dismiss_stale_reviews` of the branch protection. */
  dismissStaleReviews = false;
  calls: string[] = [];
  /** Comments as people read them, with the hidden marker each was posted with. */
  comments: { pr: number; body: string; marker: string }[] = [];
  merges: { pr: number; sha: string; at: number }[] = [];
  /** How many check-run fetches a new head's `gpu` check stays in progress after an update-branch. */
  ciFetchesAfterUpdate = 1;
  /** Responses to force on the next merge calls, e.g. [409]. */
  mergeFailures: { status: number; message: string }[] = [];
  updateFailures: { status: number; message: string }[] = [];
  /** Merges in progress at once (must never exceed 1). */
  inFlight = 0;
  maxInFlight = 0;
  private ciPending = new Map<string, number>();
  private shaCounter = 0;

  addPr(pr: Partial<FakePr> & { number: number }): FakePr {
    const full: FakePr = {
      title: `PR ${pr.number}`,
      body: "",
      author: "bob",
      state: "open",
      merged: false,
      draft: false,
      mergeable: true,
      mergeable_state: "clean",
      head: `${pr.number.toString(16).padStart(4, "0")}${"a".repeat(36)}`,
      base: "main",
      reviews: [{ login: "carol", state: "APPROVED" }],
      ...pr,
    };
    this.prs.set(full.number, full);
    if (!this.checks.has(full.head)) this.checks.set(full.head, [{ name: "gpu", status: "completed", conclusion: "success" }]);
    return full;
  }

  private newSha(): string {
    this.shaCounter++;
    return `${this.shaCounter.toString(16).padStart(8, "0")}${"c".repeat(32)}`;
  }

  private pullJson(pr: FakePr) {
    return {
      url: `${API}${REPO_PATH}/pulls/${pr.number}`,
      number: pr.number,
      state: pr.state,
      title: pr.title,
      body: pr.body,
      user: { login: pr.author, type: "User" },
      draft: pr.draft,
      merged: pr.merged,
      mergeable: pr.mergeable,
      mergeable_state: pr.mergeable_state,
      head: { ref: `feature-${pr.number}`, sha: pr.head },
      base: { ref: pr.base, sha: "b".repeat(40) },
      merge_commit_sha: this.merges.findLast((m) => m.pr === pr.number)?.sha ?? null,
    };
  }

  mount(): nock.Scope {
    const scope = nock(API).persist();
    const prNumber = (uri: string) => Number(/\/pulls\/(\d+)/.exec(uri)?.[1] ?? /\/issues\/(\d+)/.exec(uri)?.[1]);
    const path = (uri: string) => uri.replace(REPO_PATH, "").replace(/\?.*$/, "");
    scope.get(new RegExp(`^${REPO_PATH}/pulls/\\d+(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      const pr = this.prs.get(prNumber(uri));
      return pr ? [200, this.pullJson(pr)] : [404, { message: "Not Found" }];
    });
    scope.get(new RegExp(`^${REPO_PATH}/pulls/\\d+/reviews(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      const pr = this.prs.get(prNumber(uri));
      if (!pr) return [404, { message: "Not Found" }];
      return [
        200,
        pr.reviews.map((r, i) => ({
          id: i + 1,
          user: { login: r.login },
          state: r.state,
          submitted_at: `2026-11-25T10:0${i}:00Z`,
          commit_id: r.commitId ?? pr.head,
        })),
      ];
    });
    scope.get(new RegExp(`^${REPO_PATH}/commits/[0-9a-f]+/check-runs(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      const sha = /commits\/([0-9a-f]+)/.exec(uri)![1]!;
      const left = this.ciPending.get(sha);
      if (left !== undefined) {
        if (left <= 0) {
          this.checks.set(sha, [{ name: "gpu", status: "completed", conclusion: "success" }]);
          this.ciPending.delete(sha);
        } else this.ciPending.set(sha, left - 1);
      }
      const runs = (this.checks.get(sha) ?? []).map((c, i) => ({
        id: i + 1,
        name: c.name,
        status: c.status,
        conclusion: c.conclusion,
        head_sha: sha,
      }));
      return [200, { total_count: runs.length, check_runs: runs }];
    });
    scope.get(new RegExp(`^${REPO_PATH}/commits/[0-9a-f]+/status(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      const sha = /commits\/([0-9a-f]+)/.exec(uri)![1]!;
      const statuses = this.statuses.get(sha) ?? [];
      return [200, { state: statuses.length ? "pending" : "success", sha, total_count: statuses.length, statuses }];
    });
    scope.get(new RegExp(`^${REPO_PATH}/branches/[^/?]+(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      return [
        200,
        {
          name: "main",
          protected: true,
          protection: {
            enabled: true,
            required_status_checks: {
              enforcement_level: "non_admins",
              contexts: this.requiredChecks,
              checks: this.requiredChecks.map((c) => ({ context: c, app_id: null })),
            },
          },
        },
      ];
    });
    // Not logged in `calls`: the tests of the land steps list the calls that decide them.
    scope.get(new RegExp(`^${REPO_PATH}/collaborators/[^/?]+/permission(\\?.*)?$`)).reply((uri) => {
      const login = decodeURIComponent(/collaborators\/([^/?]+)/.exec(uri)![1]!);
      const role = this.permissions.has(login) ? this.permissions.get(login)! : "write";
      if (role === null) return [404, { message: `${login} is not a user` }];
      const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return [200, { permission, role_name: role, user: { login } }];
    });
    scope.get(new RegExp(`^${REPO_PATH}/branches/[^/?]+/protection(\\?.*)?$`)).reply((uri) => {
      const url = `${API}${uri.replace(/\?.*$/, "")}`;
      return [
        200,
        {
          url,
          required_status_checks: { url: `${url}/required_status_checks`, strict: false, contexts: this.requiredChecks, checks: [] },
          required_pull_request_reviews: {
            url: `${url}/required_pull_request_reviews`,
            dismiss_stale_reviews: this.dismissStaleReviews,
            require_code_owner_reviews: false,
            require_last_push_approval: false,
            required_approving_review_count: 1,
          },
          enforce_admins: { url: `${url}/enforce_admins`, enabled: false },
        },
      ];
    });
    scope.get(new RegExp(`^${REPO_PATH}/rules/branches/[^/?]+(\\?.*)?$`)).reply((uri) => {
      this.calls.push(`GET ${path(uri)}`);
      return [200, []];
    });
    scope.put(new RegExp(`^${REPO_PATH}/pulls/\\d+/update-branch$`)).reply((uri, body) => {
      const pr = this.prs.get(prNumber(uri));
      if (!pr) return [404, { message: "Not Found" }];
      const expected = (body as { expected_head_sha?: string }).expected_head_sha;
      this.calls.push(`PUT ${path(uri)} expected_head_sha=${expected?.slice(0, 8)}`);
      const failure = this.updateFailures.shift();
      if (failure) return [failure.status, { message: failure.message }];
      pr.head = this.newSha();
      pr.mergeable_state = "blocked";
      this.checks.set(pr.head, [{ name: "gpu", status: "in_progress", conclusion: null }]);
      this.ciPending.set(pr.head, this.ciFetchesAfterUpdate);
      // GitHub recomputes; once CI is green the PR is clean again.
      queueMicrotask(() => (pr.mergeable_state = "clean"));
      return [202, { message: "Updating pull request branch.", url: `https://github.com/${OWNER}/${REPO}/pull/${pr.number}` }];
    });
    scope.put(new RegExp(`^${REPO_PATH}/pulls/\\d+/merge$`)).reply(async (uri, body) => {
      const pr = this.prs.get(prNumber(uri));
      if (!pr) return [404, { message: "Not Found" }];
      const { sha, merge_method } = body as { sha?: string; merge_method?: string };
      this.calls.push(`PUT ${path(uri)} sha=${sha?.slice(0, 8)} method=${merge_method}`);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      this.inFlight--;
      const failure = this.mergeFailures.shift();
      if (failure) return [failure.status, { message: failure.message }];
      if (sha !== pr.head) return [409, { message: "Head branch was modified. Review and try the merge again." }];
      if (!pr.mergeable) return [405, { message: "Pull Request is not mergeable" }];
      pr.merged = true;
      pr.state = "closed";
      const mergeSha = this.newSha();
      this.merges.push({ pr: pr.number, sha: mergeSha, at: Date.now() });
      // The base moved: every other open PR on it is now behind.
      for (const other of this.prs.values()) if (other.state === "open" && other.base === pr.base) other.mergeable_state = "behind";
      return [200, { sha: mergeSha, merged: true, message: "Pull Request successfully merged" }];
    });
    scope.post(new RegExp(`^${REPO_PATH}/issues/\\d+/comments$`)).reply((uri, body) => {
      const n = prNumber(uri);
      this.calls.push(`POST /issues/${n}/comments`);
      // The hidden marker that makes a report findable again is not what the tests read.
      const { marker, text } = splitMarker((body as { body: string }).body);
      this.comments.push({ pr: n, body: text, marker });
      return [201, { id: 9_000_000 + this.comments.length, body: (body as { body: string }).body }];
    });
    // Not logged in `calls`: looking for an earlier report before posting one is not a land step.
    scope.get(new RegExp(`^${REPO_PATH}/issues/\\d+/comments(\\?.*)?$`)).reply((uri) => {
      const n = prNumber(uri);
      const listed = this.comments
        .map((c, i) => ({ ...c, id: 9_000_001 + i }))
        .filter((c) => c.pr === n)
        .map((c) => ({ id: c.id, body: `${c.marker}${c.body}`, user: { login: "sheriff[bot]", type: "Bot" } }));
      return [200, listed];
    });
    return scope;
  }
}

/** A comment body as posted, split into its leading hidden marker (with its newline) and the text people read. */
function splitMarker(body: string): { marker: string; text: string } {
  const m = /^(<!-- sheriff:[^>]*-->\n)([\s\S]*)$/.exec(body);
  return m ? { marker: m[1]!, text: m[2]! } : { marker: "", text: body };
}

/** Polls until `predicate` holds (or throws after `timeoutMs`). */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 8000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
