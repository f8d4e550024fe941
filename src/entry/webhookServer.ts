import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Probot } from "probot";

/** GitHub caps webhook payloads at 25 MB and does not deliver larger ones. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** Probot's (and GitHub's documented) webhook path. */
export const DEFAULT_WEBHOOK_PATH = "/api/github/webhooks";

/** A Node request handler in Probot's style: true when it answered the request. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface WebhookGuardOptions {
  /** The webhook path (Probot's WEBHOOK_PATH, default /api/github/webhooks). */
  path: string;
  secret: string;
  log: Pick<Logger, "warn">;
  maxBytes?: number;
}

/** True when the declared Content-Length is over the limit (a chunked body is counted as it arrives). */
export function declaredTooLarge(contentLength: string | undefined, maxBytes: number): boolean {
  return contentLength !== undefined && /^\d+$/.test(contentLength) && Number(contentLength) > maxBytes;
}

/** GitHub's `X-Hub-Signature-256`: `sha256=` and the HMAC of the raw body with the webhook secret. */
export function signatureMatches(secret: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The body, or null once it grows past `maxBytes` (then reading stops). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/** Answers and closes the connection, so the rest of an unwanted body is never read. */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string): true {
  res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ error }), () => req.destroy());
  return true;
}

/**
 * Probot's webhook middleware behind the checks it does too late: a body over GitHub's 25 MB is
 * refused before it is buffered (by its Content-Length, or by counting a chunked one), and the
 * signature is checked here, so an unsigned or forged body is answered 400 and never logged
 * (Probot logs a failed check with the whole payload). Verified deliveries go on to Probot unchanged.
 */
export async function guardedWebhooks(probot: Probot, options: WebhookGuardOptions): Promise<NodeHandler> {
  const maxBytes = options.maxBytes ?? MAX_WEBHOOK_BYTES;
  const middleware = await probot.getNodeMiddleware({ path: options.path });
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0]?.replace(/\/+$/, "");
    if (path !== options.path.replace(/\/+$/, "") || req.method !== "POST") return middleware(req, res);
    const delivery = { delivery: req.headers["x-github-delivery"], event: req.headers["x-github-event"] };
    if (declaredTooLarge(req.headers["content-length"], maxBytes)) {
      options.log.warn({ ...delivery, bytes: req.headers["content-length"] }, "webhook body over the limit refused");
      return refuse(req, res, 413, `payload over ${maxBytes} bytes`);
    }
    const signature = req.headers["x-hub-signature-256"];
    // Without a signature Probot answers 400 from the headers alone, before reading the body.
    if (typeof signature !== "string") return middleware(req, res);
    const body = await readBody(req, maxBytes);
    if (body === null) {
      options.log.warn(delivery, "webhook body over the limit refused");
      return refuse(req, res, 413, `payload over ${maxBytes} bytes`);
    }
    if (!signatureMatches(options.secret, body, signature)) {
      options.log.warn({ ...delivery, bytes: body.length }, "webhook with a bad signature refused");
      return refuse(req, res, 400, "signature does not match event payload and secret");
    }
    // Probot takes a body already read from `req.body`.
    Object.assign(req, { body: body.toString("utf8") });
    return middleware(req, res);
  };
}

/** Probot's GET /ping. */
function ping(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/ping") return false;
  res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
  return true;
}

/** The app's HTTP server as Probot's would be: the guarded webhooks, /ping, and 404 for the rest. */
export async function listenForWebhooks(handler: NodeHandler, options: { port: number; host?: string }): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled && !ping(req, res) && !res.headersSent) res.writeHead(404).end();
      },
      () => {
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}

export function serverUrl(server: Server): string {
  const { address, port, family } = server.address() as AddressInfo;
  return `http://${family === "IPv6" ? `[${address}]` : address}:${port}`;
}
