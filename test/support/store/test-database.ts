/**
 * Test helpers: a migrated database in a fresh temp folder (removed by `cleanup`), and a dump of
 * every row for comparing the database before and after a refused write.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog } from "../../../catalog/catalog.js";
import { importCatalog } from "../../../sidecar/src/store/catalog-import.js";
import { type Db, openDatabase } from "../../../sidecar/src/store/database.js";
import { migrate } from "../../../sidecar/src/store/migrations.js";

/** A temp database for one test. */
export interface TempDatabase {
  readonly db: Db;
  readonly dir: string;
  readonly path: string;
  /** Closes the connection and removes the folder. */
  readonly cleanup: () => void;
}

/** Creates a migrated database in a new temp folder, with `catalog` imported when given. */
export function createTempDatabase(catalog?: Catalog): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-store-"));
  const path = join(dir, "data", "rolecall.db");
  const db = openDatabase(path);
  migrate(db);
  if (catalog !== undefined) importCatalog(db, catalog);
  return {
    db,
    dir,
    path,
    cleanup: () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every row of every table, as text: equal dumps mean nothing was written. */
export function dumpDatabase(db: Db): string {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
}
