import { createHash, timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import { LeaseLostError } from "../adapters/queue/gpuLeases.js";
import {
  acceptRunnerReport,
  assignGpuJob,
  failRunnerJob,
  RejectedReportError,
  runnerReportSchema,
  type LeaseDeps,
} from "../flows/gpuLease.js";
import { RESULT_LIMITS } from "../model/result.js";
import { formatZodIssues } from "../model/zod.js";
import { readBody, refuse, type NodeHandler } from "./webhookServer.js";

/** Where GPU runners talk to the app. */
export const RUNNER_API_PATH = "/sheriff/runner";

/** A report holds a result and a baseline, each within the result limits, and little else. */
const MAX_BODY_BYTES = 2 * RESULT_LIMITS.jsonLength + 64 * 1024;

const leaseSchema = z.object({ jobId: z.string().min(1).max(512), token: z.string().uuid() });
const leaseBodySchema = z.object({ lease: leaseSchema });
const failBodySchema = leaseBodySchema.extend({ reason: z.string().max(RESULT_LIMITS.messageLength) });
const reportBodySchema = leaseBodySchema.merge(runnerReportSchema);

/**
 * `SHERIFF_RUNNER_TOKENS`: `name=secret` pairs, comma-separated, one per GPU host. A host holds its
 * own secret and nothing else of Sheriff's: no app key, no Redis, no database.
 */
export function parseRunnerTokens(text: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const pair of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z0-9._-]{1,64})=(\S{32,})$/.exec(pair);
    if (!match) throw new Error(`SHERIFF_RUNNER_TOKENS: "${pair.split("=")[0]}" is not name=secret with a secret of 32 characters or more`);
    tokens.set(match[1]!, match[2]!);
  }
  return tokens;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** The runner a bearer token belongs to, compared in constant time. */
export function runnerFor(tokens: Map<string, string>, header: string | undefined): string | null {
  const given = /^Bearer (\S+)$/.exec(header ?? "")?.[1];
  if (!given) return null;
  let found: string | null = null;
  for (const [name, secret] of tokens) if (timingSafeEqual(digest(secret), digest(given))) found = name;
  return found;
}

function answer(res: ServerResponse, status: number, body?: unknown): true {
  if (body === undefined) res.writeHead(status).end();
  else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  return true;
}

/**
 * The runner API: POST lease (the next job, or 204), renew, report (results) and fail. Every call
 * needs a runner's token; a report is checked against the leased job before it counts.
 */
export function runnerApi(deps: LeaseDeps, tokens: Map<string, string>, log: Pick<Logger, "warn" | "info">): NodeHandler {
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (!path.startsWith(`${RUNNER_API_PATH}/`)) return false;
    const runner = runnerFor(tokens, req.headers.authorization);
    if (!runner) return refuse(req, res, 401, "a runner token is needed");
    if (req.method !== "POST") return refuse(req, res, 405, "POST only");
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) return refuse(req, res, 413, `body over ${MAX_BODY_BYTES} bytes`);
    let json: unknown;
    try {
      json = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch {
      return answer(res, 400, { error: "the body is not JSON" });
    }
    const parse = <T>(schema: z.ZodType<T>): T | null => {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      answer(res, 400, { error: formatZodIssues(parsed.error).join("; ") });
      return null;
    };
    try {
      switch (path.slice(RUNNER_API_PATH.length + 1)) {
        case "lease": {
          const assignment = await assignGpuJob(deps, runner);
          if (assignment) log.info({ runner, job: assignment.lease.jobId }, "GPU job leased");
          return assignment ? answer(res, 200, assignment) : answer(res, 204);
        }
        case "renew": {
          const input = parse(leaseBodySchema);
          if (input) await deps.leases.renew(input.lease);
          return input ? answer(res, 204) : true;
        }
        case "report": {
          const input = parse(reportBodySchema);
          return input ? answer(res, 200, await acceptRunnerReport(deps, input.lease, runner, input)) : true;
        }
        case "fail": {
          const input = parse(failBodySchema);
          return input ? answer(res, 200, await failRunnerJob(deps, input.lease, `runner ${runner}: ${input.reason}`)) : true;
        }
        default:
          return answer(res, 404, { error: "no such runner call" });
      }
    } catch (err) {
      if (err instanceof LeaseLostError) return answer(res, 409, { error: err.message });
      if (err instanceof RejectedReportError) {
        log.warn({ runner, err: err.message }, "runner report refused");
        return answer(res, 422, { error: err.message });
      }
      throw err;
    }
  };
}
