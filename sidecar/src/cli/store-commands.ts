/**
 * `rolecall token`, `import-catalog`, `export`, `restore`: maintenance of the store — the SQLite
 * file, or with `--primary` a fleet's PostgreSQL primary (tokens and the catalog; `export` writes
 * the primary into a new SQLite file by copy-store; `restore` is for SQLite files only).
 */
import { parseArgs } from "node:util";
import type { Principal } from "../admin/principal.js";
import { copyStore } from "../fleet/copy-store.js";
import { exportDatabase, restoreDatabase } from "../store/backup.js";
import { importCatalog } from "../store/catalog-import.js";
import { importCatalogPg } from "../store/pg/pg-catalog-import.js";
import { createTokenPg, revokeTokenPg } from "../store/pg/pg-tokens.js";
import { createToken, revokeToken } from "../store/tokens.js";
import { openCliStore, STORE_FLAGS, STORE_FLAGS_HELP, type StoreTarget, storeTargetOf } from "./cli-store.js";
import { print } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall token`. */
export const TOKEN_HELP = `Usage: rolecall token create (--tenant T --user U | --tenant T --service NAME [--explanations] | --bootstrap) [--label TEXT]
       rolecall token revoke TOKEN_OR_ID

Creates a token (printed once; the store keeps only its SHA-256) or revokes one.
A user's token lets them read their own decisions; reading others or admin writes
need the tenant's ownership or a permission giving that admin right (see the README).
A service's token (--service: an API gateway, a policy enforcement point) may ask decisions
about any user of its tenant and nothing else: no admin call, no other tenant, and no
explanations unless created with --explanations.
With --primary, the token is kept on the fleet's primary and every sidecar following it
accepts it (or, once revoked, refuses it) within its --primary-poll-ms.

Options:
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

/** Help of `rolecall import-catalog`. */
export const IMPORT_HELP = `Usage: rolecall import-catalog [--db PATH | --primary URL]

Validates catalog/data/*.json and loads it into the store (one transaction; nothing changes when
the catalog is the same). A running sidecar recompiles on the next poll; with --primary, every
sidecar following the primary does.

Options:
${STORE_FLAGS_HELP}
`;

/** Help of `rolecall export`. */
export const EXPORT_HELP = `Usage: rolecall export FILE [--db PATH | --primary URL]

Writes a consistent online backup of the store (SQLite backup API) while writers may commit.
With --primary, writes the primary's store into FILE, a new SQLite file, as
'rolecall copy-store URL FILE' does (FILE must not hold a store yet).

Options:
${STORE_FLAGS_HELP}
`;

/** Help of `rolecall restore`. */
export const RESTORE_HELP = `Usage: rolecall restore FILE [--db PATH]

Replaces the store's contents with a backup in one transaction. Refuses files that are not a
rolecall database; the revision continues above the current one and the database gets a new id.
For SQLite stores only: to move a backup to a PostgreSQL primary, copy it into a new database
with 'rolecall copy-store FILE postgresql://…' and point the fleet at that database.

Options:
  --db PATH         the SQLite store [ROLECALL_DB] (default ./data/rolecall.db)
`;

/** Runs `rolecall token`. */
export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      user: { type: "string" },
      service: { type: "string" },
      explanations: { type: "boolean" },
      bootstrap: { type: "boolean" },
      label: { type: "string" },
      ...STORE_FLAGS,
      json: { type: "boolean" },
    },
  });
  const [action, arg, ...extra] = positionals;
  const create = action === "create" && arg === undefined;
  const revoke = action === "revoke" && arg !== undefined && extra.length === 0;
  if (!create && !revoke) throw new UsageError("expected 'token create ...' or 'token revoke TOKEN_OR_ID'");
  const principal = create ? tokenPrincipal(values) : undefined;
  const store = await openCliStore(storeTargetOf(values), "write");
  try {
    if (create) {
      const options = values.label ? { label: values.label } : {};
      const created =
        store.kind === "file"
          ? createToken(store.db, principal!, options)
          : await createTokenPg(store.pg, principal!, options);
      print(
        values.json ?? false,
        created,
        () => `${created.token}\n(id ${created.id}; shown once, keep it secret)`,
      );
      return 0;
    }
    const revoked = store.kind === "file" ? revokeToken(store.db, arg!) : await revokeTokenPg(store.pg, arg!);
    print(values.json ?? false, { revoked }, () => (revoked ? "revoked" : "no live token matched"));
    return revoked ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** The principal `token create`'s flags name; exactly one kind. */
function tokenPrincipal(values: {
  tenant?: string | undefined;
  user?: string | undefined;
  service?: string | undefined;
  explanations?: boolean | undefined;
  bootstrap?: boolean | undefined;
}): Principal {
  const kinds = [values.user !== undefined, values.service !== undefined, values.bootstrap === true];
  if (kinds.filter(Boolean).length !== 1) {
    throw new UsageError(
      "token create needs exactly one of --tenant T --user U, --tenant T --service NAME, --bootstrap",
    );
  }
  if (values.explanations && values.service === undefined) {
    throw new UsageError(
      "--explanations is for service tokens (--service NAME); users' rights come from their roles",
    );
  }
  if (values.bootstrap) return { kind: "bootstrap" };
  if (!values.tenant) throw new UsageError("token create needs --tenant T with --user or --service");
  if (values.user !== undefined) return { kind: "user", tenantId: values.tenant, userId: values.user };
  return {
    kind: "service",
    tenantId: values.tenant,
    name: values.service!,
    explanations: values.explanations ?? false,
  };
}

function fileCommand(argv: readonly string[]): { file: string | undefined; target: StoreTarget } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: STORE_FLAGS,
  });
  if (positionals.length > 1) throw new UsageError("expected at most one FILE");
  return { file: positionals[0], target: storeTargetOf(values) };
}

/** Runs `rolecall import-catalog`. */
export async function importCatalogCommand(argv: readonly string[]): Promise<number> {
  const { file, target } = fileCommand(argv);
  if (file !== undefined) throw new UsageError("import-catalog takes no FILE; it reads catalog/data");
  const store = await openCliStore(target, "write");
  try {
    const result =
      store.kind === "file"
        ? importCatalog(store.db, store.catalog)
        : await importCatalogPg(store.pg, store.catalog);
    process.stdout.write(
      result.changed
        ? `catalog imported at revision ${result.revision}\n`
        : "catalog unchanged; nothing to do\n",
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** Runs `rolecall export`. */
export async function exportCommand(argv: readonly string[]): Promise<number> {
  const { file, target } = fileCommand(argv);
  if (file === undefined) throw new UsageError("expected FILE");
  if (target.kind === "primary") {
    const copied = await copyStore({ kind: "postgresql", url: target.url }, { kind: "sqlite", path: file });
    process.stdout.write(`exported revision ${copied.revision} to ${file}\n`);
    return 0;
  }
  const store = await openCliStore(target, "read");
  try {
    if (store.kind !== "file") throw new Error("unreachable: a file target opens a file");
    const { revision } = await exportDatabase(store.db, file);
    process.stdout.write(`exported revision ${revision} to ${file}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Runs `rolecall restore`. */
export async function restoreCommand(argv: readonly string[]): Promise<number> {
  const { file, target } = fileCommand(argv);
  if (file === undefined) throw new UsageError("expected FILE");
  if (target.kind === "primary") {
    throw new UsageError(
      `restore replaces a SQLite store; to load '${file}' into PostgreSQL, copy it into a new database with 'rolecall copy-store ${file} postgresql://…' and point the fleet's --primary at it`,
    );
  }
  const store = await openCliStore(target, "write");
  try {
    if (store.kind !== "file") throw new Error("unreachable: a file target opens a file");
    const r = await restoreDatabase(store.db, file);
    process.stdout.write(
      `restored revision ${r.restoredRevision} as revision ${r.revision} (database id ${r.databaseId})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
