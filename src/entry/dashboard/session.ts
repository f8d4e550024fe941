import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";

/** A signed-in person: their login and the user token GitHub gave the app for them. */
export interface Session {
  login: string;
  token: string;
  expiresAt: number;
}

const sessionSchema = z.object({ login: z.string().min(1), token: z.string().min(1), expiresAt: z.number() });

export const SESSION_COOKIE = "sheriff_session";
export const STATE_COOKIE = "sheriff_oauth_state";
/** GitHub App user tokens expire after eight hours; the session does no later. */
export const SESSION_TTL_MS = 8 * 3600 * 1000;

/**
 * Sessions live in the cookie, encrypted and authenticated (AES-256-GCM) with a key from the
 * session secret, so any app process behind a load balancer reads them and no one can forge or
 * read the token inside.
 */
export class SessionCodec {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = createHash("sha256").update(`sheriff-session:${secret}`).digest();
  }

  seal(session: Session): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  open(sealed: string | undefined, now = Date.now()): Session | null {
    if (!sealed) return null;
    try {
      const bytes = Buffer.from(sealed, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
      const parsed = sessionSchema.safeParse(JSON.parse(text));
      return parsed.success && parsed.data.expiresAt > now ? parsed.data : null;
    } catch {
      return null;
    }
  }
}

export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) cookies.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()));
  }
  return cookies;
}

export function cookie(name: string, value: string, options: { path: string; maxAgeS: number; secure: boolean }): string {
  return `${name}=${encodeURIComponent(value)}; Path=${options.path}; Max-Age=${options.maxAgeS}; HttpOnly; SameSite=Lax${options.secure ? "; Secure" : ""}`;
}
