/** What a CLI command does with its code: a negative code means it keeps running (a server, a worker). */
export type CommandMain = (argv: string[]) => Promise<number>;

/** Runs a CLI's main and exits with its code; an error is printed as its message, exit 1. */
export function runCommandLine(main: CommandMain): void {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

/** The usual answers to no command, a help flag or an unknown command. */
export function usageAnswer(command: string | undefined, usage: string): number {
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(usage);
    return command ? 0 : 2;
  }
  console.error(`unknown command "${command}"\n\n${usage}`);
  return 2;
}
