import { parseDocument } from "yaml";
import { CONFIG_PATH, sheriffConfigSchema, type SheriffConfig } from "./config.js";
import { formatZodIssues } from "./zod.js";

/** What an error message shows of a broken config: enough to fix it, small enough for any check run or comment. */
const ISSUES_SHOWN = 30;
const ISSUE_CHARS = 300;
/** Larger files are refused before parsing: a config is a few kilobytes. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Aliases one document may expand: YAML's "billion laughs" grows exponentially with nesting. */
const MAX_ALIAS_COUNT = 100;

export class ConfigError extends Error {
  constructor(
    readonly issues: string[],
    readonly path = CONFIG_PATH,
  ) {
    const shown = issues.slice(0, ISSUES_SHOWN).map((i) => `  - ${i.length > ISSUE_CHARS ? `${i.slice(0, ISSUE_CHARS)}…` : i}`);
    const more = issues.length > ISSUES_SHOWN ? [`  - and ${issues.length - ISSUES_SHOWN} more`] : [];
    super(`${path} is not a valid Sheriff config:\n${[...shown, ...more].join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the YAML text of `.github/sheriff.yml`; errors name the line for syntax and the key path for schema. */
export function parseConfig(text: string, path = CONFIG_PATH): SheriffConfig {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw new ConfigError([`the file is ${bytes} bytes, more than ${MAX_CONFIG_BYTES}`], path);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `YAML syntax at line ${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`),
      path,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // The yaml package throws a ReferenceError when aliases expand past the limit.
    throw new ConfigError([`YAML aliases: ${(err as Error).message}`], path);
  }
  const parsed = sheriffConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error), path);
  return parsed.data;
}
