/**
 * Text Sheriff did not write (a person's reason, a suite's test names, messages and log) made
 * safe to put in what Sheriff posts: shown as written, length-limited, notifying no one, loading
 * nothing, and with known secret shapes redacted. Pure.
 */

export const REDACTED = "[redacted]";

/** At most `max` characters of the start of `text`, "…" marking a cut; never splits a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? "")) end--;
  return `${text.slice(0, end)}…`;
}

/** At most `max` characters of the end of `text`, "…" marking a cut; for log tails. */
export function clipTail(text: string, max: number): string {
  if (text.length <= max) return text;
  let start = text.length - Math.max(0, max - 1);
  if (/[\uDC00-\uDFFF]/.test(text[start] ?? "")) start++;
  return `…${text.slice(start)}`;
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // PEM private keys, to their END line or the end of the text.
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, `-----${REDACTED} PRIVATE KEY-----`],
  // GitHub tokens: personal, OAuth, user-to-server, server-to-server (installation), refresh; fine-grained.
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  // JSON Web Tokens (an app's JWT signs as the app).
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // AWS access key ids and secret keys written as a setting.
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/(aws_secret_access_key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi, `$1${REDACTED}`],
  // Authorization headers and credentials in URLs (x-access-token:…@ included).
  [/\b(Bearer|Basic|token)(\s+)[A-Za-z0-9\-._~+/]{16,}=*/gi, `$1$2${REDACTED}`],
  [/(\/\/[^/\s:@]+):[^@\s/]+@/g, `$1:${REDACTED}@`],
  // A tail that starts inside a key still shows its END line: drop everything up to it.
  [/^[\s\S]*-----END [A-Z0-9 ]*PRIVATE KEY-----/, REDACTED],
];

/** Redacts known secret shapes (GitHub tokens, PEM private keys, AWS keys, JWTs, auth headers, URL credentials). */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** `@name` and `@org/team` notify people; a zero-width joiner after the `@` keeps the text and drops the ping. */
export function neutralizeMentions(text: string): string {
  return text.replace(/@(?=[A-Za-z0-9])/g, "@\u200d");
}

/** HTML tags and Markdown images (which GitHub loads from anywhere) removed; an image keeps its alt text. */
export function dropHtmlAndImages(text: string): string {
  return text.replace(/!\[([^\]\n]*)\]\([^)\n]*\)/g, "$1").replace(/<\/?[A-Za-z!][^<>]*>/g, "");
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/**
 * Inline code showing `text` as written on one line, at most `max` characters of it: the fence
 * is longer than any run of backticks inside, so nothing can close it early, and code spans
 * render no mentions, HTML or images.
 */
export function inlineCode(text: string, max = 200): string {
  const body = clip(text.replace(/[\r\n]+/g, " "), max);
  if (body === "") return "` `";
  const fence = "`".repeat(longestBacktickRun(body) + 1);
  const pad = body.includes("`") || (body.startsWith(" ") && body.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A fenced code block of `text` that no line of it can close, keeping its start or (for logs) its end. */
export function codeBlock(text: string, options: { max: number; keep?: "start" | "end" }): string {
  const body = options.keep === "end" ? clipTail(text, options.max) : clip(text, options.max);
  const fence = "`".repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}text\n${body}\n${fence}`;
}

/** For a Markdown table cell: one line, `|` escaped (GFM splits cells on it even inside code). */
export function tableCell(markdown: string): string {
  return markdown.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|");
}

/**
 * Untrusted prose kept as prose on one line (where code formatting would be wrong, e.g. a note
 * in a list): no HTML or images, no mentions, at most `max` characters.
 */
export function quoteLine(text: string, max = 300): string {
  return clip(neutralizeMentions(dropHtmlAndImages(text.replace(/[\r\n]+/g, " "))), max);
}

/** A suite's log tail for a comment or PR: secrets redacted, then the end of it in a code block. */
export function logTailBlock(log: string, max = 3000): string {
  return codeBlock(redactSecrets(log), { max, keep: "end" });
}
