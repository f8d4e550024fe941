import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "zod";
import { decidePageAccess, safeReturnPath } from "../../core/dashboard/access.js";
import { DASHBOARD_PREFIX } from "../../core/dashboard/links.js";
import type { NodeHandler } from "../webhookServer.js";
import { authorizeUrl, exchangeCode } from "./github.js";
import { html, page } from "./html.js";
import { cookie, readCookies, SESSION_COOKIE, SESSION_TTL_MS, STATE_COOKIE, type Session } from "./session.js";
import { benchmarkPage, commitPage, gridPage, homePage } from "./pages.js";
import { ledgerPage } from "./ledgerPage.js";
import type { DashboardOptions, PageResult, RepoContext } from "./context.js";

export type { DashboardOptions } from "./context.js";

const ownerName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/);

const ROUTES: { pattern: RegExp; page: (options: DashboardOptions, ctx: RepoContext, params: string[]) => Promise<PageResult> }[] = [
  { pattern: /^\/([^/]+)\/([^/]+)\/?$/, page: gridPage },
  { pattern: /^\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{4,40})$/, page: (o, c, p) => commitPage(o, c, p[0]!) },
  { pattern: /^\/([^/]+)\/([^/]+)\/ledger$/, page: ledgerPage },
  { pattern: /^\/([^/]+)\/([^/]+)\/bench\/([^/]+)$/, page: (o, c, p) => benchmarkPage(o, c, decodeURIComponent(p[0]!)) },
];

function chartAssetPath(): string {
  // chart.js exports no subpath for its UMD build: it lies beside the CommonJS entry.
  return join(dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.min.js");
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): true {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers }).end(body);
  return true;
}

/** The dashboard's pages under /sheriff, served by the app's own HTTP server. */
export function dashboardHandler(options: DashboardOptions): NodeHandler {
  const secure = options.publicUrl.startsWith("https:");
  const callbackUrl = `${options.publicUrl.replace(/\/+$/, "")}${DASHBOARD_PREFIX}/oauth/callback`;
  let chartJs: Promise<Buffer> | null = null;

  const render = (res: ServerResponse, session: Session | null, result: PageResult, headers: Record<string, string | string[]> = {}) => {
    if ("redirect" in result) {
      res.writeHead(302, { location: result.redirect, ...headers }).end();
      return true;
    }
    const text = page({
      title: result.title,
      prefix: DASHBOARD_PREFIX,
      ...(session ? { login: session.login } : {}),
      body: result.body,
      ...(result.scripts ? { scripts: result.scripts } : {}),
    });
    return send(res, result.status ?? 200, text, headers);
  };

  const signIn = (res: ServerResponse, returnTo: string): true => {
    if (!options.oauth)
      return send(
        res,
        403,
        page({
          title: "Sign-in not configured",
          prefix: DASHBOARD_PREFIX,
          body: html`<p>
            This repository is private and sign-in through GitHub is not configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET).
          </p>`,
        }),
      );
    const state = randomBytes(16).toString("base64url");
    res.writeHead(302, {
      location: authorizeUrl(options.oauth, callbackUrl, state),
      "set-cookie": cookie(STATE_COOKIE, `${state}|${returnTo}`, { path: DASHBOARD_PREFIX, maxAgeS: 600, secure }),
    });
    res.end();
    return true;
  };

  const callback = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<true> => {
    const [expected, returnTo] = (readCookies(req).get(STATE_COOKIE) ?? "").split("|");
    const code = query.get("code");
    if (!options.oauth || !code || !expected || query.get("state") !== expected)
      return send(
        res,
        400,
        page({
          title: "Sign-in failed",
          prefix: DASHBOARD_PREFIX,
          body: html`<p>The sign-in did not match the one this browser started. <a href="${DASHBOARD_PREFIX}/login">Try again</a>.</p>`,
        }),
      );
    const token = await exchangeCode(options.oauth, code, callbackUrl);
    const login = await options.github.userLogin(token);
    const session = options.sessions.seal({ login, token, expiresAt: Date.now() + SESSION_TTL_MS });
    res.writeHead(302, {
      location: safeReturnPath(returnTo, DASHBOARD_PREFIX),
      "set-cookie": [
        cookie(SESSION_COOKIE, session, { path: DASHBOARD_PREFIX, maxAgeS: SESSION_TTL_MS / 1000, secure }),
        cookie(STATE_COOKIE, "", { path: DASHBOARD_PREFIX, maxAgeS: 0, secure }),
      ],
    });
    res.end();
    return true;
  };

  const repoPage = async (req: IncomingMessage, res: ServerResponse, session: Session | null, url: URL, path: string): Promise<boolean> => {
    for (const route of ROUTES) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const owner = ownerName.safeParse(match[1]);
      const name = ownerName.safeParse(match[2]);
      if (!owner.success || !name.success) return false;
      const repo = `${owner.data}/${name.data}`;
      const branch = url.searchParams.get("branch") ?? (await options.store.branches()).find((b) => b.repo === repo)?.branch ?? null;
      const facts = await options.github.repoFacts(owner.data, name.data, branch ? await options.ledger.head(repo, branch) : null);
      if (!facts) return render(res, session, { title: "Not found", status: 404, body: html`<p>Sheriff is not installed on ${repo}.</p>` });
      const viewer = session ? { login: session.login, canRead: await options.github.canRead(session.token, owner.data, name.data) } : null;
      const access = decidePageAccess({ repoPrivate: facts.private, openWhenPublic: facts.config?.dashboard?.public ?? false, viewer });
      if (access.kind === "sign-in") return signIn(res, `${url.pathname}${url.search}`);
      if (access.kind === "refused")
        return render(res, session, {
          title: "Access refused",
          status: 403,
          body: html`<p class="refused">
            ${access.reason}: its pages are shown only to people who can read it. <a href="${DASHBOARD_PREFIX}/logout">Sign out</a>
          </p>`,
        });
      const ctx: RepoContext = { owner: owner.data, name: name.data, repo, config: facts.config, query: url.searchParams };
      return render(res, session, await route.page(options, ctx, match.slice(3)));
    }
    return false;
  };

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (req.method !== "GET" || (url.pathname !== DASHBOARD_PREFIX && !url.pathname.startsWith(`${DASHBOARD_PREFIX}/`))) return false;
    const path = url.pathname.slice(DASHBOARD_PREFIX.length) || "/";
    const session = options.sessions.open(readCookies(req).get(SESSION_COOKIE));
    try {
      if (path === "/assets/chart.umd.min.js") {
        chartJs ??= readFile(chartAssetPath());
        res
          .writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" })
          .end(await chartJs);
        return true;
      }
      if (path === "/login") return signIn(res, safeReturnPath(url.searchParams.get("return") ?? undefined, DASHBOARD_PREFIX));
      if (path === "/oauth/callback") return await callback(req, res, url.searchParams);
      if (path === "/logout")
        return render(
          res,
          null,
          { redirect: `${DASHBOARD_PREFIX}/` },
          { "set-cookie": cookie(SESSION_COOKIE, "", { path: DASHBOARD_PREFIX, maxAgeS: 0, secure }) },
        );
      if (path === "/") return render(res, session, await homePage(options));
      return await repoPage(req, res, session, url, path);
    } catch (err) {
      options.log.error({ err, path: url.pathname }, "dashboard page failed");
      return send(
        res,
        500,
        page({ title: "Error", prefix: DASHBOARD_PREFIX, body: html`<p>This page failed; the app's log says why.</p>` }),
      );
    }
  };
}
