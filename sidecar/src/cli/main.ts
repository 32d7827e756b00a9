/** The `rolecall` command line: a table of subcommands. */
import { ADMIN_HELP, adminCommand } from "./admin.js";
import { COMPARE_HELP, compareCommand, WHAT_IF_HELP, whatIfCommand } from "./analyzer.js";
import { CHECK_HELP, checkCommand, EFFECTIVE_HELP, effectiveCommand } from "./check.js";
import { COPY_STORE_HELP, copyStoreCommand } from "./copy-store.js";
import { HISTORY_HELP, historyCommand } from "./history.js";
import { TEST_HELP, testCommand } from "./policy-test.js";
import { REVIEW_HELP, reviewCommand } from "./review.js";
import { SERVE_HELP, serve } from "./serve.js";
import {
  EXPORT_HELP,
  exportCommand,
  IMPORT_HELP,
  importCatalogCommand,
  RESTORE_HELP,
  restoreCommand,
  TOKEN_HELP,
  tokenCommand,
} from "./store-commands.js";
import { UsageError } from "./usage-error.js";

/** A subcommand: its one-line summary, help text and entry point (resolving to an exit code). */
interface Command {
  readonly summary: string;
  readonly help: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: { summary: "run the sidecar (what `npm start` runs)", help: SERVE_HELP, run: serve },
  check: { summary: "decide one permission for one user", help: CHECK_HELP, run: checkCommand },
  effective: { summary: "list a user's effective permissions", help: EFFECTIVE_HELP, run: effectiveCommand },
  compare: {
    summary: "two users side by side: where their access differs",
    help: COMPARE_HELP,
    run: compareCommand,
  },
  "what-if": {
    summary: "who would gain or lose what by proposed admin writes",
    help: WHAT_IF_HELP,
    run: whatIfCommand,
  },
  history: {
    summary: "when a user's access changed: who, what, gained and lost",
    help: HISTORY_HELP,
    run: historyCommand,
  },
  review: {
    summary: "the access review: every user's roles and allowed permissions, as CSV or JSON",
    help: REVIEW_HELP,
    run: reviewCommand,
  },
  test: {
    summary: "run policy tests: expected decisions written in a YAML file",
    help: TEST_HELP,
    run: testCommand,
  },
  admin: { summary: "tenants, users, roles, grants, licenses, apps", help: ADMIN_HELP, run: adminCommand },
  token: { summary: "create or revoke API tokens", help: TOKEN_HELP, run: tokenCommand },
  "import-catalog": {
    summary: "load catalog/data into the store",
    help: IMPORT_HELP,
    run: importCatalogCommand,
  },
  export: { summary: "online backup of the store", help: EXPORT_HELP, run: exportCommand },
  restore: { summary: "restore the store from a backup", help: RESTORE_HELP, run: restoreCommand },
  "copy-store": {
    summary: "copy a whole store into an empty one (SQLite ↔ PostgreSQL)",
    help: COPY_STORE_HELP,
    run: copyStoreCommand,
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: rolecall <command> [options]

rolecall answers "may this user do this, and if not, why not?" for contact-center software.

Commands:
${rows.join("\n")}

Commands that use the store take --db PATH (the SQLite file) or --primary URL (a fleet's
PostgreSQL primary). Run 'rolecall <command> --help' for a command's options.
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
