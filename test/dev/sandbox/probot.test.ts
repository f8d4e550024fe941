// End to end: a real Probot app, configured with GitHub Enterprise settings, talks to the sandbox.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { createNodeMiddleware, createProbot, type Probot } from "probot";
import { afterEach, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/dev/sandbox/server.js";
import { APP_ID, PRIVATE_KEY, PUBLIC_KEY, SECRET } from "./helpers.js";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

it("drives a Probot app through GHE_HOST: signed webhook in, installation-token API calls out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sandbox-probot-"));
  let middleware: ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined;
  const appServer = createServer((req, res) => {
    void Promise.resolve(middleware?.(req, res)).then((handled) => {
      if (!handled && !res.headersSent) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => appServer.listen(0, "127.0.0.1", () => r()));
  const sb: Sandbox = await startSandbox({
    dataDir: join(dir, "data"),
    app: { id: APP_ID, slug: "sheriff-test", publicKey: PUBLIC_KEY },
    webhook: { url: `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/api/github/webhooks`, secret: SECRET },
  });
  cleanup.push(async () => {
    await sb.close();
    await new Promise<void>((r) => appServer.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  const probot: Probot = createProbot({
    env: {
      APP_ID: String(APP_ID),
      PRIVATE_KEY,
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: new URL(sb.url).host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "fatal",
    },
  });
  middleware = await createNodeMiddleware(
    (app) => {
      app.on("issue_comment.created", async (context) => {
        if (context.isBot || !context.payload.comment.body.startsWith("/ping")) return;
        await context.octokit.rest.reactions.createForIssueComment(
          context.repo({ comment_id: context.payload.comment.id, content: "rocket" }),
        );
        await context.octokit.rest.issues.createComment(context.issue({ body: "pong" }));
      });
    },
    { probot, webhooksPath: "/api/github/webhooks" },
  );

  await sb.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n" } });
  const alice = sb.addUser("alice", { permissions: { "acme/kernels": "write" } });
  const asAlice = new Octokit({ baseUrl: sb.apiUrl, auth: alice.token });
  const issue = (await asAlice.rest.issues.create({ owner: "acme", repo: "kernels", title: "flaky kernel" })).data;
  const comment = (await asAlice.rest.issues.createComment({ owner: "acme", repo: "kernels", issue_number: issue.number, body: "/ping" }))
    .data;
  await sb.waitForIdle();

  const reactions = (await asAlice.rest.reactions.listForIssueComment({ owner: "acme", repo: "kernels", comment_id: comment.id })).data;
  expect(reactions.map((r) => [r.content, r.user?.login])).toEqual([["rocket", "sheriff-test[bot]"]]);
  const comments = (await asAlice.rest.issues.listComments({ owner: "acme", repo: "kernels", issue_number: issue.number })).data;
  expect(comments.map((c) => [c.user?.login, c.body])).toEqual([
    ["alice", "/ping"],
    ["sheriff-test[bot]", "pong"],
  ]);
  const deliveries = sb.deliveries();
  expect(deliveries.map((d) => [d.event, d.action, d.status])).toEqual([
    ["issues", "opened", 200],
    ["issue_comment", "created", 200],
    ["issue_comment", "created", 200],
  ]);
});
