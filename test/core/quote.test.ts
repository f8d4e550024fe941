import { describe, expect, it } from "vitest";
import {
  clip,
  clipTail,
  codeBlock,
  dropHtmlAndImages,
  inlineCode,
  logTailBlock,
  neutralizeMentions,
  quoteLine,
  redactSecrets,
  REDACTED,
  tableCell,
} from "../../src/core/quote.js";

const ZWJ = "\u200d";

describe("clip", () => {
  it("keeps the start or the end within the limit, marking the cut", () => {
    expect(clip("abcdef", 10)).toBe("abcdef");
    expect(clip("abcdef", 4)).toBe("abc…");
    expect(clipTail("abcdef", 4)).toBe("…def");
    expect(clip("x".repeat(100_000), 200)).toHaveLength(200);
  });

  it("never splits a surrogate pair", () => {
    expect(clip("ab😀cd", 4)).toBe("ab…");
    expect(clipTail("ab😀cd", 4)).toBe("…cd");
  });
});

describe("inlineCode", () => {
  it("wraps plain text in single backticks", () => {
    expect(inlineCode("kernels/a.cu")).toBe("`kernels/a.cu`");
  });

  it("cannot be closed early by backticks inside", () => {
    expect(inlineCode("a`b")).toBe("`` a`b ``");
    expect(inlineCode("x``` @everyone ```y")).toBe("```` x``` @everyone ```y ````");
    expect(inlineCode("`")).toBe("`` ` ``");
  });

  it("is one line and length-limited", () => {
    expect(inlineCode("a\nb\r\nc")).toBe("`a b c`");
    expect(inlineCode("r".repeat(10_000), 50)).toBe(`\`${"r".repeat(49)}…\``);
    expect(inlineCode("")).toBe("` `");
  });
});

describe("codeBlock", () => {
  it("uses a fence longer than any run of backticks in the text", () => {
    const text = "before\n```\n@everyone <img src=x>\n```\nafter";
    const block = codeBlock(text, { max: 1000 });
    expect(block.startsWith("````text\n")).toBe(true);
    expect(block.endsWith("\n````")).toBe(true);
    expect(block).toContain(text);
  });

  it("keeps the end of a log", () => {
    expect(codeBlock("a".repeat(50) + "END", { max: 10, keep: "end" })).toBe("```text\n…aaaaaaEND\n```");
  });
});

describe("neutralizeMentions and dropHtmlAndImages", () => {
  it("breaks user and team mentions", () => {
    expect(neutralizeMentions("@everyone and @org/team, mail a@b.c")).toBe(`@${ZWJ}everyone and @${ZWJ}org/team, mail a@${ZWJ}b.c`);
  });

  it("drops remote images and HTML, keeping alt text", () => {
    expect(dropHtmlAndImages("see ![chart](https://evil.example/p.png?t=1) <img src=https://evil.example/x> <b>bold</b>")).toBe(
      "see chart  bold",
    );
  });
});

describe("tableCell and quoteLine", () => {
  it("keeps a cell one cell", () => {
    expect(tableCell("`a|b`\nc")).toBe("`a\\|b` c");
  });

  it("makes untrusted prose inert", () => {
    expect(quoteLine("ping @everyone\n![x](https://evil.example/i.png)<script>alert(1)</script>")).toBe(`ping @${ZWJ}everyone xalert(1)`);
    expect(quoteLine("x".repeat(1000), 20)).toHaveLength(20);
  });
});

describe("redactSecrets", () => {
  const secrets: [string, string][] = [
    ["a classic PAT", `token=ghp_${"A1b2".repeat(9)}`],
    ["an installation token", `ghs_${"Z9y8".repeat(9)}`],
    ["an OAuth token", `gho_${"q".repeat(36)}`],
    ["a fine-grained PAT", `github_pat_11ABCDEFG0${"x_Y".repeat(20)}`],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["an AWS secret key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["a bearer token", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345"],
    ["a token header", "Authorization: token 0123456789abcdef0123456789abcdef"],
    ["a JWT", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"],
    ["a token in a clone URL", "https://x-access-token:v1.abcdef0123456789@github.com/o/r.git"],
  ];
  it.each(secrets)("redacts %s", (_what, text) => {
    const secret = text
      .split(/[\s=:]+/)
      .pop()!
      .replace(/@.*$/, "");
    const redacted = redactSecrets(`before ${text} after`);
    expect(redacted).toContain(REDACTED);
    expect(redacted).not.toContain(secret.length > 12 ? secret.slice(4) : secret);
    expect(redacted).toMatch(/^before .* after$/);
  });

  it("redacts PEM private keys, whole or only their tail", () => {
    const key = `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabcdEFGH\n-----END RSA PRIVATE KEY-----`;
    expect(redactSecrets(`env:\n${key}\nok`)).toBe(`env:\n-----${REDACTED} PRIVATE KEY-----\nok`);
    expect(redactSecrets(`abcdEFGH\n-----END PRIVATE KEY-----\nok`)).toBe(`${REDACTED}\nok`);
    expect(redactSecrets(`-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk`)).toBe(`-----${REDACTED} PRIVATE KEY-----`);
  });

  it("leaves ordinary log lines alone", () => {
    const log = "PASS convert/f32->bf16/rne (0.2 ms)\nmax error 0 <= tolerance 0\nhttps://github.com/o/r/actions/runs/1";
    expect(redactSecrets(log)).toBe(log);
  });

  it("runs in time linear in the log on hostile input", () => {
    const hostile = "-----BEGIN PRIVATE KEY-----".repeat(2000) + "ghp_".repeat(5000) + "//a:".repeat(5000);
    const start = performance.now();
    redactSecrets(hostile);
    const hostileMs = performance.now() - start;
    const plain = "x".repeat(hostile.length);
    const startPlain = performance.now();
    redactSecrets(plain);
    expect(hostileMs).toBeLessThan(50 * Math.max(performance.now() - startPlain, 1));
  });
});

describe("logTailBlock", () => {
  it("shows the end of a suite's log as code, without what it printed of the environment", () => {
    const log = `${"noise\n".repeat(2000)}PRIVATE_KEY=ghs_${"k".repeat(36)}\n\`\`\`\n@everyone ![x](https://evil.example/a.png)\nFAIL`;
    const block = logTailBlock(log, 500);
    expect(block.length).toBeLessThan(600);
    expect(block).not.toContain("k".repeat(36));
    expect(block).toMatch(/^````text\n…/);
    expect(block.endsWith("FAIL\n````")).toBe(true);
  });
});
