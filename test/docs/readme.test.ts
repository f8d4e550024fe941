import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMAND_SPECS } from "../../src/core/commands/help.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it.each(COMMAND_SPECS.map((spec) => [spec.name, spec] as const))("documents `%s` as the grammar accepts it", (_name, spec) => {
    const usage = `@sheriff ${spec.name}${spec.usage ? ` ${spec.usage.replace(/\|/g, "\\|")}` : ""}`;
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${usage}\``));
    expect(row, `README row for ${usage}`).toBeDefined();
    expect(row).toContain(spec.audience === "write" ? "| write |" : "| anyone |");
  });

  it("names every setting the app reads from the environment", () => {
    const settings = readFileSync(new URL("../../src/entry/settings.ts", import.meta.url), "utf8");
    for (const [, name] of settings.matchAll(/^\s+([A-Z][A-Z_]+): z\./gm)) expect(readme).toContain(`\`${name}\``);
  });
});
