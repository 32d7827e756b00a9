/**
 * The follower's whole copy (a cold start, a restored primary, a catalog change): every table
 * streamed from one REPEATABLE READ transaction on the primary with `COPY … TO STDOUT`, each row
 * written into the local SQLite file as it arrives, all inside one SQLite transaction on a
 * connection of its own. Readers of the file (the sync worker, admin reads on the follower's
 * connection) keep seeing the previous copy until the commit: the copy lands whole or not at all.
 *
 * The row-by-row JSON read this replaces built one JSON value per table on the primary: at a
 * million users it outran the statement bound and the follower never started.
 */
import pg from "pg";
import { type Db, openDatabase } from "../store/database.js";
import type { PgQuery } from "../store/pg/pg-policy-store.js";
import { CopyWriter } from "./copy-writer.js";
import { type CopyRow, copyOut } from "./pg-copy-out.js";
import {
  type CopyColumns,
  type PrimaryHead,
  type RowValues,
  readCatalog,
  readHead,
  readTokens,
  type TableRows,
} from "./primary-read.js";
import { CATALOG_TABLES, LOG_TABLES, type StoreTable, TENANT_TABLES } from "./store-tables.js";

/** What a whole copy brought. */
export interface WholeCopy {
  readonly head: PrimaryHead;
  /** Rows written, every table together. */
  readonly rows: number;
}

/** Options of `copyWholePrimary`. */
export interface WholeCopyOptions {
  readonly primaryUrl: string;
  /** The local copy's file. */
  readonly path: string;
  readonly columns: CopyColumns;
  /** Stamped as `meta.primary_read_at`. */
  readonly readAt: number;
  /** Bound on reaching the primary, ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Bound on the whole read on the primary, ms. Default 600,000. */
  readonly statementTimeoutMs?: number;
}

/**
 * Each table in the order SQLite inserts it fastest in: its primary key's, so every index entry
 * appends (and the primary serves the rows from that index, with no sort of millions of rows).
 * Users' rowid order means nothing (they are listed by id); assignments and grants are listed per
 * user or role in rowid order, which `seq` within the key keeps. The other tables keep the
 * order the primary wrote them in.
 */
const COPY_ORDER: Readonly<Record<string, string>> = {
  users: "tenant_id, id",
  user_roles: "tenant_id, user_id, seq",
  role_grants: "tenant_id, role_id, seq",
  role_licenses: "tenant_id, role_id, seq",
};

function orderOf(table: StoreTable): string {
  return COPY_ORDER[table.name] ?? table.order;
}

/** The copy's INTEGER columns: COPY sends every value as text. */
function integerColumns(db: Db, table: string, columns: readonly string[]): boolean[] {
  const types = new Map(
    (
      db.prepare("SELECT name, type FROM pragma_table_info(?)").all(table) as { name: string; type: string }[]
    ).map((c) => [c.name, /INT/i.test(c.type)]),
  );
  return columns.map((c) => types.get(c) === true);
}

/** Rows per INSERT statement: one statement for many rows costs a sixth less CPU than one each. */
const ROWS_PER_INSERT = 100;

/** Streams one table of the primary into the copy; returns the rows written. */
async function copyTable(
  client: pg.Client,
  db: Db,
  table: StoreTable,
  columns: readonly string[],
): Promise<number> {
  const list = columns.map((c) => `"${c}"`).join(", ");
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const insertOf = (rows: number) =>
    db.prepare(`INSERT INTO ${table.name} (${list}) VALUES ${Array(rows).fill(tuple).join(", ")}`);
  const many = insertOf(ROWS_PER_INSERT);
  const integers = integerColumns(db, table.name, columns);
  const width = columns.length;
  const values: unknown[] = [];
  const count = await copyOut(
    client,
    `SELECT ${list} FROM ${table.name} ORDER BY ${orderOf(table)}`,
    (row: CopyRow) => {
      for (let i = 0; i < width; i++) {
        const v = row[i]!;
        values.push(integers[i] && v !== null ? Number(v) : v);
      }
      if (values.length === ROWS_PER_INSERT * width) {
        many.run(values);
        values.length = 0;
      }
    },
  );
  if (values.length > 0) insertOf(values.length / width).run(values);
  return count;
}

/** The primary read at one instant: the head, the small tables, and its transaction still open. */
export interface PrimarySnapshot {
  readonly client: pg.Client;
  readonly head: PrimaryHead;
  readonly catalog: TableRows;
  readonly tokens: RowValues[];
  /** The transaction's snapshot, exported for a second connection (`exportSnapshot`); undefined when the server refused. */
  readonly exported: string | undefined;
}

/**
 * Opens one REPEATABLE READ transaction on the primary and reads its head, catalog and tokens;
 * the caller streams the rest with `writeStore` and ends the client (`endSnapshot`).
 */
export async function openSnapshot(
  options: WholeCopyOptions,
  exportSnapshot = false,
): Promise<PrimarySnapshot> {
  const client = new pg.Client({
    connectionString: options.primaryUrl,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: "rolecall-follower-copy",
  });
  client.on("error", () => undefined); // the failing statement reports it
  try {
    await client.connect();
    const query: PgQuery = (text, values) => client.query(text, values as unknown[]);
    const exported = await beginRead(client, exportSnapshot);
    await client.query(`SET LOCAL statement_timeout = ${Math.floor(options.statementTimeoutMs ?? 600_000)}`);
    const head = await readHead(query, options.columns, { databaseId: "", revision: 0 });
    const catalog = await readCatalog(query, options.columns);
    const tokens = await readTokens(query, options.columns);
    return { client, head, catalog, tokens, exported };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * Begins the read's REPEATABLE READ transaction and, when asked, exports its snapshot for another
 * connection to read in (`SET TRANSACTION SNAPSHOT`). A server that cannot export one (not from
 * a subtransaction, hence first) aborts the transaction: it is begun again, without.
 */
async function beginRead(client: pg.Client, exportSnapshot: boolean): Promise<string | undefined> {
  const begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  await client.query(begin);
  if (!exportSnapshot) return undefined;
  try {
    return (await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id")).rows[0]?.id;
  } catch {
    await client.query("ROLLBACK");
    await client.query(begin);
    return undefined;
  }
}

/** Ends the primary's transaction (a read-only one: nothing to keep) and its connection. */
export async function endSnapshot(snapshot: PrimarySnapshot): Promise<void> {
  await snapshot.client.end().catch(() => undefined);
}

/**
 * Streams `tables` (empty, in a transaction on `db`) from the primary; returns each one's rows.
 * Secondary indexes are built once the rows are in (a sort, not a random insert per row); they
 * come back in the same transaction, so no reader ever sees the copy without them.
 */
export async function streamTables(
  client: pg.Client,
  db: Db,
  tables: readonly StoreTable[],
  columns: CopyColumns,
): Promise<number[]> {
  const indexes = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
         AND tbl_name IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(tables.map((t) => t.name))) as { name: string; sql: string }[];
  for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
  const rows: number[] = [];
  for (const table of tables) rows.push(await copyTable(client, db, table, columns.get(table.name)!));
  for (const index of indexes) db.exec(index.sql);
  return rows;
}

/**
 * Writes the whole store of `snapshot` into `db`, inside the transaction the caller opened on a
 * connection with foreign keys off (the primary's rows already satisfy every key; checking 3
 * million references again would be a third of the copy). Returns the rows written.
 */
export async function writeStore(
  db: Db,
  snapshot: PrimarySnapshot,
  options: Pick<WholeCopyOptions, "columns" | "readAt"> & {
    /** Tables left empty here: another connection copies them (their indexes are not dropped). */
    readonly elsewhere?: ReadonlySet<string>;
  },
): Promise<number> {
  const { client, head, catalog, tokens } = snapshot;
  const writer = new CopyWriter(db, options.columns);
  // Without foreign keys nothing cascades: every table is emptied by name.
  const logs = [LOG_TABLES.changeLog, LOG_TABLES.auditLog];
  for (const t of [...CATALOG_TABLES, ...TENANT_TABLES, ...logs, LOG_TABLES.adminTokens])
    db.prepare(`DELETE FROM ${t.name}`).run();
  writer.insert(LOG_TABLES.adminTokens.name, tokens);
  for (const t of CATALOG_TABLES) writer.insert(t.name, catalog.get(t.name) ?? []);
  let rows = tokens.length;
  const own = [...TENANT_TABLES, ...logs].filter((t) => options.elsewhere?.has(t.name) !== true);
  for (const table of await streamTables(client, db, own, options.columns)) rows += table;
  writer.setHead(head);
  writer.setReadAt(options.readAt);
  return rows;
}

/**
 * Replaces everything in the copy at `path` by the primary's store as of one instant. Rejects,
 * leaving the copy as it was, when the primary cannot be read or the file cannot be written.
 */
export async function copyWholePrimary(options: WholeCopyOptions): Promise<WholeCopy> {
  const snapshot = await openSnapshot(options);
  let db: Db | undefined;
  try {
    // A connection of its own: nothing else ever sees the copy half written.
    db = openDatabase(options.path);
    db.pragma("foreign_keys = OFF"); // only settable outside a transaction
    db.pragma("cache_size = -262144"); // 256 MiB while inserting: the indexes stay in memory
    db.exec("BEGIN IMMEDIATE");
    try {
      const rows = await writeStore(db, snapshot, options);
      db.exec("COMMIT");
      return { head: snapshot.head, rows };
    } catch (err) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw err;
    }
  } finally {
    db?.close();
    await endSnapshot(snapshot);
  }
}
