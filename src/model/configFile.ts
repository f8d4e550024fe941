import { parseDocument } from "yaml";
import { CONFIG_PATH, sheriffConfigSchema, type SheriffConfig } from "./config.js";
import { formatZodIssues } from "./zod.js";

export class ConfigError extends Error {
  constructor(
    readonly issues: string[],
    readonly path = CONFIG_PATH,
  ) {
    super(`${path} is not a valid Sheriff config:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the YAML text of `.github/sheriff.yml`; errors name the line for syntax and the key path for schema. */
export function parseConfig(text: string, path = CONFIG_PATH): SheriffConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `YAML syntax at line ${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`),
      path,
    );
  }
  const parsed = sheriffConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error), path);
  return parsed.data;
}
