import { COMMAND_NAMES, type CommandName } from "../../model/commands.js";

/** Who may run a command: people with write access to the repository, or anyone. */
export type CommandAudience = "write" | "anyone";

/** Where a command works: on a pull request only, or in any comment of the repository (issues too). */
export type CommandScope = "pull-request" | "repository";

export interface CommandSpec {
  name: CommandName;
  /** Arguments after the command name, in the help's notation. */
  usage: string;
  summary: string;
  audience: CommandAudience;
  scope: CommandScope;
  /** Arguments after the command name for one example. */
  example: string;
}

/**
 * The help of every command: the help reply, the permission rule (`mayRun`) and the README are
 * rendered from it. Keyed by name, so the compiler asks for an entry for every command the
 * schema defines.
 */
const SPECS: { readonly [N in CommandName]: Omit<CommandSpec, "name"> } = {
  revert: {
    usage: '-m "<reason>" [-c <category>]',
    summary:
      "Open a revert PR for this PR's landed commit, with the reason (and an optional category such as `perf` or `correctness`). A person's revert is not held back by the limits on automatic ones (culprit age, opt-out label, pause, daily cap), but Sheriff never opens a second revert while one is open or the commit is already reverted.",
    audience: "write",
    scope: "pull-request",
    example: 'revert -m "2x slowdown in varlen-attention on H100" -c perf',
  },
  land: {
    usage: "[--squash|--merge|--rebase]",
    summary:
      "Put this PR in the branch's merge queue. It is merged (squash by default) once approved, mergeable and its required checks are green; if the base moved it is updated and re-checked first.",
    audience: "write",
    scope: "pull-request",
    example: "land --rebase",
  },
  rerun: {
    usage: "[<suite>...]",
    summary: "Run the post-land GPU suites again for this PR's commit: the named suites, or every suite it touches.",
    audience: "write",
    scope: "pull-request",
    example: "rerun varlen-attention half-precision",
  },
  bisect: {
    usage: "<good>..<bad> [--suite <name>]",
    summary: "Find the first bad commit between two commits (7 to 40 hex digits each), optionally for one suite.",
    audience: "write",
    scope: "pull-request",
    example: "bisect 1a2b3c4..9f8e7d6 --suite index-reduce",
  },
  rebaseline: {
    usage: '<suite> -m "<reason>"',
    summary: "Accept this PR's commit as the new baseline for a suite (an intended slowdown, say), with the reason.",
    audience: "write",
    scope: "pull-request",
    example: 'rebaseline half-precision -m "new rounding mode is intended"',
  },
  pause: {
    usage: '-m "<reason>"',
    summary:
      "Pause automatic reverts on the whole repository (on any PR or issue), with the reason: regressions are still found and reported, and no revert PR is opened for them until `resume`.",
    audience: "write",
    scope: "repository",
    example: 'pause -m "driver rollout on the H100 runners"',
  },
  resume: {
    usage: "",
    summary: "Turn automatic reverts back on after a `pause`.",
    audience: "write",
    scope: "repository",
    example: "resume",
  },
  explain: {
    usage: "",
    summary:
      "Explain why Sheriff did what it did on this PR: the jobs, the evidence and the decision, and whether automatic reverts are paused.",
    audience: "anyone",
    scope: "pull-request",
    example: "explain",
  },
  cancel: {
    usage: "",
    summary: "Take this PR out of the merge queue and cancel Sheriff's pending work for it.",
    audience: "write",
    scope: "pull-request",
    example: "cancel",
  },
  help: {
    usage: "",
    summary: "Show this help, and whether automatic reverts are paused.",
    audience: "anyone",
    scope: "repository",
    example: "help",
  },
};

/** The commands in the order of the schema. */
export const COMMAND_SPECS: readonly CommandSpec[] = COMMAND_NAMES.map((name) => ({ name, ...SPECS[name] }));

export function specOf(name: CommandName): CommandSpec {
  return { name, ...SPECS[name] };
}

function usageLine(slug: string, spec: CommandSpec): string {
  return `@${slug} ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`;
}

/** The usage of one command, in backticks, for error messages. */
export function usageOf(slug: string, name: CommandName): string {
  return `\`${usageLine(slug, specOf(name))}\``;
}

/** Markdown help, rendered from `COMMAND_SPECS`. */
export function renderHelp(slug: string): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const rows = COMMAND_SPECS.map(
    (spec) =>
      `| \`${escape(usageLine(slug, spec))}\` | ${escape(spec.summary)} | ${spec.audience === "write" ? "write access" : "anyone"} |`,
  );
  const examples = COMMAND_SPECS.filter((s) => s.example !== s.name).map((s) => `@${slug} ${s.example}`);
  return [
    `**Sheriff commands.** Start a line of a PR comment with \`@${slug}\`; one command per line. Lines in code blocks, inline code and quotes (\`>\`) are ignored, and editing a comment does not run it again.`,
    "",
    "| Command | What it does | Who |",
    "| --- | --- | --- |",
    ...rows,
    "",
    "Quote arguments with spaces, as in a shell. Examples:",
    "",
    "```",
    ...examples,
    "```",
  ].join("\n");
}
