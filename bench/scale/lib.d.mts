// Types of lib.mjs for test/bench/scale.test.ts (the script itself is plain JavaScript).
import type { Database } from "../../src/adapters/store/database.js";
import type { Ledger } from "../../src/adapters/store/ledger.js";
import type { Logger } from "pino";

/** The Sheriff modules the benchmark drives: dist/ from run.mjs, src/ from the test. */
export interface ScaleApi {
  connectDatabase: unknown;
  migrate: unknown;
  Ledger: unknown;
  engineInput: unknown;
  decide: unknown;
  advanceSuiteWindow: unknown;
  commitCheckRun: unknown;
  suitesWithJobsAt: unknown;
  explainReply: unknown;
  jobId: unknown;
  ConfigCache: unknown;
}

export interface Figure {
  median: number;
  p95: number;
  min: number;
  max: number;
}
export type Summary = Record<string, Figure>;

export interface LandedRef {
  sha: string;
  suites: string[];
  pr: number;
}

export interface History {
  db: Database;
  schema: string;
  built: { seconds: number; insertSeconds: number; rows: Record<string, number>; head: string; landed: LandedRef[]; culprits: string[] };
  ledger: Ledger;
  counter: { queries: number };
  head: string;
  landed: LandedRef[];
  culprits: string[];
  drop(): Promise<void>;
}

export interface Bytes {
  totalBytes: number;
  perCommit: number;
  tables: Record<string, { bytes: number; heap: number; toast: number; indexes: number; perCommit: number }>;
}

export const SUITES: { name: string; builtin: string }[];
export const REPO_KEY: string;
export function prepareHistory(
  api: ScaleApi,
  options: { databaseUrl: string; schema: string; commits: number; seed?: number; log: Logger },
): Promise<History>;
export function measurePerResult(
  api: ScaleApi,
  ctx: History,
  options: { repetitions: number; warmup?: number; seed?: number },
): Promise<{ summary: Summary; decisions: Record<string, number>; inputHasCarry: boolean; windowWired: boolean }>;
export function measureCheckRun(
  api: ScaleApi,
  ctx: History,
  options: { repetitions: number; warmup?: number },
): Promise<{ summary: Summary }>;
export function measureExplain(
  api: ScaleApi,
  ctx: History,
  options: { repetitions: number; warmup?: number },
): Promise<{ summary: Summary }>;
export function measureBytes(db: Database, landedCommits: number): Promise<Bytes>;
export function sheriffYaml(): string;
