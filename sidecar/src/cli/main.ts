/**
 * The `rolecall` command line: a table of subcommands. Each command's module (and the libraries
 * it needs: gRPC, PostgreSQL, the servers) is loaded only when that command runs, so a quick
 * `rolecall check` or `admin` call does not pay for starting what `serve` needs.
 */
import { tuneHeapForServe } from "../serve-heap.js";
import { UsageError } from "./usage-error.js";

/** What a command's module provides: its help text and entry point (resolving to an exit code). */
interface CommandModule {
  readonly help: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

/** `load` imports a command's module; `pick` takes its help and entry point from it. */
function lazy<M>(load: () => Promise<M>, pick: (m: M) => CommandModule): () => Promise<CommandModule> {
  return async () => pick(await load());
}

/** A subcommand: its one-line summary, and its module, loaded on use. */
interface Command {
  readonly summary: string;
  readonly load: () => Promise<CommandModule>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: {
    summary: "run the sidecar (what `npm start` runs)",
    // The heap settings go in before the server's modules load: loading them grows V8's heap.
    load: lazy(
      () => {
        tuneHeapForServe();
        return import("./serve.js");
      },
      (m) => ({ help: m.SERVE_HELP, run: m.serve }),
    ),
  },
  check: {
    summary: "decide one permission for one user",
    load: lazy(
      () => import("./check.js"),
      (m) => ({ help: m.CHECK_HELP, run: m.checkCommand }),
    ),
  },
  effective: {
    summary: "list a user's effective permissions",
    load: lazy(
      () => import("./check.js"),
      (m) => ({ help: m.EFFECTIVE_HELP, run: m.effectiveCommand }),
    ),
  },
  compare: {
    summary: "two users side by side: where their access differs",
    load: lazy(
      () => import("./analyzer.js"),
      (m) => ({ help: m.COMPARE_HELP, run: m.compareCommand }),
    ),
  },
  "what-if": {
    summary: "who would gain or lose what by proposed admin writes",
    load: lazy(
      () => import("./analyzer.js"),
      (m) => ({ help: m.WHAT_IF_HELP, run: m.whatIfCommand }),
    ),
  },
  history: {
    summary: "when a user's access changed: who, what, gained and lost",
    load: lazy(
      () => import("./history.js"),
      (m) => ({ help: m.HISTORY_HELP, run: m.historyCommand }),
    ),
  },
  review: {
    summary: "the access review: every user's roles and allowed permissions, as CSV or JSON",
    load: lazy(
      () => import("./review.js"),
      (m) => ({ help: m.REVIEW_HELP, run: m.reviewCommand }),
    ),
  },
  test: {
    summary: "run policy tests: expected decisions written in a YAML file",
    load: lazy(
      () => import("./policy-test.js"),
      (m) => ({ help: m.TEST_HELP, run: m.testCommand }),
    ),
  },
  admin: {
    summary: "tenants, users, roles, grants, licenses, apps",
    load: lazy(
      () => import("./admin.js"),
      (m) => ({ help: m.ADMIN_HELP, run: m.adminCommand }),
    ),
  },
  token: {
    summary: "create or revoke API tokens",
    load: lazy(
      () => import("./store-commands.js"),
      (m) => ({ help: m.TOKEN_HELP, run: m.tokenCommand }),
    ),
  },
  "import-catalog": {
    summary: "load catalog/data into the store",
    load: lazy(
      () => import("./store-commands.js"),
      (m) => ({ help: m.IMPORT_HELP, run: m.importCatalogCommand }),
    ),
  },
  export: {
    summary: "online backup of the store",
    load: lazy(
      () => import("./store-commands.js"),
      (m) => ({ help: m.EXPORT_HELP, run: m.exportCommand }),
    ),
  },
  restore: {
    summary: "restore the store from a backup",
    load: lazy(
      () => import("./store-commands.js"),
      (m) => ({ help: m.RESTORE_HELP, run: m.restoreCommand }),
    ),
  },
  "copy-store": {
    summary: "copy a whole store into an empty one (SQLite ↔ PostgreSQL)",
    load: lazy(
      () => import("./copy-store.js"),
      (m) => ({ help: m.COPY_STORE_HELP, run: m.copyStoreCommand }),
    ),
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
  const { help, run } = await command.load();
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(help);
    return 0;
  }
  try {
    return await run(rest);
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
