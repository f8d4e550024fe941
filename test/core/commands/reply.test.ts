import { describe, expect, it } from "vitest";
import { parseCommentCommands } from "../../../src/core/commands/grammar.js";
import {
  combineReplies,
  exceedsCommandLimit,
  fitComment,
  GITHUB_COMMENT_LIMIT,
  MAX_COMMANDS_PER_COMMENT,
  renderSyntaxErrors,
  tooManyCommandsReply,
} from "../../../src/core/commands/reply.js";

describe("command limits", () => {
  it("allows at most MAX_COMMANDS_PER_COMMENT command lines, parsed or not", () => {
    expect(exceedsCommandLimit(MAX_COMMANDS_PER_COMMENT)).toBe(false);
    expect(exceedsCommandLimit(MAX_COMMANDS_PER_COMMENT + 1)).toBe(true);
    const flood = Array.from({ length: 1000 }, () => "@sheriff rerun").join("\n");
    const parsed = parseCommentCommands(flood, "sheriff");
    expect(exceedsCommandLimit(parsed.commands.length + parsed.errors.length)).toBe(true);
    expect(tooManyCommandsReply("mallory", "sheriff", 1000)).toBe(
      "@mallory This comment gives 1000 `@sheriff` commands; one comment may give at most 10, so I did nothing. Split them over several comments.",
    );
  });
});

describe("fitComment", () => {
  it("leaves a reply within the limit as it is", () => {
    expect(fitComment("short")).toBe("short");
    expect(fitComment("x".repeat(GITHUB_COMMENT_LIMIT))).toHaveLength(GITHUB_COMMENT_LIMIT);
  });

  it("cuts a 1.9 MB reply to GitHub's limit with a note, closing an open code block and details", () => {
    const huge = ["<details><summary>log</summary>", "", "````", "line\n".repeat(400_000)].join("\n");
    const fitted = fitComment(huge);
    expect(fitted.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(fitted).toMatch(
      /\n````\n<\/details>\n\n\*\(Reply truncated to fit GitHub's limit of 65,536 characters: [\d,]+ characters left out\.\)\*$/,
    );
  });

  it("gives each command of a reply its share, so one long reply does not hide the others", () => {
    const body = combineReplies("maint", [
      { name: "explain", reply: "e".repeat(2_000_000) },
      { name: "rerun", reply: "Queued 2 GPU jobs." },
    ]);
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain("- **`rerun`**: Queued 2 GPU jobs.");
    expect(body).toContain("Reply truncated");
  });
});

describe("echoed text", () => {
  it("quotes at most a short piece of a 100 KB reason, line or word back", () => {
    const reason = "r".repeat(100_000);
    const parsed = parseCommentCommands(`@sheriff revert -m "${reason}"\n@sheriff ${"x".repeat(100_000)}`, "sheriff");
    expect(parsed.errors).toHaveLength(2);
    for (const error of parsed.errors) expect(error.message.length).toBeLessThan(400);
    const reply = renderSyntaxErrors("maint", "sheriff", parsed.errors);
    expect(reply.length).toBeLessThan(10_000);
    expect(reply).toContain("reason `rrrr");
    expect(reply).toContain("…`: the reason is longer than 1000 characters");
  });

  it("cannot close its inline code early with backticks", () => {
    const parsed = parseCommentCommands("@sheriff `x` ![](https://evil.example/t.png) @everyone", "sheriff");
    const reply = renderSyntaxErrors("maint", "sheriff", parsed.errors);
    expect(reply).toContain("- line 1, `` @sheriff `x` ![](https://evil.example/t.png) @everyone ``: unknown command `x`");
  });
});
