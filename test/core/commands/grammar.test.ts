import { describe, expect, it } from "vitest";
import { parseCommentCommands, tokenize } from "../../../src/core/commands/grammar.js";
import { COMMAND_SPECS, renderHelp } from "../../../src/core/commands/help.js";
import { COMMAND_NAMES, type Command } from "../../../src/model/commands.js";

const SLUG = "sheriff";

type Case = { name: string; body: string; commands: Command[]; errors?: (string | RegExp)[] };

const cases: Case[] = [
  { name: "no mention", body: "LGTM, ship it", commands: [] },
  { name: "mention mid-sentence is not a command", body: "thanks @sheriff land was great", commands: [] },
  { name: "other app with the slug as prefix", body: "@sheriff-bot land", commands: [] },
  { name: "help", body: "@sheriff help", commands: [{ name: "help" }] },
  {
    name: "pause with a reason",
    body: '@sheriff pause -m "driver rollout on the H100s"',
    commands: [{ name: "pause", reason: "driver rollout on the H100s" }],
  },
  { name: "pause needs a reason", body: "@sheriff pause", commands: [], errors: [/`pause` needs a reason: -m "<reason>"/] },
  {
    name: "pause with an unquoted reason",
    body: "@sheriff pause -m driver rollout",
    commands: [],
    errors: [/unexpected `rollout` after the reason; quote a reason with spaces/],
  },
  { name: "resume", body: "@sheriff resume", commands: [{ name: "resume" }] },
  { name: "resume takes nothing", body: "@sheriff resume now", commands: [], errors: [/`resume` takes no arguments, but got `now`/] },
  {
    name: "case-insensitive mention and command",
    body: "@Sheriff LAND --Squash".replace("--Squash", "--squash"),
    commands: [{ name: "land", method: "squash" }],
  },
  { name: "mention with [bot] and colon", body: "@sheriff[bot]: explain", commands: [{ name: "explain" }] },
  { name: "leading spaces (up to 3)", body: "   @sheriff cancel", commands: [{ name: "cancel" }] },
  { name: "indented code (4 spaces) ignored", body: "text\n\n    @sheriff cancel", commands: [] },
  { name: "land default is squash", body: "@sheriff land", commands: [{ name: "land", method: "squash" }] },
  { name: "land --merge", body: "@sheriff land --merge", commands: [{ name: "land", method: "merge" }] },
  { name: "land --rebase twice is fine", body: "@sheriff land --rebase --rebase", commands: [{ name: "land", method: "rebase" }] },
  {
    name: "land conflicting flags",
    body: "@sheriff land --squash --rebase",
    commands: [],
    errors: ["`land` takes one of --squash, --merge, --rebase, not both --squash and --rebase"],
  },
  {
    name: "land unknown flag",
    body: "@sheriff land --fast",
    commands: [],
    errors: [/`land` does not take `--fast`; it takes --squash, --merge, --rebase/],
  },
  { name: "land extra word", body: "@sheriff land please", commands: [], errors: [/`land` takes no arguments, but got `please`/] },
  {
    name: "revert with double-quoted reason and category",
    body: '@sheriff revert -m "2x slower on H100" -c perf',
    commands: [{ name: "revert", reason: "2x slower on H100", category: "perf" }],
  },
  { name: "revert single quotes", body: "@sheriff revert -m 'breaks fp16'", commands: [{ name: "revert", reason: "breaks fp16" }] },
  {
    name: "revert escaped quotes",
    body: String.raw`@sheriff revert -m "the \"fast\" path is wrong" --category=correctness`,
    commands: [{ name: "revert", reason: 'the "fast" path is wrong', category: "correctness" }],
  },
  {
    name: "revert smart quotes",
    body: "@sheriff revert -m \u201cbroken kernel\u201d",
    commands: [{ name: "revert", reason: "broken kernel" }],
  },
  { name: "revert --message= form", body: "@sheriff revert --message=flaky", commands: [{ name: "revert", reason: "flaky" }] },
  { name: "revert reason starting with a dash", body: "@sheriff revert -m -5%", commands: [{ name: "revert", reason: "-5%" }] },
  { name: "revert missing -m", body: "@sheriff revert", commands: [], errors: [/`revert` needs a reason: -m "<reason>"/] },
  { name: "revert -m without value", body: "@sheriff revert -m", commands: [], errors: [/`-m` needs a value/] },
  { name: "revert empty reason", body: '@sheriff revert -m ""', commands: [], errors: [/reason: the reason must not be empty/] },
  {
    name: "revert unquoted reason with spaces",
    body: "@sheriff revert -m too slow",
    commands: [],
    errors: [/unexpected `slow` after the reason; quote a reason with spaces/],
  },
  {
    name: "revert bad category",
    body: '@sheriff revert -m "x" -c "Perf Stuff"',
    commands: [],
    errors: [/category \(-c\) `Perf Stuff`: a category is a lowercase word/],
  },
  { name: "revert -m twice", body: "@sheriff revert -m a -m b", commands: [], errors: [/`-m` is given twice/] },
  { name: "unterminated quote", body: '@sheriff revert -m "oops', commands: [], errors: [/unterminated " quote/] },
  { name: "rerun all", body: "@sheriff rerun", commands: [{ name: "rerun", suites: [] }] },
  {
    name: "rerun suites, deduplicated, inline-code unwrapped",
    body: "@sheriff rerun varlen-attention `half-precision` varlen-attention",
    commands: [{ name: "rerun", suites: ["varlen-attention", "half-precision"] }],
  },
  { name: "rerun bad suite", body: "@sheriff rerun Varlen", commands: [], errors: [/suite `Varlen`: a suite name is lowercase/] },
  {
    name: "bisect with suite, uppercase shas lowered",
    body: "@sheriff bisect 1A2B3C4..9f8e7d6aa --suite index-reduce",
    commands: [{ name: "bisect", good: "1a2b3c4", bad: "9f8e7d6aa", suite: "index-reduce" }],
  },
  {
    name: "bisect -s alias",
    body: "@sheriff bisect abcdef0..0fedcba -s cuda-events",
    commands: [{ name: "bisect", good: "abcdef0", bad: "0fedcba", suite: "cuda-events" }],
  },
  { name: "bisect missing range", body: "@sheriff bisect", commands: [], errors: [/`bisect` needs a range <good>..<bad>/] },
  { name: "bisect three dots", body: "@sheriff bisect abcdef0...0fedcba", commands: [], errors: [/`abcdef0...0fedcba` is not a range/] },
  { name: "bisect short sha", body: "@sheriff bisect abc..0fedcba", commands: [], errors: [/`abc..0fedcba` is not a range <good>..<bad>/] },
  { name: "bisect non-hex", body: "@sheriff bisect main..0fedcba", commands: [], errors: [/is not a range/] },
  { name: "bisect same commit", body: "@sheriff bisect abcdef0..ABCDEF0", commands: [], errors: [/must differ/] },
  {
    name: "bisect two ranges",
    body: "@sheriff bisect abcdef0..0fedcba 1234567..7654321",
    commands: [],
    errors: [/unexpected extra argument `1234567..7654321`/],
  },
  {
    name: "rebaseline",
    body: '@sheriff rebaseline half-precision -m "intended"',
    commands: [{ name: "rebaseline", suite: "half-precision", reason: "intended" }],
  },
  {
    name: "rebaseline -m first",
    body: "@sheriff rebaseline -m intended half-precision",
    commands: [{ name: "rebaseline", suite: "half-precision", reason: "intended" }],
  },
  { name: "rebaseline missing reason", body: "@sheriff rebaseline half-precision", commands: [], errors: [/`rebaseline` needs a reason/] },
  { name: "rebaseline missing suite", body: '@sheriff rebaseline -m "x"', commands: [], errors: [/`rebaseline` needs a suite/] },
  {
    name: "explain with args",
    body: "@sheriff explain everything",
    commands: [],
    errors: [/`explain` takes no arguments, but got `everything`/],
  },
  {
    name: "cancel with an option",
    body: "@sheriff cancel --force",
    commands: [],
    errors: [/`cancel` takes no options, but got `--force`/],
  },
  {
    name: "unknown command with suggestion",
    body: "@sheriff lnad",
    commands: [],
    errors: ["unknown command `lnad`; did you mean `land`?"],
  },
  { name: "unknown command without suggestion", body: "@sheriff deploy", commands: [], errors: ["unknown command `deploy`"] },
  { name: "mention alone", body: "@sheriff", commands: [], errors: [/no command after `@sheriff`/] },
  {
    name: "several commands, one per line, in order",
    body: "Looks good.\n@sheriff rerun index-reduce\r\n\n@sheriff land --rebase\nthanks!",
    commands: [
      { name: "rerun", suites: ["index-reduce"] },
      { name: "land", method: "rebase" },
    ],
  },
  {
    name: "mixed valid and invalid lines",
    body: "@sheriff explain\n@sheriff land --squash --merge\n@sheriff frobnicate",
    commands: [{ name: "explain" }],
    errors: [/not both --squash and --merge/, /unknown command `frobnicate`/],
  },
  { name: "backtick fenced code ignored", body: "Try:\n```\n@sheriff land\n```\n@sheriff help", commands: [{ name: "help" }] },
  { name: "tilde fence with info string", body: "~~~text\n@sheriff cancel\n~~~\n", commands: [] },
  { name: "longer closing fence needed", body: "````\n```\n@sheriff cancel\n````\n@sheriff explain", commands: [{ name: "explain" }] },
  { name: "unclosed fence runs to the end", body: "```\n@sheriff cancel", commands: [] },
  { name: "tilde does not close backticks", body: "```\n~~~\n@sheriff cancel\n```\n", commands: [] },
  { name: "quoted lines ignored", body: '> @sheriff revert -m "x"\n>@sheriff land\n  > @sheriff cancel', commands: [] },
  { name: "inline code ignored", body: "Use `@sheriff land` when ready", commands: [] },
  { name: "line starting with inline code ignored", body: "`@sheriff land`", commands: [] },
  { name: "HTML comment (PR template) ignored", body: "<!--\n@sheriff land\n-->\n@sheriff explain", commands: [{ name: "explain" }] },
  { name: "different slug", body: "@sheriff land\n@kernel-sheriff cancel", commands: [{ name: "cancel" }] },
];

describe("parseCommentCommands", () => {
  it.each(cases)("$name", ({ name, body, commands, errors = [] }) => {
    const slug = name === "different slug" ? "kernel-sheriff" : SLUG;
    const parsed = parseCommentCommands(body, slug);
    expect(parsed.commands).toEqual(commands);
    expect(parsed.errors).toHaveLength(errors.length);
    parsed.errors.forEach((error, i) => {
      const want = errors[i]!;
      if (typeof want === "string") expect(error.message.startsWith(want)).toBe(true);
      else expect(error.message).toMatch(want);
    });
  });

  it("reports the line and text of each error, with the command's usage", () => {
    const parsed = parseCommentCommands("hello\n\n  @sheriff revert -m too slow  ", SLUG);
    expect(parsed.errors).toEqual([
      {
        line: 3,
        text: "@sheriff revert -m too slow",
        message:
          'unexpected `slow` after the reason; quote a reason with spaces: -m "…". Usage: `@sheriff revert -m "<reason>" [-c <category>]`',
      },
    ]);
  });
});

describe("tokenize", () => {
  it("splits like a shell", () => {
    expect(tokenize(String.raw`a "b c" 'd \' e' f\ g "h\\i" x"y z"w`)).toEqual([
      { value: "a", quoted: false },
      { value: "b c", quoted: true },
      { value: "d ' e", quoted: true },
      { value: "f g", quoted: false },
      { value: "h\\i", quoted: true },
      { value: "xy zw", quoted: true },
    ]);
  });
});

describe("help", () => {
  it("is rendered from the spec table with the slug, one row per command", () => {
    const help = renderHelp("kernel-sheriff");
    expect(COMMAND_SPECS.map((s) => s.name).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const spec of COMMAND_SPECS) expect(help).toContain(`@kernel-sheriff ${spec.name}`);
    expect(help).toContain("| `@kernel-sheriff land [--squash\\|--merge\\|--rebase]` |");
  });

  it("every example in the table parses", () => {
    for (const spec of COMMAND_SPECS) {
      const parsed = parseCommentCommands(`@sheriff ${spec.example}`, SLUG);
      expect(parsed.errors, spec.example).toEqual([]);
      expect(parsed.commands[0]?.name).toBe(spec.name);
    }
  });
});
