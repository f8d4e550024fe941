import type { Command } from "../../model/commands.js";
import { PERMISSION_RANK, type Permission } from "../../model/permission.js";
import { specOf } from "./help.js";

/**
 * Pure: may a user with `permission` run `command`? Write access (write, maintain or admin) is
 * needed for everything with an audience of "write" in `COMMAND_SPECS` (revert, land, rerun,
 * bisect, rebaseline, pause, resume, cancel: they change the branch, spend GPU time or
 * switch automatic reverts off); anyone may ask for
 * help or an explanation.
 */
export function mayRun(command: Pick<Command, "name">, permission: Permission): boolean {
  return specOf(command.name).audience === "anyone" || PERMISSION_RANK[permission] >= PERMISSION_RANK.write;
}
