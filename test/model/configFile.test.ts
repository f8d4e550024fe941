import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/model/configFile.js";

const VALID = `
branches: [main, release]
runner: { mode: actions, workflow: post-land-gpu.yml }
policy: { autoRevert: on, maxAutoRevertsPerDay: 2 }
suites:
  - name: varlen-attention
    kind: builtin
    builtin: varlen-attention
    paths: ["kernels/attention/**"]
    thresholds: { slowdown: 0.03 }
  - name: smoke
    kind: command
    command: make smoke
    paths: ["**/*.cu"]
`;

describe("parseConfig", () => {
  it("parses a full config and fills defaults", () => {
    const config = parseConfig(VALID);
    expect(config.branches).toEqual(["main", "release"]);
    expect(config.policy).toEqual({ autoRevert: "on", maxAutoRevertsPerDay: 2, maxCulpritAgeHours: 24, optOutLabel: "sheriff-no-revert" });
    expect(config.suites[0]).toMatchObject({
      kind: "builtin",
      builtin: "varlen-attention",
      timeoutSeconds: 1800,
      thresholds: { slowdown: 0.03, pValue: 0.01, retries: 1, flakeRisk: 0.00001 },
    });
    expect(config.suites[1]).toMatchObject({ kind: "command", command: "make smoke" });
  });

  it("defaults to shadow mode so a new install never reverts before people trust it", () => {
    expect(parseConfig("suites: [{ name: a, kind: command, command: 'true', paths: ['**'] }]").policy.autoRevert).toBe("shadow");
  });

  it.each([
    ["suites: []", "suites: Array must contain at least 1 element(s)"],
    ["suites: [{ name: a, kind: gpu, paths: ['x'] }]", "suites.0.kind"],
    ["suites: [{ name: a, kind: builtin, builtin: nope, paths: ['x'] }]", "suites.0.builtin"],
    ["suites: [{ name: a, kind: command, paths: ['x'] }]", "suites.0.command: Required"],
    ["suites: [{ name: Bad Name, kind: command, command: x, paths: ['x'] }]", "suites.0.name"],
    ["policy: { autoRevert: yes }\nsuites: [{ name: a, kind: command, command: x, paths: ['x'] }]", "policy.autoRevert"],
    ["suites: [{ name: a, kind: command, command: x, paths: ['x'], typo: 1 }]", "Unrecognized key(s) in object: 'typo'"],
    [
      "suites:\n  - { name: a, kind: command, command: x, paths: ['x'] }\n  - { name: a, kind: command, command: y, paths: ['y'] }",
      'suites.1.name: duplicate suite name "a"',
    ],
  ])("rejects %j with a message naming the key", (text, expected) => {
    expect(() => parseConfig(text)).toThrowError(ConfigError);
    expect(() => parseConfig(text)).toThrowError(expected);
  });

  it("names the line of a YAML syntax error", () => {
    expect(() => parseConfig("suites:\n  - name: a\n   kind: [unclosed")).toThrowError(/YAML syntax at line \d/);
  });

  it("turns a YAML alias bomb into a config error instead of expanding it", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${"abcdefghi"[i]}: &${"abcdefghi"[i]} [${Array(9)
          .fill(`*${"abcdefghi"[i - 1]}`)
          .join(", ")}]`,
      );
    const started = Date.now();
    expect(() => parseConfig(`${levels.join("\n")}\nsuites: []\n`)).toThrowError(ConfigError);
    expect(() => parseConfig(`${levels.join("\n")}\nsuites: []\n`)).toThrowError(/YAML aliases/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("keeps the message of thousands of invalid suites small enough for a check run", () => {
    const suites = Array.from({ length: 3_000 }, (_, i) => `  - { name: s${i}, kind: nope, paths: ["k/**"] }`);
    const error = (() => {
      try {
        parseConfig(`suites:\n${suites.join("\n")}\n`);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error("parsed");
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues.length).toBeGreaterThan(1_000);
    expect(error.message.length).toBeLessThan(16_000);
    expect(error.message).toMatch(/and \d+ more$/);
  });

  it("refuses a file far larger than any config before parsing it", () => {
    expect(() => parseConfig(`# ${"x".repeat(300 * 1024)}\nsuites: []\n`)).toThrowError(/bytes, more than/);
  });
});
