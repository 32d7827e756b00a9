/**
 * The second thread of a cold copy (cold-copy.ts): streams some of the primary's big tables, in
 * the snapshot the main thread's transaction exported, into a file of its own, which the main
 * thread then moves into the copy whole. SQLite's inserts are most of a cold copy's CPU: two
 * threads, each writing its own file, do them side by side.
 *
 * Message out, once: { rows } or { error }.
 */
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";
import type { Db } from "../store/database.js";
import { openStore } from "../store/open-store.js";
import { copyColumns } from "./primary-read.js";
import { TENANT_TABLES } from "./store-tables.js";
import { streamTables } from "./whole-copy.js";

/** What the main thread passes to the worker. */
export interface ColdCopyWorkerData {
  readonly kind: "cold-copy";
  readonly primaryUrl: string;
  /** From `pg_export_snapshot()` in the main thread's transaction, still open. */
  readonly snapshotId: string;
  /** A new file: the tables are written into it. */
  readonly path: string;
  /** Tenant tables, moved by the main thread as they are, indexes and all. */
  readonly tables: readonly string[];
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

/** Copies `tables` of the primary, as of the exported snapshot, into a new file; returns the rows written. */
export async function copyTablesInSnapshot(data: ColdCopyWorkerData): Promise<number> {
  if (!/^[0-9A-Fa-f-]+$/.test(data.snapshotId)) throw new Error(`not a snapshot id: '${data.snapshotId}'`);
  const client = new pg.Client({
    connectionString: data.primaryUrl,
    connectionTimeoutMillis: data.connectTimeoutMs,
    application_name: "rolecall-follower-copy",
  });
  client.on("error", () => undefined); // the failing statement reports it
  let db: Db | undefined;
  try {
    await client.connect();
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    await client.query(`SET TRANSACTION SNAPSHOT '${data.snapshotId}'`);
    await client.query(`SET LOCAL statement_timeout = ${Math.floor(data.statementTimeoutMs)}`);
    db = openStore(data.path);
    const columns = copyColumns(db);
    // A scratch file: no journal; rows whose parents are in the other file, so no foreign keys.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.pragma("foreign_keys = OFF");
    db.pragma("cache_size = -131072"); // 128 MiB: rows arrive in key order; the index is sorted in it
    db.exec("BEGIN");
    const tables = TENANT_TABLES.filter((t) => data.tables.includes(t.name));
    const rows = (await streamTables(client, db, tables, columns)).reduce((a, b) => a + b, 0);
    db.exec("COMMIT");
    return rows;
  } finally {
    db?.close();
    await client.end().catch(() => undefined);
  }
}

const port = parentPort;
const data = workerData as ColdCopyWorkerData | undefined;
if (port && data?.kind === "cold-copy") {
  copyTablesInSnapshot(data).then(
    (rows) => port.postMessage({ rows }),
    (err: unknown) => port.postMessage({ error: err instanceof Error ? err.message : String(err) }),
  );
}
