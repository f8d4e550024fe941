// The GitHub App's user authorization (OAuth web flow) on the web host: /login/oauth/authorize and /login/oauth/access_token.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomToken } from "./auth.js";
import type { Core } from "./core.js";
import { readBody } from "./http.js";

/** Codes are good for ten minutes and one exchange, as on GitHub. */
const CODE_TTL_MS = 10 * 60 * 1000;
const USER_TOKEN_TTL_S = 8 * 3600;

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

interface PendingCode {
  login: string;
  clientId: string;
  redirectUri: string;
  expiresAt: number;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`,
  );
}

function json(res: ServerResponse, body: Record<string, unknown>): void {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

/** Form fields or a JSON body, as GitHub's OAuth endpoints accept both. */
async function fields(req: IncomingMessage): Promise<URLSearchParams> {
  const text = (await readBody(req)).toString("utf8");
  if (String(req.headers["content-type"] ?? "").includes("application/json")) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return new URLSearchParams(Object.entries(parsed).map(([k, v]): [string, string] => [k, String(v)]));
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams(text);
}

/**
 * The app's OAuth client and the two web endpoints of its flow. Signing in at /login/oauth/authorize
 * takes a sandbox user's login and their token as the password (the stand-in has no passwords);
 * GitHub would then ask to authorize the app, which here is implied.
 */
export class OAuthStandIn {
  readonly client: OAuthClientCredentials = {
    clientId: `Iv1.${randomBytes(8).toString("hex")}`,
    clientSecret: randomBytes(20).toString("hex"),
  };
  private readonly codes = new Map<string, PendingCode>();

  constructor(private readonly core: Core) {}

  /** True when it answered the request. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/login/oauth/authorize" && method === "GET") this.authorizePage(res, url.searchParams);
    else if (url.pathname === "/login/oauth/authorize" && method === "POST") this.signIn(res, await fields(req));
    else if (url.pathname === "/login/oauth/access_token" && method === "POST") this.exchange(req, res, await fields(req));
    else return false;
    return true;
  }

  private authorizePage(res: ServerResponse, query: URLSearchParams): void {
    const clientId = query.get("client_id") ?? "";
    const redirectUri = query.get("redirect_uri") ?? "";
    if (clientId !== this.client.clientId) return page(res, 404, "Not Found", "<p>No application has this client_id.</p>");
    const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escape(value)}">`;
    page(
      res,
      200,
      `Sign in to GitHub to continue to ${this.core.urls.app.name}`,
      `<form method="post" action="/login/oauth/authorize">${hidden("client_id", clientId)}${hidden("redirect_uri", redirectUri)}${hidden("state", query.get("state") ?? "")}
<label>Username <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit" name="authorize" value="1">Sign in and authorize</button></form>`,
    );
  }

  private signIn(res: ServerResponse, form: URLSearchParams): void {
    const user = this.core.state.user(form.get("login") ?? "");
    if (!user || user.token !== form.get("password")) return page(res, 401, "Incorrect username or password.", "");
    const clientId = form.get("client_id") ?? "";
    const redirectUri = form.get("redirect_uri") ?? "";
    if (clientId !== this.client.clientId) return page(res, 404, "Not Found", "<p>No application has this client_id.</p>");
    const code = randomBytes(10).toString("hex");
    this.codes.set(code, { login: user.login, clientId, redirectUri, expiresAt: Date.now() + CODE_TTL_MS });
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    const state = form.get("state");
    if (state) back.searchParams.set("state", state);
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  private exchange(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void {
    const fail = (error: string, description: string) =>
      json(res, {
        error,
        error_description: description,
        error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
      });
    if (form.get("client_id") !== this.client.clientId || form.get("client_secret") !== this.client.clientSecret)
      return fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    const code = form.get("code") ?? "";
    const pending = this.codes.get(code);
    this.codes.delete(code);
    if (!pending || pending.expiresAt < Date.now() || pending.clientId !== this.client.clientId)
      return fail("bad_verification_code", "The code passed is incorrect or expired.");
    const redirectUri = form.get("redirect_uri");
    if (redirectUri && redirectUri !== pending.redirectUri)
      return fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
    const user = this.core.state.user(pending.login)!;
    const token = randomToken("ghu_");
    this.core.state.tokens.set(token, user);
    const answer = {
      access_token: token,
      expires_in: USER_TOKEN_TTL_S,
      refresh_token: randomToken("ghr_"),
      refresh_token_expires_in: 15_897_600,
      token_type: "bearer",
      scope: "",
    };
    if (String(req.headers.accept ?? "").includes("application/json")) return json(res, answer);
    res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
    res.end(new URLSearchParams(Object.entries(answer).map(([k, v]): [string, string] => [k, String(v)])).toString());
  }
}
