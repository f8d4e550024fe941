export { parseCommentCommands, tokenize } from "./grammar.js";
export { COMMAND_SPECS, renderHelp, specOf, type CommandSpec, type CommandAudience } from "./help.js";
export {
  handleIssueComment,
  isBot,
  type CommandActions,
  type CommandContext,
  type CommandDeps,
  type CommandResult,
  type HandleOutcome,
} from "./handler.js";
export { issueCommentPayloadSchema, type IssueCommentPayload } from "./payload.js";
export { createPermissionChecker, mayRun, toPermission, type Permission, type PermissionChecker } from "./permissions.js";
export { fetchAppSlug } from "./slug.js";
export {
  commandSchema,
  DEFAULT_MERGE_METHOD,
  silentLog,
  type Command,
  type CommandName,
  type CommandSyntaxError,
  type Log,
  type MergeMethod,
  type ParsedComment,
} from "./types.js";
