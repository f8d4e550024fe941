// In-memory state of the sandbox (everything except git objects and refs, which live on disk).
export type Permission = "admin" | "write" | "read" | "none";
export const PERMISSION_RANK: Record<Permission, number> = { none: 0, read: 1, write: 2, admin: 3 };

export interface Account {
  login: string;
  id: number;
  type: "User" | "Bot" | "Organization";
}

export interface User extends Account {
  type: "User" | "Bot";
  name: string;
  email: string;
  token: string;
  /** keyed by "owner/name" (lowercase) */
  permissions: Map<string, Permission>;
}

export interface Installation {
  id: number;
  account: Account;
  repoIds: Set<number>;
  createdAt: string;
}

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: number;
}

export interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface Reaction {
  id: number;
  user: Account;
  content: string;
  createdAt: string;
}

export interface Comment {
  id: number;
  repoId: number;
  issueNumber: number;
  body: string;
  user: Account;
  createdAt: string;
  updatedAt: string;
  reactions: Reaction[];
}

/** A comment on a commit (not on a line of it). */
export interface CommitComment {
  id: number;
  repoId: number;
  commitId: string;
  body: string;
  user: Account;
  createdAt: string;
  updatedAt: string;
}

export interface Review {
  id: number;
  user: Account;
  body: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "PENDING";
  commitId: string;
  submittedAt: string;
}

export interface Issue {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  user: Account;
  labels: string[]; // label names as stored in repo.labels
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  reactions: Reaction[];
  pull?: PullData;
}

export interface PullData {
  id: number;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: Account | null;
  mergeCommitSha: string | null;
  /** commits of the PR, frozen when merged or closed */
  frozenCommits: string[] | null;
  reviews: Review[];
}

export interface CheckRun {
  id: number;
  repoId: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  checkSuiteId: number;
}

export interface CommitStatus {
  id: number;
  repoId: number;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: Account;
  createdAt: string;
  updatedAt: string;
}

export interface Artifact {
  id: number;
  runId: number;
  name: string;
  zip: Buffer;
  createdAt: string;
}

export interface WorkflowRun {
  id: number;
  repoId: number;
  workflowId: number;
  workflowPath: string;
  name: string;
  /** The workflow's `run-name` with its inputs filled in (GitHub's display_title); the name without one. */
  displayTitle: string;
  runNumber: number;
  headBranch: string;
  headSha: string;
  event: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  inputs: Record<string, unknown>;
  actor: Account;
  createdAt: string;
  updatedAt: string;
  artifacts: number[];
}

export interface Repo {
  id: number;
  owner: Account;
  name: string;
  fullName: string;
  dir: string;
  defaultBranch: string;
  private: boolean;
  installationId: number | null;
  requiredChecks: string[];
  strictChecks: boolean;
  labels: Map<string, Label>; // lowercase name -> label
  issues: Map<number, Issue>;
  nextNumber: number;
  workflows: Map<string, number>; // path -> id
  createdAt: string;
  pushedAt: string;
}

/** Serializes async work per key (ref-mutating operations on one repo). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export class State {
  private counter = 1000;
  readonly users = new Map<string, User>(); // lowercase login
  readonly tokens = new Map<string, User>();
  readonly installations = new Map<number, Installation>();
  readonly installationTokens = new Map<string, InstallationToken>();
  readonly repos = new Map<string, Repo>(); // lowercase full name
  readonly comments = new Map<number, Comment>();
  readonly commitComments = new Map<number, CommitComment>();
  readonly checkRuns = new Map<number, CheckRun>();
  readonly statuses: CommitStatus[] = [];
  readonly runs = new Map<number, WorkflowRun>();
  readonly artifacts = new Map<number, Artifact>();
  readonly downloadTokens = new Map<string, { artifactId: number; expiresAt: number }>();

  /** Monotonically increasing ids shared by every kind of object. */
  nextId(): number {
    return ++this.counter;
  }

  repo(owner: string, name: string): Repo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  repoById(id: number): Repo | undefined {
    for (const r of this.repos.values()) if (r.id === id) return r;
    return undefined;
  }

  user(login: string): User | undefined {
    return this.users.get(login.toLowerCase());
  }
}
