/**
 * Copies a SQLite store whole into an empty PostgreSQL database, for the fleet bench's scale
 * fixture when `rolecall copy-store` is not available: the tables of store-tables.ts in
 * insertion order (so PostgreSQL's `seq` reproduces SQLite's rowid order), the logs and tokens,
 * then the revision, database id and catalog hash — one transaction.
 */
import {
  CATALOG_TABLES,
  LOG_TABLES,
  type Row,
  sqliteColumns,
  TENANT_TABLES,
} from "../../sidecar/src/fleet/store-tables.js";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { openPgStore, type PgQuery } from "../../sidecar/src/store/pg/pg-policy-store.js";

/** Rows per INSERT: one JSON parameter each. */
const BATCH = 5_000;

async function insertBatch(query: PgQuery, table: string, columns: readonly string[], rows: readonly Row[]) {
  const list = columns.map((c) => `"${c}"`).join(", ");
  // Ordinality keeps the order of the batch, so identity columns number rows as SQLite did.
  await query(
    `INSERT INTO ${table} (${list})
     SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::json) WITH ORDINALITY AS r
     ORDER BY r.ordinality`,
    [JSON.stringify(rows)],
  );
}

/** What `copySqliteToPg` copied. */
export interface CopyResult {
  readonly rows: number;
  readonly revision: number;
}

/** Copies the store at `sqlitePath` into the empty PostgreSQL database at `url` (migrating it first). */
export async function copySqliteToPg(sqlitePath: string, url: string): Promise<CopyResult> {
  const db = openDatabase(sqlitePath, { readonly: true });
  const store = await openPgStore(url, { maxConnections: 1, timeoutMs: 600_000 });
  try {
    return await store.writeSql(async (query) => {
      const tenants = (await query<{ n: number }>("SELECT count(*)::int AS n FROM tenants")).rows[0]?.n;
      if (tenants !== 0) throw new Error("the PostgreSQL database is not empty; copy into a new one");
      let rows = 0;
      const tables = [
        ...CATALOG_TABLES,
        ...TENANT_TABLES,
        LOG_TABLES.changeLog,
        LOG_TABLES.auditLog,
        LOG_TABLES.adminTokens,
      ];
      for (const table of tables) {
        const columns = sqliteColumns(db, table.name);
        const select = db.prepare(
          `SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM ${table.name} ORDER BY rowid`,
        );
        let batch: Row[] = [];
        for (const row of select.iterate() as IterableIterator<Row>) {
          batch.push(row);
          if (batch.length === BATCH) {
            await insertBatch(query, table.name, columns, batch);
            rows += batch.length;
            batch = [];
          }
        }
        if (batch.length > 0) await insertBatch(query, table.name, columns, batch);
        rows += batch.length;
      }
      // Audit ids were copied: the next one continues after them.
      await query(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), GREATEST((SELECT max(id) FROM audit_log), 1))",
      );
      const meta = db.prepare("SELECT database_id, revision, catalog_hash FROM meta WHERE id = 1").get() as {
        database_id: string;
        revision: number;
        catalog_hash: string | null;
      };
      await query("UPDATE meta SET database_id = $1, revision = $2, catalog_hash = $3 WHERE id = 1", [
        meta.database_id,
        meta.revision,
        meta.catalog_hash,
      ]);
      return { rows, revision: meta.revision };
    });
  } finally {
    await store.close();
    db.close();
  }
}
