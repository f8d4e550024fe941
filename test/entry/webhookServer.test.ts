import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { request, type Server } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_PATH, guardedWebhooks, listenForWebhooks, MAX_WEBHOOK_BYTES, serverUrl } from "../../src/entry/webhookServer.js";

const SECRET = "webhook-guard-secret";
const MARKER = "BODY-MARKER-7f3a";

interface Harness {
  url: string;
  received: string[];
  logged: () => string;
  server: Server;
}

let current: Harness | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => current?.server.close(() => resolve()) ?? resolve());
  current = undefined;
});

/** Probot with one ping handler behind the guard, logging at info into memory as a deployment logs to a file. */
async function start(maxBytes?: number): Promise<Harness> {
  let log = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString("utf8");
      done();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const probot = new Probot({
    appId: 1,
    privateKey: "unused",
    secret: SECRET,
    log: logger,
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const received: string[] = [];
  await probot.load((app) => app.on("ping", async (context) => void received.push(context.id)));
  const handler = await guardedWebhooks(probot, {
    path: DEFAULT_WEBHOOK_PATH,
    secret: SECRET,
    log: logger,
    ...(maxBytes ? { maxBytes } : {}),
  });
  const server = await listenForWebhooks(handler, { port: 0, host: "127.0.0.1" });
  current = { url: `${serverUrl(server)}${DEFAULT_WEBHOOK_PATH}`, received, logged: () => log, server };
  return current;
}

const sign = (body: string | Buffer) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
const headers = (id: string, signature?: string) => ({
  "content-type": "application/json",
  "x-github-event": "ping",
  "x-github-delivery": id,
  ...(signature ? { "x-hub-signature-256": signature } : {}),
});
const pingBody = (id: string) => JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1, id });

async function post(url: string, body: string, signature?: string, id: string = randomUUID()): Promise<number> {
  const res = await fetch(url, { method: "POST", headers: headers(id, signature), body });
  await res.text();
  return res.status;
}

/** Sends headers (and `sent` bytes of the body) and resolves with the status, without sending the rest. */
function partialPost(url: string, head: Record<string, string>, sent: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: head }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.write(sent);
  });
}

describe("the guarded webhook endpoint", () => {
  it("passes signed deliveries on to Probot", async () => {
    const h = await start();
    expect(await post(h.url, pingBody("a"), sign(pingBody("a")), "d-1")).toBe(200);
    expect(h.received).toEqual(["d-1"]);
  });

  it("refuses a body declared over GitHub's 25 MB before reading it", async () => {
    const h = await start();
    const status = await partialPost(
      h.url,
      { ...headers("big", sign("x")), "content-length": String(MAX_WEBHOOK_BYTES + 1) },
      Buffer.from('{"zen":'),
    );
    expect(status).toBe(413);
    expect(h.received).toEqual([]);
  });

  it("stops reading a chunked body at the limit and answers 413", async () => {
    const h = await start(1024 * 1024);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        h.url,
        { method: "POST", headers: { ...headers("chunked", sign("x")), "transfer-encoding": "chunked" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      const chunk = Buffer.alloc(64 * 1024, "a");
      // Far more than the limit, unless the server stops it.
      for (let i = 0; i < 64; i++) req.write(chunk);
    });
    expect(status).toBe(413);
  });

  it("answers a forged or unsigned body 400 and never logs it", async () => {
    const h = await start();
    const body = JSON.stringify({ zen: MARKER });
    expect(await post(h.url, body, sign("something else"))).toBe(400);
    expect(await post(h.url, body)).toBe(400);
    expect(h.received).toEqual([]);
    expect(h.logged()).toContain("webhook with a bad signature refused");
    expect(h.logged()).not.toContain(MARKER);
  });

  it("answers a signed ping promptly while 500 forged 1 MB bodies arrive", async () => {
    const h = await start();
    // The flood comes from another process, as it would from the network.
    const flood = spawn(process.execPath, [
      "-e",
      `const body = "{\\"zen\\":\\"" + "x".repeat(1024 * 1024) + "\\"}";
       let left = 500, active = 0;
       const next = () => {
         if (left === 0) { if (active === 0) process.exit(0); return; }
         left--; active++;
         fetch(process.argv[1], { method: "POST", body, headers: { "content-type": "application/json", "x-github-event": "push",
           "x-github-delivery": "flood", "x-hub-signature-256": "sha256=" + "0".repeat(64) } })
           .then((r) => r.text()).catch(() => undefined).finally(() => { active--; next(); });
       };
       for (let i = 0; i < 32; i++) next();`,
      h.url,
    ]);
    const done = new Promise<number | null>((resolve) => flood.on("exit", resolve));
    await new Promise((r) => setTimeout(r, 500));
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `ping-${i}`;
      const started = performance.now();
      expect(await post(h.url, pingBody(id), sign(pingBody(id)), id)).toBe(200);
      latencies.push(performance.now() - started);
    }
    expect(await done).toBe(0);
    console.log(`signed ping under a flood of 500 forged 1 MB bodies: ${latencies.map((l) => l.toFixed(0)).join(", ")} ms`);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    expect(h.logged().length).toBeLessThan(500 * 400);
  }, 60_000);
});
