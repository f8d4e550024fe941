// Minimal HTTP plumbing for the sandbox: errors, routing, JSON bodies, pagination.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGunzip } from "node:zlib";
import { type Readable } from "node:stream";

export const DOCS = "https://docs.github.com/rest";

/** An error that becomes a GitHub-shaped JSON response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (): HttpError => new HttpError(404, "Not Found");
export const validationFailed = (message: string, errors: unknown[] = []): HttpError =>
  new HttpError(422, message, errors.length ? { errors } : {});

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON. */
  raw?: Buffer;
}

export const ok = (body: unknown, status = 200, headers?: Record<string, string>): ApiResult => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
export const noContent = (): ApiResult => ({ status: 204 });

export function errorBody(status: number, message: string, extra: Record<string, unknown> = {}): unknown {
  return { message, ...extra, documentation_url: DOCS, status: String(status) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    "x-github-media-type": "github.v3; format=json",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
    "x-ratelimit-resource": "core",
    ...headers,
  });
  res.end(text);
}

/** Reads a request body, inflating gzip if the client compressed it. */
export function requestStream(req: IncomingMessage): Readable {
  const enc = String(req.headers["content-encoding"] ?? "").toLowerCase();
  if (enc === "gzip" || enc === "x-gzip") return req.pipe(createGunzip());
  return req;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of requestStream(req)) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export function parseJsonBody(buf: Buffer): unknown {
  if (buf.length === 0) return {};
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    throw new HttpError(400, "Problems parsing JSON");
  }
}

// ---------------------------------------------------------------- routing

export interface Route<C> {
  method: string;
  pattern: string;
  parts: string[];
  handler: (ctx: C) => Promise<ApiResult> | ApiResult;
  meta: RouteMeta;
}

export interface RouteMeta {
  /** "app": needs an app JWT. "repo": needs access to :owner/:repo at `level`. "installation": installation token. "any": any valid credential. */
  auth: "app" | "repo" | "installation" | "any";
  level?: "read" | "write" | "admin";
}

export class Router<C> {
  private readonly routes: Route<C>[] = [];

  add(method: string, pattern: string, meta: RouteMeta, handler: Route<C>["handler"]): void {
    this.routes.push({ method, pattern, parts: pattern.split("/").filter(Boolean), handler, meta });
  }

  match(method: string, path: string): { route: Route<C>; params: Record<string, string> } | null {
    const segs = path.split("/").filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchParts(route.parts, segs);
      if (params) return { route, params };
    }
    return null;
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith("*")) {
      const tail = parts.slice(i + 1);
      const end = segs.length - tail.length;
      if (end <= i) return null;
      const tailParams = matchParts(tail, segs.slice(end));
      if (!tailParams) return null;
      params[p.slice(1)] = segs.slice(i, end).map(safeDecode).join("/");
      return { ...params, ...tailParams };
    }
    const s = segs[i];
    if (s === undefined) return null;
    if (p.startsWith(":")) params[p.slice(1)] = safeDecode(s);
    else if (p !== s) return null;
  }
  return segs.length === parts.length ? params : null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------- pagination

export function paginate<T>(items: T[], query: URLSearchParams, selfUrl: string): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
  const pageNo = Math.max(1, Number(query.get("page") ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const page = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  const headers: Record<string, string> = {};
  if (items.length > perPage) headers.link = linkHeader(selfUrl, query, pageNo, last);
  return { page, headers };
}

export function linkHeader(selfUrl: string, query: URLSearchParams, pageNo: number, last: number): string {
  const mk = (n: number): string => {
    const q = new URLSearchParams(query);
    q.set("page", String(n));
    return `${selfUrl}?${q.toString()}`;
  };
  const links: string[] = [];
  if (pageNo > 1) links.push(`<${mk(pageNo - 1)}>; rel="prev"`);
  if (pageNo < last) links.push(`<${mk(pageNo + 1)}>; rel="next"`);
  links.push(`<${mk(last)}>; rel="last"`);
  if (pageNo > 1) links.push(`<${mk(1)}>; rel="first"`);
  return links.join(", ");
}

// ---------------------------------------------------------------- body helpers

export type Json = Record<string, unknown>;

export function asObject(body: unknown): Json {
  if (body && typeof body === "object" && !Array.isArray(body)) return body as Json;
  throw new HttpError(400, "Problems parsing JSON");
}

export function str(body: Json, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw validationFailed("Invalid request.", [{ resource: "Request", field: key, code: "missing_field" }]);
    return undefined;
  }
  if (typeof v !== "string") throw validationFailed(`Invalid request.\n\nFor '${key}', ${JSON.stringify(v)} is not a string.`);
  return v;
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
