/**
 * Opens the SQLite file with the settings every connection needs. Admin writes use a read-write
 * connection; the sync watcher opens its own read-only one (never `immutable`, which would hide
 * other processes' commits).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError } from "./store-error.js";

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** Options of `openDatabase`. */
export interface OpenDatabaseOptions {
  /** Open read-only (the sync watcher). The file must exist. Default `false`. */
  readonly readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing, in ms. Default `5000`. */
  readonly busyTimeoutMs?: number;
}

const DEFAULTS = Object.freeze({ readonly: false, busyTimeoutMs: 5000 });

/** Opens (and for read-write, creates with its parent folder) the database at `path`, configured for WAL. */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  const readonly = options.readonly ?? DEFAULTS.readonly;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  const inMemory = path === ":memory:" || path === "";
  if (!readonly && !inMemory) mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (cause) {
    throw new StoreError(
      "UNAVAILABLE",
      `cannot open the policy database '${path}'${readonly ? " read-only" : ""}: ${(cause as Error).message}`,
      { cause },
    );
  }
  try {
    // Set the timeout first: the pragmas below may need a lock another process holds.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Only a writer can switch the journal mode; a reader inherits WAL from the file.
    if (!readonly) db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = NORMAL");
  } catch (cause) {
    db.close();
    throw new StoreError(
      "UNAVAILABLE",
      `cannot configure the policy database '${path}': ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return db;
}
