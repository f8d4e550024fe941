// The sandbox's shared state machine: state, identities, webhook emission and ref-change handling.
import type { Auth } from "./auth.js";
import { diffFiles, readCommit, revList, updateRef, deleteRef, type Identity, isAncestor, listRefs } from "./git.js";
import { nowIso } from "./http.js";
import { accountJson, installationJson, pullJson, repoJson, type Urls } from "./shapes.js";
import { KeyedMutex, type Account, type Issue, type Repo, State } from "./state.js";
import type { WebhookDispatcher } from "./webhooks.js";

export const ZERO_SHA = "0".repeat(40);

export interface RefChange {
  ref: string;
  before: string; // ZERO_SHA when created
  after: string; // ZERO_SHA when deleted
}

export class Core {
  readonly state = new State();
  readonly mutex = new KeyedMutex();
  readonly bot: Account;
  readonly ghost: Account = { login: "ghost", id: 10137, type: "User" };
  /** Set once the server listens. */
  urls!: Urls;

  constructor(
    readonly dataDir: string,
    readonly app: { id: number; slug: string; name: string; publicKey: string },
    readonly hooks: WebhookDispatcher,
    readonly log: (line: string) => void,
  ) {
    this.bot = { login: `${app.slug}[bot]`, id: 41898282 + app.id, type: "Bot" };
  }

  /** The account acting for a request. */
  actor(auth: Auth): Account {
    switch (auth.kind) {
      case "installation":
      case "app":
        return this.bot;
      case "user":
        return { login: auth.user.login, id: auth.user.id, type: auth.user.type };
      case "anonymous":
        return this.ghost;
    }
  }

  identity(a: Account, date = nowIso()): Identity {
    const user = this.state.user(a.login);
    return { name: user?.name ?? a.login, email: user?.email ?? `${a.id}+${a.login}@users.noreply.github.com`, date };
  }

  /** The GitHub-side committer of web-flow commits (merges done through the API). */
  webFlow(date = nowIso()): Identity {
    return { name: "GitHub", email: "noreply@github.com", date };
  }

  accountByEmail = (email: string): Account | undefined => {
    if (email === this.identity(this.bot).email) return this.bot;
    for (const u of this.state.users.values()) if (u.email === email) return { login: u.login, id: u.id, type: u.type };
    return undefined;
  };

  /** Send an event about `repo`, with repository/sender/installation filled in like GitHub. */
  emit(repo: Repo, event: string, sender: Account, payload: Record<string, unknown>): void {
    const full: Record<string, unknown> = { ...payload, repository: repoJson(this.urls, repo), sender: accountJson(this.urls, sender) };
    if (repo.installationId !== null) {
      const inst = this.state.installations.get(repo.installationId);
      full.installation = { id: repo.installationId, node_id: Buffer.from(`Installation:${repo.installationId}`).toString("base64") };
      if (inst && event === "installation") full.installation = installationJson(this.urls, inst);
    }
    this.hooks.enqueue(repo.fullName, event, full);
  }

  /** A pull request payload for webhooks (mergeability is not computed for events, as on GitHub). */
  pullEventJson(repo: Repo, issue: Issue): Record<string, unknown> {
    return pullJson(this.urls, repo, issue, { mergeable: null, mergeable_state: "unknown", rebaseable: null, merge_commit_sha: null });
  }

  emitPull(repo: Repo, issue: Issue, action: string, sender: Account, extra: Record<string, unknown> = {}): void {
    this.emit(repo, "pull_request", sender, { action, number: issue.number, pull_request: this.pullEventJson(repo, issue), ...extra });
  }

  /** Apply a ref update made through the API (compare-and-swap) and announce it. */
  async moveRef(repo: Repo, change: RefChange, pusher: Account): Promise<void> {
    if (change.after === ZERO_SHA) await deleteRef(repo.dir, change.ref, change.before === ZERO_SHA ? undefined : change.before);
    else await updateRef(repo.dir, change.ref, change.after, change.before === ZERO_SHA ? null : change.before);
    await this.refsChanged(repo, [change], pusher);
  }

  /** Everything GitHub does after refs move: push webhooks, PR head sync/close. */
  async refsChanged(repo: Repo, changes: RefChange[], pusher: Account): Promise<void> {
    repo.pushedAt = nowIso();
    for (const change of changes) {
      const payload = await this.pushPayload(repo, change, pusher);
      this.emit(repo, "push", pusher, payload);
      if (!change.ref.startsWith("refs/heads/")) continue;
      const branch = change.ref.slice("refs/heads/".length);
      for (const issue of repo.issues.values()) {
        const p = issue.pull;
        if (!p || issue.state !== "open") continue;
        if (p.headRef === branch) {
          if (change.after === ZERO_SHA) {
            p.frozenCommits = await revList(repo.dir, ["--reverse", p.headSha, `^${p.baseSha}`]).catch(() => []);
            issue.state = "closed";
            issue.closedAt = nowIso();
            issue.updatedAt = issue.closedAt;
            this.emitPull(repo, issue, "closed", pusher);
          } else {
            const before = p.headSha;
            p.headSha = change.after;
            issue.updatedAt = nowIso();
            await updateRef(repo.dir, `refs/pull/${issue.number}/head`, change.after);
            this.emitPull(repo, issue, "synchronize", pusher, { before, after: change.after });
          }
        } else if (p.baseRef === branch && change.after !== ZERO_SHA) {
          p.baseSha = change.after;
        }
      }
    }
  }

  private async pushPayload(repo: Repo, change: RefChange, pusher: Account): Promise<Record<string, unknown>> {
    const created = change.before === ZERO_SHA;
    const deleted = change.after === ZERO_SHA;
    let forced = false;
    let shas: string[] = [];
    if (!deleted) {
      if (created) {
        // commits not reachable from any other branch, like GitHub's "distinct" commits of a new branch
        const others = [...(await this.otherBranchHeads(repo, change.ref)).values()];
        shas = await revList(repo.dir, ["--reverse", change.after, ...others.map((s) => `^${s}`)]);
      } else {
        forced = !(await isAncestor(repo.dir, change.before, change.after));
        shas = await revList(repo.dir, ["--reverse", change.after, `^${change.before}`]);
      }
    }
    const commits = [];
    for (const sha of shas.slice(-20)) commits.push(await this.pushCommit(repo, sha));
    const headCommit = deleted ? null : (commits.find((c) => c.id === change.after) ?? (await this.pushCommit(repo, change.after)));
    const pusherIdent = this.identity(pusher);
    let baseRef: string | null = null;
    if (created && !deleted) {
      const heads = await this.otherBranchHeads(repo, change.ref);
      for (const [ref, sha] of heads.entries()) if (sha === change.after) baseRef = ref;
    }
    return {
      ref: change.ref,
      before: change.before,
      after: change.after,
      created,
      deleted,
      forced,
      base_ref: baseRef,
      compare: created
        ? `${this.urls.url}/${repo.fullName}/commit/${change.after.slice(0, 12)}`
        : `${this.urls.url}/${repo.fullName}/compare/${change.before.slice(0, 12)}...${change.after.slice(0, 12)}`,
      commits,
      head_commit: headCommit,
      pusher: { name: pusher.login, email: pusherIdent.email },
    };
  }

  /** Map of ref -> sha for branch heads other than `ref`. */
  private async otherBranchHeads(repo: Repo, ref: string): Promise<Map<string, string>> {
    const refs = await listRefs(repo.dir, ["refs/heads"]);
    const out = new Map<string, string>();
    for (const [r, sha] of refs) if (r !== ref) out.set(r, sha);
    return out;
  }

  async pushCommit(repo: Repo, sha: string): Promise<{ id: string } & Record<string, unknown>> {
    const c = await readCommit(repo.dir, sha);
    const files = await diffFiles(repo.dir, c.parents[0] ?? null, sha);
    const person = (i: Identity): Record<string, unknown> => {
      const acct = this.accountByEmail(i.email);
      return { name: i.name, email: i.email, ...(acct ? { username: acct.login } : {}) };
    };
    return {
      id: sha,
      tree_id: c.tree,
      distinct: true,
      message: c.message,
      timestamp: c.committer.date,
      url: `${this.urls.url}/${repo.fullName}/commit/${sha}`,
      author: person(c.author),
      committer: person(c.committer),
      added: files.filter((f) => f.status === "added").map((f) => f.filename),
      removed: files.filter((f) => f.status === "removed").map((f) => f.filename),
      modified: files.filter((f) => f.status === "modified").map((f) => f.filename),
    };
  }
}
