// Authentication: app JWTs (RS256, verified with the app's public key), installation tokens, user tokens.
import { randomBytes } from "node:crypto";
import jwt from "jsonwebtoken";
import { HttpError } from "./http.js";
import { PERMISSION_RANK, type Installation, type Permission, type Repo, type State, type User } from "./state.js";

export type Auth =
  | { kind: "anonymous" }
  | { kind: "app" }
  | { kind: "installation"; installation: Installation; token: string }
  | { kind: "user"; user: User };

/** GitHub tolerates this much clock drift on iat/exp. */
export const CLOCK_SKEW_S = 60;
export const INSTALLATION_TOKEN_TTL_MS = 60 * 60 * 1000;

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export function randomToken(prefix: string): string {
  const bytes = randomBytes(36);
  let s = prefix;
  for (const b of bytes) s += BASE62[b % 62];
  return s;
}

const unauthorized = (message = "Bad credentials"): HttpError => new HttpError(401, message);

export function verifyAppJwt(token: string, appId: number, publicKey: string, nowMs = Date.now()): void {
  let claims: jwt.JwtPayload;
  try {
    const decoded = jwt.verify(token, publicKey, { algorithms: ["RS256"], ignoreExpiration: true, ignoreNotBefore: true });
    if (typeof decoded === "string") throw new Error("string payload");
    claims = decoded;
  } catch {
    throw unauthorized("A JSON web token could not be decoded");
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== "number" || claims.iat > now + CLOCK_SKEW_S) {
    throw unauthorized("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  }
  if (typeof claims.exp !== "number" || claims.exp < now - CLOCK_SKEW_S) {
    throw unauthorized(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
  }
  if (claims.exp > now + 600 + CLOCK_SKEW_S) {
    throw unauthorized("'Expiration time' claim ('exp') is too far in the future");
  }
  if (String(claims.iss) !== String(appId)) throw unauthorized("Integration not found");
}

export function authenticate(header: string | undefined, state: State, app: { id: number; publicKey: string }): Auth {
  if (!header) return { kind: "anonymous" };
  const m = /^(bearer|token|basic)\s+(.+)$/i.exec(header.trim());
  if (!m) throw unauthorized();
  const scheme = m[1]!.toLowerCase();
  let credential = m[2]!.trim();
  if (scheme === "basic") {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    credential = decoded.slice(decoded.indexOf(":") + 1);
  }
  if (scheme === "bearer" && credential.split(".").length === 3) {
    verifyAppJwt(credential, app.id, app.publicKey);
    return { kind: "app" };
  }
  return authenticateToken(credential, state);
}

export function authenticateToken(token: string, state: State): Auth {
  const inst = state.installationTokens.get(token);
  if (inst) {
    if (inst.expiresAt <= Date.now()) throw unauthorized();
    const installation = state.installations.get(inst.installationId);
    if (!installation) throw unauthorized();
    return { kind: "installation", installation, token };
  }
  const user = state.tokens.get(token);
  if (user) return { kind: "user", user };
  throw unauthorized();
}

export function issueInstallationToken(state: State, installation: Installation): { token: string; expiresAt: number } {
  const token = randomToken("ghs_");
  const expiresAt = Date.now() + INSTALLATION_TOKEN_TTL_MS;
  state.installationTokens.set(token, { token, installationId: installation.id, expiresAt });
  return { token, expiresAt };
}

export function repoPermission(auth: Auth, repo: Repo): Permission {
  switch (auth.kind) {
    case "installation":
      return repo.installationId === auth.installation.id ? "write" : "none";
    case "user": {
      if (auth.user.login.toLowerCase() === repo.owner.login.toLowerCase()) return "admin";
      const p = auth.user.permissions.get(repo.fullName.toLowerCase());
      return p ?? (repo.private ? "none" : "read");
    }
    case "anonymous":
      return repo.private ? "none" : "read";
    case "app":
      return "none";
  }
}

export function requireRepoAccess(auth: Auth, repo: Repo, level: "read" | "write" | "admin"): void {
  const perm = repoPermission(auth, repo);
  if (perm === "none") {
    if (auth.kind === "anonymous") throw unauthorized("Requires authentication");
    if (auth.kind === "app")
      throw new HttpError(401, "A JSON web token cannot be used to access repository resources; use an installation token");
    throw new HttpError(404, "Not Found");
  }
  if (PERMISSION_RANK[perm] < PERMISSION_RANK[level]) {
    if (auth.kind === "anonymous") throw unauthorized("Requires authentication");
    throw new HttpError(
      403,
      auth.kind === "installation" ? "Resource not accessible by integration" : "Resource not accessible by personal access token",
    );
  }
}
