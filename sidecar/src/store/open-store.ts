/**
 * Opens the policy store ready for use: a writer's connection migrated to the current schema, or
 * a reader's connection checked against it (a reader cannot migrate).
 */
import { type Db, type OpenDatabaseOptions, openDatabase } from "./database.js";
import { assertSchemaCurrent, migrate } from "./migrations.js";

/** Options of `openStore`. */
export interface OpenStoreOptions extends OpenDatabaseOptions {
  /** Returns the current time, recorded with applied migrations. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** Opens the store at `path`: read-write connections are migrated, read-only ones must already be current. */
export function openStore(path: string, options: OpenStoreOptions = {}): Db {
  const db = openDatabase(path, options);
  try {
    if (options.readonly === true) assertSchemaCurrent(db);
    else migrate(db, options.clock === undefined ? {} : { clock: options.clock });
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
