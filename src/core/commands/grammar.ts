import { inlineCode } from "../quote.js";
import { specOf, usageOf } from "./help.js";
import {
  COMMAND_NAMES,
  commandSchema,
  type Command,
  type CommandName,
  type CommandSyntaxError,
  type MergeMethod,
  type ParsedComment,
} from "../../model/commands.js";

export type { Command, CommandSyntaxError, ParsedComment } from "../../model/commands.js";

/** What the person wrote, quoted back in an error: inline code, short, whatever it contains. */
function echo(text: string): string {
  return inlineCode(text, 60);
}

/**
 * Parses the Sheriff commands out of a comment body. Pure.
 *
 * - A command is a line that starts (after at most three spaces, as Markdown allows) with
 *   `@<slug>` (case-insensitive, optionally `@<slug>[bot]`, optionally followed by `:` or `,`).
 *   One command per line; a mention in the middle of a sentence is not a command.
 * - Ignored: fenced code blocks (``` and ~~~, closed by a fence of the same character at least as
 *   long; an unclosed fence runs to the end, as GitHub renders it), indented code (4+ spaces or a
 *   tab), quoted lines (`> ...`), HTML comments (PR templates), and inline code (a mention inside
 *   backticks never starts a line).
 * - Arguments are split like a shell: "double" or 'single' quotes (also “smart” double quotes)
 *   group words, a backslash escapes the quote character or a backslash, `--opt=value` works.
 * - Every line that addresses Sheriff but does not parse yields one precise error.
 */
export function parseCommentCommands(body: string, slug: string): ParsedComment {
  const commands: Command[] = [];
  const errors: CommandSyntaxError[] = [];
  for (const { line, text, rest } of commandLines(body, slug)) {
    const result = parseCommandLine(rest, slug);
    if ("error" in result) errors.push({ line, text, message: result.error });
    else commands.push(result.command);
  }
  return { commands, errors };
}

interface CommandLine {
  line: number;
  text: string;
  /** What follows the mention. */
  rest: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** HTML comments become blank text of the same line count, so line numbers stay right. */
function blankHtmlComments(body: string): string {
  return body.replace(/<!--[\s\S]*?(?:-->|$)/g, (m) => m.replace(/[^\n]/g, ""));
}

function commandLines(body: string, slug: string): CommandLine[] {
  const mention = new RegExp(`^ {0,3}@${escapeRegExp(slug)}(?:\\[bot\\])?(?=$|[\\s:,])[:,]?`, "i");
  const lines = blankHtmlComments(body.replace(/\r\n?/g, "\n")).split("\n");
  const found: CommandLine[] = [];
  let fence: { char: string; length: number } | null = null;
  lines.forEach((raw, index) => {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(raw);
    if (fence) {
      if (fenceMatch && fenceMatch[1]![0] === fence.char && fenceMatch[1]!.length >= fence.length && fenceMatch[2]!.trim() === "") {
        fence = null;
      }
      return;
    }
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      // A backtick fence's info string may not contain backticks (CommonMark); otherwise it is inline code.
      if (!(marker[0] === "`" && fenceMatch[2]!.includes("`"))) {
        fence = { char: marker[0]!, length: marker.length };
        return;
      }
    }
    if (/^\s*>/.test(raw)) return;
    const m = mention.exec(raw);
    if (!m) return;
    found.push({ line: index + 1, text: raw.trim(), rest: raw.slice(m[0].length) });
  });
  return found;
}

interface Token {
  value: string;
  /** Quoted tokens are never options. */
  quoted: boolean;
}

const OPEN_QUOTES: Record<string, string> = { '"': '"', "'": "'", "\u201c": "\u201d" };

/** Shell-like splitting; returns an error message for an unterminated quote. */
export function tokenize(input: string): Token[] | { error: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    while (i < input.length && /\s/.test(input[i]!)) i++;
    if (i >= input.length) break;
    let value = "";
    let quoted = false;
    while (i < input.length && !/\s/.test(input[i]!)) {
      const ch = input[i]!;
      const close = OPEN_QUOTES[ch];
      if (close !== undefined) {
        quoted = true;
        const start = i;
        i++;
        let closed = false;
        while (i < input.length) {
          const c = input[i]!;
          if (c === "\\" && (input[i + 1] === close || input[i + 1] === "\\")) {
            value += input[i + 1];
            i += 2;
            continue;
          }
          if (c === close) {
            closed = true;
            i++;
            break;
          }
          value += c;
          i++;
        }
        if (!closed) return { error: `unterminated ${ch} quote starting at ${echo(input.slice(start, start + 20))}` };
        continue;
      }
      if (ch === "\\" && i + 1 < input.length) {
        value += input[i + 1];
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    // `code` around a whole argument is Markdown decoration, not part of the argument.
    if (!quoted && /^`[^`]+`$/.test(value)) value = value.slice(1, -1);
    tokens.push({ value, quoted });
  }
  return tokens;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

interface OptionSpec {
  /** Canonical name, e.g. `-m`. */
  name: string;
  aliases: string[];
  takesValue: boolean;
}

const OPTIONS: Record<CommandName, OptionSpec[]> = {
  revert: [
    { name: "-m", aliases: ["--message"], takesValue: true },
    { name: "-c", aliases: ["--category"], takesValue: true },
  ],
  land: [
    { name: "--squash", aliases: [], takesValue: false },
    { name: "--merge", aliases: [], takesValue: false },
    { name: "--rebase", aliases: [], takesValue: false },
  ],
  rerun: [],
  bisect: [{ name: "--suite", aliases: ["-s"], takesValue: true }],
  rebaseline: [{ name: "-m", aliases: ["--message"], takesValue: true }],
  pause: [{ name: "-m", aliases: ["--message"], takesValue: true }],
  resume: [],
  explain: [],
  cancel: [],
  help: [],
};

interface SplitArgs {
  options: Map<string, string | true>;
  /** Option order as written (for conflict messages). */
  order: string[];
  positionals: string[];
  /** The option whose value came right before each positional, if any (for "quote it" hints). */
  after: (string | null)[];
}

function splitArgs(name: CommandName, tokens: Token[]): SplitArgs | { error: string } {
  const specs = OPTIONS[name];
  const options = new Map<string, string | true>();
  const order: string[] = [];
  const positionals: string[] = [];
  const after: (string | null)[] = [];
  let lastValueOf: string | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.quoted && token.value.startsWith("-") && token.value.length > 1) {
      const eq = token.value.indexOf("=");
      const flag = eq > 0 ? token.value.slice(0, eq) : token.value;
      const inline = eq > 0 ? token.value.slice(eq + 1) : undefined;
      const spec = specs.find((s) => s.name === flag || s.aliases.includes(flag));
      if (!spec) {
        const accepted = specs.map((s) => s.name).join(", ");
        return {
          error: accepted
            ? `\`${name}\` does not take ${echo(flag)}; it takes ${accepted}`
            : `\`${name}\` takes no options, but got ${echo(flag)}`,
        };
      }
      if (options.has(spec.name) && spec.takesValue) return { error: `\`${spec.name}\` is given twice` };
      if (spec.takesValue) {
        let value = inline;
        if (value === undefined) {
          const next = tokens[i + 1];
          if (
            !next ||
            (!next.quoted &&
              next.value.startsWith("-") &&
              next.value.length > 1 &&
              specs.some((s) => s.name === next.value || s.aliases.includes(next.value)))
          ) {
            return { error: `\`${spec.name}\` needs a value` };
          }
          value = next.value;
          i++;
        }
        options.set(spec.name, value);
        lastValueOf = spec.name;
      } else {
        if (inline !== undefined) return { error: `\`${spec.name}\` takes no value` };
        if (!options.has(spec.name)) order.push(spec.name);
        options.set(spec.name, true);
        lastValueOf = null;
      }
      continue;
    }
    positionals.push(token.value);
    after.push(lastValueOf);
    lastValueOf = null;
  }
  return { options, order, positionals, after };
}

function unexpected(name: CommandName, args: SplitArgs, allowed: number): string | null {
  if (args.positionals.length <= allowed) return null;
  const index = allowed;
  const word = args.positionals[index]!;
  const prevOption = args.after[index];
  if (prevOption === "-m") return `unexpected ${echo(word)} after the reason; quote a reason with spaces: -m "…"`;
  if (prevOption) return `unexpected ${echo(word)} after \`${prevOption}\`; quote a value with spaces`;
  return allowed === 0 ? `\`${name}\` takes no arguments, but got ${echo(word)}` : `unexpected extra argument ${echo(word)}`;
}

type LineResult = { command: Command } | { error: string };

/** Parses what follows `@slug` on one line. */
export function parseCommandLine(rest: string, slug: string): LineResult {
  const tokens = tokenize(rest);
  if ("error" in tokens) return { error: tokens.error };
  const [head, ...tail] = tokens;
  if (!head) return { error: `no command after \`@${slug}\`; try \`@${slug} help\`` };
  const word = head.value.toLowerCase();
  if (!(COMMAND_NAMES as readonly string[]).includes(word)) {
    const close = COMMAND_NAMES.map((n) => ({ n, d: levenshtein(word, n) }))
      .filter((x) => x.d <= 2)
      .sort((a, b) => a.d - b.d)[0];
    return { error: `unknown command ${echo(head.value)}${close ? `; did you mean \`${close.n}\`?` : ""}` };
  }
  const name = word as CommandName;
  const split = splitArgs(name, tail);
  const withUsage = (message: string): LineResult => ({ error: `${message}. Usage: ${usageOf(slug, name)}` });
  if ("error" in split) return withUsage(split.error);

  let raw: Record<string, unknown>;
  switch (name) {
    case "revert": {
      const extra = unexpected(name, split, 0);
      if (extra) return withUsage(extra);
      const reason = split.options.get("-m");
      if (reason === undefined) return withUsage('`revert` needs a reason: -m "<reason>"');
      raw = { name, reason, ...(split.options.has("-c") ? { category: split.options.get("-c") } : {}) };
      break;
    }
    case "land": {
      if (split.order.length > 1) {
        return {
          error: `\`land\` takes one of --squash, --merge, --rebase, not both ${split.order[0]} and ${split.order[1]}. Usage: ${usageOf(slug, name)}`,
        };
      }
      const extra = unexpected(name, split, 0);
      if (extra) return withUsage(extra);
      const method = split.order[0]?.slice(2) as MergeMethod | undefined;
      raw = { name, ...(method ? { method } : {}) };
      break;
    }
    case "rerun":
      raw = { name, suites: [...new Set(split.positionals)] };
      break;
    case "bisect": {
      const range = split.positionals[0];
      if (range === undefined) return withUsage("`bisect` needs a range <good>..<bad>");
      const extra = unexpected(name, split, 1);
      if (extra) return withUsage(extra);
      const m = /^([^.]+)\.\.([^.]+)$/.exec(range);
      if (!m || !/^[0-9a-f]{7,40}$/i.test(m[1]!) || !/^[0-9a-f]{7,40}$/i.test(m[2]!)) {
        return withUsage(`${echo(range)} is not a range <good>..<bad> of two commits (7 to 40 hex digits each, two dots)`);
      }
      if (m[1]!.toLowerCase() === m[2]!.toLowerCase()) return withUsage("the good and the bad commit must differ");
      raw = { name, good: m[1], bad: m[2], ...(split.options.has("--suite") ? { suite: split.options.get("--suite") } : {}) };
      break;
    }
    case "rebaseline": {
      const suite = split.positionals[0];
      if (suite === undefined) return withUsage("`rebaseline` needs a suite");
      const extra = unexpected(name, split, 1);
      if (extra) return withUsage(extra);
      const reason = split.options.get("-m");
      if (reason === undefined) return withUsage('`rebaseline` needs a reason: -m "<reason>"');
      raw = { name, suite, reason };
      break;
    }
    case "pause": {
      const extra = unexpected(name, split, 0);
      if (extra) return withUsage(extra);
      const reason = split.options.get("-m");
      if (reason === undefined) return withUsage('`pause` needs a reason: -m "<reason>"');
      raw = { name, reason };
      break;
    }
    case "resume":
    case "explain":
    case "cancel":
    case "help": {
      const extra = unexpected(name, split, 0);
      if (extra) return withUsage(extra);
      raw = { name };
      break;
    }
  }
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) {
    const FIELD_WORDS: Record<string, string> = {
      reason: "reason",
      category: "category (-c)",
      suites: "suite",
      suite: "suite",
      good: "good commit",
      bad: "bad commit",
    };
    const message = parsed.error.issues
      .map((issue) => {
        const field = issue.path[0];
        const label = typeof field === "string" ? (FIELD_WORDS[field] ?? field) : "";
        const value = valueAt(raw, issue.path);
        return `${label || "command"}${typeof value === "string" && value !== "" ? ` ${echo(value)}` : ""}: ${issue.message}`;
      })
      .join("; ");
    return withUsage(message);
  }
  return { command: parsed.data };
}

function valueAt(obj: unknown, path: (string | number)[]): unknown {
  let v: unknown = obj;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** For the README and the help: one line per command. */
export function commandUsage(slug: string, name: CommandName): string {
  const spec = specOf(name);
  return `@${slug} ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`;
}
