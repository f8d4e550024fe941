// Webhook delivery: signed like GitHub, in order per repository, one at a time, failures recorded.
import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { request as httpsRequest } from "node:https";

export interface Delivery {
  id: string;
  event: string;
  action: string | null;
  payload: Record<string, unknown>;
  /** HTTP status of the app's response, or null when it could not be delivered. */
  status: number | null;
  error: string | null;
  durationMs: number | null;
  deliveredAt: string | null;
  queue: string;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  timeoutMs?: number;
}

export function sign(secret: string, body: string | Buffer): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

export class WebhookDispatcher {
  private readonly all: Delivery[] = [];
  private readonly queues = new Map<string, Promise<void>>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly target: WebhookTarget | undefined,
    private readonly appId: number,
    private readonly log: (line: string) => void,
  ) {}

  deliveries(): Delivery[] {
    return this.all.map((d) => ({ ...d }));
  }

  /** Queue an event; deliveries on the same queue (repository) go out in order, one at a time. */
  enqueue(queue: string, event: string, payload: Record<string, unknown>): Delivery {
    const delivery: Delivery = {
      id: randomUUID(),
      event,
      action: typeof payload.action === "string" ? payload.action : null,
      payload,
      status: null,
      error: null,
      durationMs: null,
      deliveredAt: null,
      queue,
    };
    this.all.push(delivery);
    this.inFlight++;
    const prev = this.queues.get(queue) ?? Promise.resolve();
    const next = prev
      .then(() => this.send(delivery))
      .finally(() => {
        this.inFlight--;
        if (this.queues.get(queue) === next) this.queues.delete(queue);
        if (this.inFlight === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    this.queues.set(queue, next);
    return delivery;
  }

  waitForIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async send(d: Delivery): Promise<void> {
    const label = `${d.event}${d.action ? "." + d.action : ""}`;
    if (!this.target) {
      d.error = "no webhook url configured";
      this.log(`webhook ${label} ${d.id} not sent (no webhook url)`);
      return;
    }
    const body = JSON.stringify(d.payload);
    const url = new URL(this.target.url);
    const started = Date.now();
    const installation = d.payload.installation as { id?: number } | undefined;
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "user-agent": "GitHub-Hookshot/sandbox",
      "x-github-event": d.event,
      "x-github-delivery": d.id,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-type": "integration",
      "x-github-hook-installation-target-id": String(this.appId),
      "x-hub-signature-256": sign(this.target.secret, body),
      "x-hub-signature": "sha1=" + createHmac("sha1", this.target.secret).update(body).digest("hex"),
    };
    if (installation?.id) headers["x-github-installation-id"] = String(installation.id);
    try {
      d.status = await new Promise<number>((resolve, reject) => {
        const req = (url.protocol === "https:" ? httpsRequest : request)(
          url,
          { method: "POST", headers, timeout: this.target!.timeoutMs ?? 10_000 },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", reject);
        req.end(body);
      });
    } catch (e) {
      d.error = e instanceof Error ? e.message : String(e);
    }
    d.durationMs = Date.now() - started;
    d.deliveredAt = new Date().toISOString();
    this.log(`webhook ${label} ${d.id} -> ${d.status ?? d.error} (${d.durationMs} ms)`);
  }
}
