/** `rolecall token`, `import-catalog`, `export`, `restore`: maintenance of the store file. */
import { parseArgs } from "node:util";
import { exportDatabase, restoreDatabase } from "../store/backup.js";
import { importCatalog } from "../store/catalog-import.js";
import { createToken, revokeToken } from "../store/tokens.js";
import { dbPathOf, openLocalStore, print } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall token`. */
export const TOKEN_HELP = `Usage: rolecall token create (--tenant T --user U | --bootstrap) [--label TEXT]
       rolecall token revoke TOKEN_OR_ID

Creates a token (printed once; the store keeps only its SHA-256) or revokes one.
A user's token lets them read their own decisions; reading others or admin writes
need the tenant's ownership or a permission giving that admin right (see the README).

Options:
  --db PATH      the store [ROLECALL_DB] (default ./data/rolecall.db)
  --json         machine-readable output
`;

/** Help of `rolecall import-catalog`. */
export const IMPORT_HELP = `Usage: rolecall import-catalog [--db PATH]

Validates catalog/data/*.json and loads it into the store (one transaction; nothing changes when
the catalog is the same). A running sidecar recompiles on the next poll.
`;

/** Help of `rolecall export`. */
export const EXPORT_HELP = `Usage: rolecall export FILE [--db PATH]

Writes a consistent online backup of the store (SQLite backup API) while writers may commit.
`;

/** Help of `rolecall restore`. */
export const RESTORE_HELP = `Usage: rolecall restore FILE [--db PATH]

Replaces the store's contents with a backup in one transaction. Refuses files that are not a
rolecall database; the revision continues above the current one and the database gets a new id.
`;

/** Runs `rolecall token`. */
export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      user: { type: "string" },
      bootstrap: { type: "boolean" },
      label: { type: "string" },
      db: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [action, arg, ...extra] = positionals;
  const store = openLocalStore(dbPathOf(values.db));
  try {
    if (action === "create" && arg === undefined) {
      const principal = values.bootstrap
        ? ({ kind: "bootstrap" } as const)
        : values.tenant && values.user
          ? ({ kind: "user", tenantId: values.tenant, userId: values.user } as const)
          : undefined;
      if (!principal) throw new UsageError("token create needs --tenant T --user U, or --bootstrap");
      const created = createToken(store.db, principal, values.label ? { label: values.label } : {});
      print(
        values.json ?? false,
        created,
        () => `${created.token}\n(id ${created.id}; shown once, keep it secret)`,
      );
      return 0;
    }
    if (action === "revoke" && arg !== undefined && extra.length === 0) {
      const revoked = revokeToken(store.db, arg);
      print(values.json ?? false, { revoked }, () => (revoked ? "revoked" : "no live token matched"));
      return revoked ? 0 : 1;
    }
    throw new UsageError("expected 'token create ...' or 'token revoke TOKEN_OR_ID'");
  } finally {
    store.close();
  }
}

function fileCommand(argv: readonly string[]): { file: string | undefined; db: string } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { db: { type: "string" } },
  });
  if (positionals.length > 1) throw new UsageError("expected at most one FILE");
  return { file: positionals[0], db: dbPathOf(values.db) };
}

/** Runs `rolecall import-catalog`. */
export async function importCatalogCommand(argv: readonly string[]): Promise<number> {
  const { file, db } = fileCommand(argv);
  if (file !== undefined) throw new UsageError("import-catalog takes no FILE; it reads catalog/data");
  const store = openLocalStore(db);
  try {
    const result = importCatalog(store.db, store.catalog);
    process.stdout.write(
      result.changed
        ? `catalog imported at revision ${result.revision}\n`
        : "catalog unchanged; nothing to do\n",
    );
    return 0;
  } finally {
    store.close();
  }
}

/** Runs `rolecall export`. */
export async function exportCommand(argv: readonly string[]): Promise<number> {
  const { file, db } = fileCommand(argv);
  if (file === undefined) throw new UsageError("expected FILE");
  const store = openLocalStore(db);
  try {
    const { revision } = await exportDatabase(store.db, file);
    process.stdout.write(`exported revision ${revision} to ${file}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** Runs `rolecall restore`. */
export async function restoreCommand(argv: readonly string[]): Promise<number> {
  const { file, db } = fileCommand(argv);
  if (file === undefined) throw new UsageError("expected FILE");
  const store = openLocalStore(db);
  try {
    const r = await restoreDatabase(store.db, file);
    process.stdout.write(
      `restored revision ${r.restoredRevision} as revision ${r.revision} (database id ${r.databaseId})\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
