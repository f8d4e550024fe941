import { z } from "zod";
import { formatZodIssues } from "../model/zod.js";
import type { ControlConcurrency } from "../flows/controlWorker.js";

/** Pushes and analyses one app process works on at once; each branch (and each suite of it) is still one at a time. */
export const DEFAULT_CONCURRENCY: ControlConcurrency = { intake: 8, analysis: 4, followUp: 4 };

/** This machine's PostgreSQL with the default role and database (trust auth on localhost). */
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

/** Sheriff's own settings, from the environment (Probot reads APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST itself). */
const settingsSchema = z.object({
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** The history database (PostgreSQL); Redis holds only queues, locks and short-lived caches. */
  DATABASE_URL: z.string().url().default(DEFAULT_DATABASE_URL),
  /** The schema inside DATABASE_URL's database that holds Sheriff's tables (created by the migrations). */
  SHERIFF_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default("sheriff"),
  /** Benchmark samples of settled runs older than this are reduced to quantiles (see core/retention.ts). */
  SHERIFF_SAMPLE_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  SHERIFF_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default("sheriff"),
  SHERIFF_WORK_DIR: z.string().min(1).default(".sheriff"),
  SHERIFF_PARALLEL_PROBES: z.coerce.number().int().min(1).max(64).default(1),
  SHERIFF_INTAKE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_CONCURRENCY.intake),
  SHERIFF_ANALYSIS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_CONCURRENCY.analysis),
  /** How often every watched branch's head on GitHub is compared with the ledger's, to take in pushes whose webhook was lost. */
  SHERIFF_RECONCILE_MINUTES: z.coerce.number().min(1).default(10),
  SHERIFF_FOLLOW_UP_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_CONCURRENCY.followUp),
  SHERIFF_GPUS: z.string().optional(),
  /** A GPU worker's name in results, routing and host health; default the machine's hostname. */
  SHERIFF_HOST: z.string().min(1).max(200).optional(),
  /** GPU hosts allowed on the runner API, as `name=secret` pairs (see runnerApi.ts); unset, the API is off. */
  SHERIFF_RUNNER_TOKENS: z.string().optional(),
  /** Where people reach this app (e.g. https://sheriff.example.com): the dashboard's address in links Sheriff posts and for the sign-in redirect. */
  SHERIFF_PUBLIC_URL: z.string().url().optional(),
  /** The GitHub App's OAuth client (its settings page), for signing into private repositories' dashboard pages. */
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  /** Encrypts dashboard sessions; the same in every app process. Falls back to WEBHOOK_SECRET. */
  SHERIFF_SESSION_SECRET: z.string().min(16).optional(),
  GHE_HOST: z.string().optional(),
  GHE_PROTOCOL: z.enum(["http", "https"]).default("https"),
});

export type Settings = z.infer<typeof settingsSchema>;

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return parseEnvironment(settingsSchema, env);
}

/** What `sheriff runner` reads: the app's address and this host's token, nothing else of Sheriff's. */
const runnerSettingsSchema = z.object({
  SHERIFF_URL: z.string().url(),
  SHERIFF_RUNNER_TOKEN: z.string().min(32),
  SHERIFF_WORK_DIR: z.string().min(1).default(".sheriff"),
});

export type RunnerSettings = z.infer<typeof runnerSettingsSchema>;

function parseEnvironment<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, env: NodeJS.ProcessEnv): T {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new Error(
      `invalid environment:\n${formatZodIssues(parsed.error)
        .map((i) => `  - ${i}`)
        .join("\n")}`,
    );
  return parsed.data;
}

export function loadRunnerSettings(env: NodeJS.ProcessEnv = process.env): RunnerSettings {
  return parseEnvironment(runnerSettingsSchema, env);
}

/** The REST base URL: github.com, or a GitHub Enterprise host (or the sandbox) when GHE_HOST is set. */
export function apiBaseUrl(settings: Pick<Settings, "GHE_HOST" | "GHE_PROTOCOL">): string | undefined {
  return settings.GHE_HOST ? `${settings.GHE_PROTOCOL}://${settings.GHE_HOST}/api/v3` : undefined;
}

export function controlConcurrency(
  settings: Pick<Settings, "SHERIFF_INTAKE_CONCURRENCY" | "SHERIFF_ANALYSIS_CONCURRENCY" | "SHERIFF_FOLLOW_UP_CONCURRENCY">,
): ControlConcurrency {
  return {
    intake: settings.SHERIFF_INTAKE_CONCURRENCY,
    analysis: settings.SHERIFF_ANALYSIS_CONCURRENCY,
    followUp: settings.SHERIFF_FOLLOW_UP_CONCURRENCY,
  };
}

/** GitHub's web address (where its OAuth pages are): github.com, or the Enterprise host. */
export function webBaseUrl(settings: Pick<Settings, "GHE_HOST" | "GHE_PROTOCOL">): string {
  return settings.GHE_HOST ? `${settings.GHE_PROTOCOL}://${settings.GHE_HOST}` : "https://github.com";
}
