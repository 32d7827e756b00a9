/**
 * `copy-store`: a whole policy store copied into an empty one, SQLite or PostgreSQL on either
 * side, so a team moves from one host's file to a fleet's primary (and back) without losing
 * history. Everything is copied as it is — revision, database id, catalog, tenants, audit log
 * (ids kept: they are page tokens), change log and API tokens — from one consistent read of the
 * source, in one transaction on the target: a failure leaves the target as empty as it was.
 *
 * The rows move column for column (both schemas use the same names); the columns are those of
 * the current SQLite schema, so PostgreSQL's extra `seq` columns are assigned afresh in the
 * order the rows are inserted, which is the order they were written in.
 */
import { existsSync, rmSync } from "node:fs";
import pg from "pg";
import { type Db, openDatabase } from "../store/database.js";
import { readSchemaVersion } from "../store/migrations.js";
import { openStore } from "../store/open-store.js";
import { CHANGES_CHANNEL, openPgStore, type PgQuery, pgAddress } from "../store/pg/pg-policy-store.js";
import { readPgSchemaVersion } from "../store/pg/pg-schema.js";
import { storeErrorFromPg } from "../store/pg/pg-store-error.js";
import { StoreError } from "../store/store-error.js";
import {
  CATALOG_TABLES,
  insertSqliteRows,
  LOG_TABLES,
  type Row,
  readPgRows,
  type StoreTable,
  sqliteColumns,
  TENANT_TABLES,
} from "./store-tables.js";

/** Where a store lives: a SQLite file, or a PostgreSQL database. */
export type StoreLocation =
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgresql"; readonly url: string };

/** Options of `copyStore`. */
export interface CopyStoreOptions {
  /** Bound on reaching a PostgreSQL server, ms. Default `5000`. */
  readonly connectTimeoutMs?: number;
  /** Bound on each statement of the copy on PostgreSQL (a large store moves in big statements), ms. Default `60000`. */
  readonly statementTimeoutMs?: number;
}

/** What a copy moved. */
export interface CopyStoreResult {
  readonly revision: number;
  readonly databaseId: string;
  readonly tenants: number;
  readonly auditEvents: number;
  readonly tokens: number;
  /** Rows written to the target, every table together. */
  readonly rows: number;
  /** `host:port` of the primary when the source was a follower's copy of one. */
  readonly sourceCopyOf: string | undefined;
}

const DEFAULTS = Object.freeze({ connectTimeoutMs: 5_000, statementTimeoutMs: 60_000 });

/** Every table copied, parents first. */
const COPIED_TABLES: readonly StoreTable[] = [
  ...CATALOG_TABLES,
  ...TENANT_TABLES,
  LOG_TABLES.changeLog,
  LOG_TABLES.auditLog,
  LOG_TABLES.adminTokens,
];

/** Not copied as rows: meta is written from the source's, schema_version is the target's own history. */
const NOT_COPIED: ReadonlySet<string> = new Set(["meta", "schema_version"]);

/** A whole store as rows, read at one revision. */
interface StoreImage {
  readonly meta: {
    readonly database_id: string;
    readonly revision: number;
    readonly catalog_hash: string | null;
  };
  /** Rows per table of COPIED_TABLES, in the order they were written. */
  readonly tables: ReadonlyMap<string, Row[]>;
  readonly copyOf: string | undefined;
}

/** What a target holds; it is empty when nothing was ever committed or issued in it. */
interface Holdings {
  readonly revision: number;
  readonly tenants: number;
  readonly tokens: number;
  readonly auditEvents: number;
}

/** A SQLite path, or a `postgresql://` (or `postgres://`) URL. */
export function storeLocationOf(text: string): StoreLocation {
  return /^postgres(ql)?:\/\//i.test(text)
    ? { kind: "postgresql", url: text }
    : { kind: "sqlite", path: text };
}

/** How a location is named in messages: its path, or `postgresql://host:port/database` (never a password). */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === "sqlite") return `'${location.path}'`;
  let database = "";
  try {
    database = decodeURIComponent(new URL(location.url).pathname.slice(1));
  } catch {
    // pgAddress says the URL cannot be parsed.
  }
  return `postgresql://${pgAddress(location.url)}/${database}`;
}

let columnsOfSchema: ReadonlyMap<string, readonly string[]> | undefined;

/**
 * The columns of every copied table, from the current SQLite schema built in memory. Refuses a
 * schema with a table this file does not know, so a new table is never silently left behind.
 */
function copiedColumns(): ReadonlyMap<string, readonly string[]> {
  if (columnsOfSchema !== undefined) return columnsOfSchema;
  const db = openStore(":memory:");
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    const known = new Set(COPIED_TABLES.map((t) => t.name));
    const unknown = tables.filter((t) => !known.has(t) && !NOT_COPIED.has(t));
    if (unknown.length > 0) {
      throw new Error(
        `copy-store does not know the table(s) ${unknown.join(", ")}: add them to store-tables.ts`,
      );
    }
    columnsOfSchema = new Map(COPIED_TABLES.map((t) => [t.name, sqliteColumns(db, t.name)]));
    return columnsOfSchema;
  } finally {
    db.close();
  }
}

function columnsOf(table: string): readonly string[] {
  return copiedColumns().get(table)!;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

function refuseUnlessEmpty(label: string, h: Holdings): void {
  if (h.revision === 0 && h.tenants === 0 && h.tokens === 0 && h.auditEvents === 0) return;
  const tokens = h.tokens > 0 ? ` and ${plural(h.tokens, "API token")}` : "";
  throw new StoreError(
    "FAILED_PRECONDITION",
    `${label} is not empty: it holds ${plural(h.tenants, "tenant")} at revision ${h.revision}${tokens}; copy-store copies only into an empty store (a new file, or a new PostgreSQL database)`,
  );
}

/** Reads a SQLite store whole in one read transaction, without writing to it. */
function readSqliteImage(path: string): StoreImage {
  if (!existsSync(path)) throw new StoreError("NOT_FOUND", `no SQLite store at '${path}'`);
  let db: Db;
  try {
    // Read-only: copying from a file never changes it (an older schema is refused, not migrated).
    db = openStore(path, { readonly: true });
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    throw new StoreError(err.code, `'${path}': ${err.message}`, { cause: err });
  }
  try {
    return db
      .transaction((): StoreImage => {
        const meta = db.prepare("SELECT * FROM meta WHERE id = 1").get() as
          | (StoreImage["meta"] & { primary_address?: string | null })
          | undefined;
        if (meta === undefined) {
          throw new StoreError("FAILED_PRECONDITION", `'${path}' has no meta row; it is damaged`);
        }
        const tables = new Map<string, Row[]>();
        for (const t of COPIED_TABLES) {
          const list = columnsOf(t.name)
            .map((c) => `"${c}"`)
            .join(", ");
          // rowid order is the order the rows were written in, which PostgreSQL's seq then keeps.
          tables.set(t.name, db.prepare(`SELECT ${list} FROM ${t.name} ORDER BY rowid`).all() as Row[]);
        }
        return {
          meta: { database_id: meta.database_id, revision: meta.revision, catalog_hash: meta.catalog_hash },
          tables,
          copyOf: meta.primary_address ?? undefined,
        };
      })
      .deferred();
  } finally {
    db.close();
  }
}

/** Reaches a PostgreSQL server within the bound and returns its rolecall schema version (0: none). */
async function probePg(url: string, timeoutMs: number): Promise<number | null> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "rolecall-copy-store",
  });
  client.on("error", () => undefined); // reported by the failing call instead
  try {
    await client.connect();
    return await readPgSchemaVersion(client);
  } catch (err) {
    throw storeErrorFromPg(err, { address: pgAddress(url) });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function openPgForCopy(url: string, options: Required<CopyStoreOptions>) {
  return openPgStore(url, {
    timeoutMs: options.statementTimeoutMs,
    maxConnections: 1,
    applicationName: "rolecall-copy-store",
  });
}

/** Reads a PostgreSQL store whole in one REPEATABLE READ transaction. */
async function readPgImage(url: string, options: Required<CopyStoreOptions>): Promise<StoreImage> {
  const label = describeLocation({ kind: "postgresql", url });
  const version = await probePg(url, options.connectTimeoutMs);
  if (version === 0) throw new StoreError("NOT_FOUND", `${label} holds no rolecall store`);
  const store = await openPgForCopy(url, options);
  try {
    return await store.readSql(async (query) => {
      const meta = (
        await query<StoreImage["meta"]>("SELECT database_id, revision, catalog_hash FROM meta WHERE id = 1")
      ).rows[0];
      if (meta === undefined)
        throw new StoreError("FAILED_PRECONDITION", `${label} has no meta row; it is damaged`);
      const tables = new Map<string, Row[]>();
      for (const t of COPIED_TABLES) tables.set(t.name, await readPgRows(query, t, columnsOf(t.name)));
      return { meta, tables, copyOf: undefined };
    });
  } finally {
    await store.close();
  }
}

function sqliteHoldings(db: Db): Holdings {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  return {
    revision: count("SELECT revision FROM meta WHERE id = 1"),
    tenants: count("SELECT count(*) FROM tenants"),
    tokens: count("SELECT count(*) FROM admin_tokens"),
    auditEvents: count("SELECT count(*) FROM audit_log"),
  };
}

/** A SQLite file that exists and holds something is refused before it is opened for writing (and migrated). */
function refuseNonEmptySqliteEarly(path: string, label: string): void {
  if (!existsSync(path)) return;
  let db: Db;
  try {
    db = openDatabase(path, { readonly: true });
  } catch {
    return; // openStore says why it cannot be used
  }
  try {
    const version = readSchemaVersion(db);
    if (version !== null && version > 0) refuseUnlessEmpty(label, sqliteHoldings(db));
  } finally {
    db.close();
  }
}

/** Removes a SQLite file with its log, index and journal files. */
export function removeSqliteFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${path}${suffix}`, { force: true });
}

/** Writes the image into an empty (or new) SQLite file in one transaction; a file it created is removed on failure. */
function writeSqliteImage(path: string, image: StoreImage): number {
  const label = describeLocation({ kind: "sqlite", path });
  refuseNonEmptySqliteEarly(path, label);
  const created = !existsSync(path);
  let db: Db | undefined;
  try {
    db = openStore(path);
    const target = db;
    return target
      .transaction((): number => {
        refuseUnlessEmpty(label, sqliteHoldings(target));
        let rows = 0;
        for (const t of COPIED_TABLES) {
          const tableRows = image.tables.get(t.name) ?? [];
          insertSqliteRows(target, t.name, columnsOf(t.name), tableRows);
          rows += tableRows.length;
        }
        // A copy of a follower's copy is a store in its own right: it follows nothing.
        target
          .prepare(
            "UPDATE meta SET database_id = ?, revision = ?, catalog_hash = ?, primary_address = NULL WHERE id = 1",
          )
          .run(image.meta.database_id, image.meta.revision, image.meta.catalog_hash);
        return rows;
      })
      .immediate();
  } catch (err) {
    db?.close();
    db = undefined;
    if (created) removeSqliteFiles(path);
    throw err;
  } finally {
    db?.close();
  }
}

/** Inserts rows in the order given, many per statement (PostgreSQL takes at most 65,535 parameters). */
async function insertPgRows(
  query: PgQuery,
  table: string,
  columns: readonly string[],
  rows: readonly Row[],
): Promise<void> {
  const list = columns.map((c) => `"${c}"`).join(", ");
  const perStatement = Math.max(1, Math.min(1_000, Math.floor(30_000 / columns.length)));
  for (let start = 0; start < rows.length; start += perStatement) {
    const values: unknown[] = [];
    const tuples = rows.slice(start, start + perStatement).map((row) => {
      const slots = columns.map((c) => {
        values.push(row[c] ?? null);
        return `$${values.length}`;
      });
      return `(${slots.join(", ")})`;
    });
    // VALUES rows are inserted in order, so GENERATED ALWAYS `seq` numbers them as written.
    await query(`INSERT INTO ${table} (${list}) VALUES ${tuples.join(", ")}`, values);
  }
}

/** Writes the image into an empty PostgreSQL store in one transaction (migrating an empty database first). */
async function writePgImage(
  url: string,
  image: StoreImage,
  options: Required<CopyStoreOptions>,
): Promise<number> {
  const label = describeLocation({ kind: "postgresql", url });
  await probePg(url, options.connectTimeoutMs);
  const store = await openPgForCopy(url, options);
  try {
    // writeSql holds the write lock (meta FOR UPDATE) from its first statement: no writer slips in.
    return await store.writeSql(async (query) => {
      const count = async (sql: string) => Number((await query<{ n: number }>(sql)).rows[0]?.n ?? 0);
      refuseUnlessEmpty(label, {
        revision: await count("SELECT revision AS n FROM meta WHERE id = 1"),
        tenants: await count("SELECT count(*) AS n FROM tenants"),
        tokens: await count("SELECT count(*) AS n FROM admin_tokens"),
        auditEvents: await count("SELECT count(*) AS n FROM audit_log"),
      });
      let rows = 0;
      for (const t of COPIED_TABLES) {
        const tableRows = image.tables.get(t.name) ?? [];
        await insertPgRows(query, t.name, columnsOf(t.name), tableRows);
        rows += tableRows.length;
      }
      // audit_log ids were given explicitly: the identity must continue above them.
      await query(
        `SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL)
         FROM audit_log`,
      );
      await query(
        `UPDATE meta SET database_id = $1, revision = $2, catalog_hash = $3, primary_address = NULL WHERE id = 1`,
        [image.meta.database_id, image.meta.revision, image.meta.catalog_hash],
      );
      // Delivered after commit; a sidecar already following this database rereads it whole.
      await query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [String(image.meta.revision)]);
      return rows;
    });
  } finally {
    await store.close();
  }
}

/** Copies the store at `from` whole into the empty store at `to` (created when it is a missing SQLite file). */
export async function copyStore(
  from: StoreLocation,
  to: StoreLocation,
  options: CopyStoreOptions = {},
): Promise<CopyStoreResult> {
  const o = { ...DEFAULTS, ...options };
  copiedColumns();
  const image = from.kind === "sqlite" ? readSqliteImage(from.path) : await readPgImage(from.url, o);
  const rows = to.kind === "sqlite" ? writeSqliteImage(to.path, image) : await writePgImage(to.url, image, o);
  return {
    revision: image.meta.revision,
    databaseId: image.meta.database_id,
    tenants: image.tables.get("tenants")?.length ?? 0,
    auditEvents: image.tables.get("audit_log")?.length ?? 0,
    tokens: image.tables.get("admin_tokens")?.length ?? 0,
    rows,
    sourceCopyOf: image.copyOf,
  };
}
