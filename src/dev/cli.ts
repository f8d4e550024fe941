#!/usr/bin/env node
/** Development tools: the demo day and the verdict simulator. Product code never imports them. */
import { runCommandLine, usageAnswer } from "../entry/command.js";

const USAGE = `usage: node dist/dev/cli.js <command>

  demo       the day from the story against a local GitHub stand-in (--keep leaves it running)
  simulate   the verdict engine over simulated commit streams (--help for its flags)
  help       this text`;

const DEMO_USAGE = `usage: npm run demo [-- --keep]

  Plays the day from the story against a local GitHub stand-in on this machine's Redis (REDIS_URL,
  default redis://127.0.0.1:6379) and exits non-zero unless Sheriff did exactly what the story expects.
  --keep     leave the stand-in and Sheriff running afterwards`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "demo":
      if (rest.includes("--help") || rest.includes("-h")) {
        console.log(DEMO_USAGE);
        return 0;
      }
      return (await import("./demo/main.js")).demoCli(rest);
    case "simulate":
      return (await import("./sim/cli.js")).simulateCli(rest);
    default:
      return usageAnswer(command, USAGE);
  }
}

runCommandLine(main);
