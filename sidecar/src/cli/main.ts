/** The `rolecall` command line: a table of subcommands. */
import { SERVE_HELP, serve } from "./serve.js";
import { UsageError } from "./usage-error.js";

/** A subcommand: its one-line summary, help text and entry point (resolving to an exit code). */
interface Command {
  readonly summary: string;
  readonly help: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: { summary: "run the sidecar (what `npm start` runs)", help: SERVE_HELP, run: serve },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: rolecall <command> [options]

rolecall answers "may this user do this, and if not, why not?" for contact-center software.

Commands:
${rows.join("\n")}

Run 'rolecall <command> --help' for a command's options.
`;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rolecall: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`rolecall ${name}: ${(err as Error).message}\nRun 'rolecall ${name} --help'.\n`);
      return 2;
    }
    process.stderr.write(`rolecall ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
