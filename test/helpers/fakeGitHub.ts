import { execFileSync } from "node:child_process";
import nock from "nock";

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: "open" | "closed";
  user: string;
  merged_at: string | null;
  labels: string[];
  mergeSha?: string;
  headSha?: string;
}

/**
 * GitHub's REST API at the HTTP layer (nock), backed by a real bare repository for
 * contents, with state for PRs, comments and check runs so the app sees consistent answers.
 * Every call is recorded, so tests assert the exact requests Sheriff made.
 */
export class FakeGitHub {
  readonly calls: RecordedCall[] = [];
  readonly pulls: FakePull[] = [];
  readonly comments: { issue: number; body: string; id: number }[] = [];
  /** Comments on commits that landed without a PR. */
  readonly commitComments: { sha: string; body: string; id: number }[] = [];
  readonly checkRuns = new Map<
    number,
    { head_sha: string; name: string; status?: string; conclusion?: string; output?: { title: string; summary: string } }
  >();
  /** Commit sha → the merged PR that landed it (GitHub's commit/PR association). */
  readonly landedBy = new Map<string, number>();
  /** Injected server errors: the next matching request gets this status instead of an answer. */
  readonly failures: { method: string; path: RegExp; status: number }[] = [];
  /** Collaborator permission per login (GET /collaborators/{user}/permission). */
  readonly permissions = new Map<string, "admin" | "write" | "read" | "none">();
  private nextNumber = 100;
  private nextId = 5000;
  readonly scope: nock.Scope;

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly bare: string,
    readonly installationId: number,
  ) {
    const base = `/repos/${owner}/${repo}`;
    this.scope = nock("https://api.github.com")
      .persist()
      .get("/app")
      .reply(200, () => {
        this.calls.push({ method: "GET", path: "/app", body: null });
        return { id: 123, slug: "sheriff", name: "Sheriff", owner: { login: owner } };
      })
      .post(`/app/installations/${installationId}/access_tokens`)
      .reply(201, () => {
        this.calls.push({ method: "POST", path: `/app/installations/${installationId}/access_tokens`, body: null });
        return { token: "ghs_test_installation_token", expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} };
      })
      .get(new RegExp(`^${base}/contents/(.+)\\?ref=([0-9a-f]{40})$`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const match = /contents\/(.+)\?ref=([0-9a-f]{40})$/.exec(uri)!;
        const path = decodeURIComponent(match[1]!);
        try {
          const content = execFileSync("git", ["show", `${match[2]}:${path}`], { cwd: bare });
          return [
            200,
            {
              type: "file",
              name: path.split("/").pop(),
              path,
              encoding: "base64",
              content: content.toString("base64"),
              sha: "0".repeat(40),
              size: content.length,
            },
          ];
        } catch {
          return [404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content" }];
        }
      })
      .post(`${base}/check-runs`)
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        const id = this.nextId++;
        this.checkRuns.set(id, body as never);
        return [201, { id, ...(body as object) }];
      })
      .patch(new RegExp(`^${base}/check-runs/\\d+$`))
      .reply((uri, body) => {
        this.calls.push({ method: "PATCH", path: uri, body });
        const id = Number(uri.split("/").pop());
        const existing = this.checkRuns.get(id);
        if (!existing) return [404, { message: "Not Found" }];
        Object.assign(existing, body);
        return [200, { id, ...existing }];
      })
      .get(new RegExp(`^${base}/commits/([0-9a-f]{40})/pulls$`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const sha = /commits\/([0-9a-f]{40})\/pulls/.exec(uri)![1]!;
        const number = this.landedBy.get(sha);
        const pr = this.pulls.find((p) => p.number === number);
        return [200, pr ? [this.pullJson(pr)] : []];
      })
      .get(new RegExp(`^${base}/pulls\\?`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const query = new URL(uri, "https://api.github.com").searchParams;
        const head = query.get("head")?.split(":")[1];
        return [
          200,
          this.pulls
            .filter((p) => (!head || p.head === head) && (query.get("state") !== "open" || p.state === "open"))
            .map((p) => this.pullJson(p)),
        ];
      })
      .post(`${base}/pulls`)
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        const failure = this.takeFailure("POST", uri);
        if (failure) return failure;
        const b = body as { title: string; body: string; head: string; base: string };
        const pr: FakePull = {
          number: this.nextNumber++,
          title: b.title,
          body: b.body,
          head: b.head,
          base: b.base,
          state: "open",
          user: "sheriff[bot]",
          merged_at: null,
          labels: [],
        };
        this.pulls.push(pr);
        return [201, this.pullJson(pr)];
      })
      .get(base)
      .reply(200, () => ({
        id: 35129377,
        name: repo,
        full_name: `${owner}/${repo}`,
        owner: { login: owner },
        default_branch: "main",
        clone_url: bare,
      }))
      .get(new RegExp(`^${base}/pulls/\\d+$`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const pr = this.pulls.find((p) => p.number === Number(uri.split("/").pop()));
        return pr ? [200, this.pullJson(pr)] : [404, { message: "Not Found" }];
      })
      .get(new RegExp(`^${base}/collaborators/[^/]+/permission$`))
      .reply((uri) => {
        const login = uri.split("/").slice(-2)[0]!;
        const permission = this.permissions.get(login) ?? "none";
        return [200, { permission, role_name: permission, user: { login } }];
      })
      .post(new RegExp(`^${base}/issues/comments/\\d+/reactions$`))
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        return [201, { id: this.nextId++, content: (body as { content: string }).content }];
      })
      .post(new RegExp(`^${base}/issues/\\d+/labels$`))
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        const number = Number(/issues\/(\d+)\/labels/.exec(uri)![1]);
        const pr = this.pulls.find((p) => p.number === number);
        pr?.labels.push(...(body as { labels: string[] }).labels);
        return [200, (pr?.labels ?? []).map((name) => ({ name }))];
      })
      .post(new RegExp(`^${base}/issues/\\d+/comments$`))
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        const failure = this.takeFailure("POST", uri);
        if (failure) return failure;
        const issue = Number(/issues\/(\d+)\/comments/.exec(uri)![1]);
        const comment = { issue, body: (body as { body: string }).body, id: this.nextId++ };
        this.comments.push(comment);
        return [201, { id: comment.id, body: comment.body, user: { login: "sheriff[bot]", type: "Bot" } }];
      })
      .post(new RegExp(`^${base}/commits/[0-9a-f]{40}/comments$`))
      .reply((uri, body) => {
        this.calls.push({ method: "POST", path: uri, body });
        const comment = { sha: /commits\/([0-9a-f]{40})/.exec(uri)![1]!, body: (body as { body: string }).body, id: this.nextId++ };
        this.commitComments.push(comment);
        return [201, { id: comment.id, body: comment.body, commit_id: comment.sha, user: { login: "sheriff[bot]", type: "Bot" } }];
      })
      .get(new RegExp(`^${base}/commits/[0-9a-f]{40}/comments(\\?.*)?$`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const sha = /commits\/([0-9a-f]{40})/.exec(uri)![1]!;
        const listed = this.commitComments.filter((c) => c.sha === sha);
        return [200, listed.map((c) => ({ id: c.id, body: c.body, commit_id: c.sha, user: { login: "sheriff[bot]", type: "Bot" } }))];
      })
      .get(new RegExp(`^${base}/issues/\\d+/comments(\\?.*)?$`))
      .reply((uri) => {
        this.calls.push({ method: "GET", path: uri, body: null });
        const issue = Number(/issues\/(\d+)\/comments/.exec(uri)![1]);
        // Every comment here is the app's: people's comments reach Sheriff as webhooks, not through this fake.
        const listed = this.comments.filter((c) => c.issue === issue);
        return [200, listed.map((c) => ({ id: c.id, body: c.body, user: { login: "sheriff[bot]", type: "Bot" } }))];
      });
  }

  /** Registers a merged PR that landed `sha`, as if a person had merged it on GitHub. */
  landedPull(sha: string, title: string, user: string): number {
    const pr: FakePull = {
      number: this.nextNumber++,
      title,
      body: "",
      head: `feature-${sha.slice(0, 7)}`,
      base: "main",
      state: "closed",
      user,
      merged_at: new Date().toISOString(),
      labels: [],
      mergeSha: sha,
      headSha: sha,
    };
    this.pulls.push(pr);
    this.landedBy.set(sha, pr.number);
    return pr.number;
  }

  pullJson(p: FakePull) {
    return {
      number: p.number,
      title: p.title,
      body: p.body,
      state: p.state,
      merged_at: p.merged_at,
      user: { login: p.user, type: p.user.endsWith("[bot]") ? "Bot" : "User" },
      head: { ref: p.head, sha: p.headSha ?? "0".repeat(40) },
      base: { ref: p.base },
      merged: p.merged_at !== null,
      merge_commit_sha: p.mergeSha ?? null,
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private takeFailure(method: string, uri: string): [number, { message: string }] | null {
    const index = this.failures.findIndex((f) => f.method === method && f.path.test(uri));
    if (index < 0) return null;
    const [failure] = this.failures.splice(index, 1);
    return [failure!.status, { message: "Server Error" }];
  }

  callsTo(method: string, pattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  close(): void {
    nock.cleanAll();
  }
}
