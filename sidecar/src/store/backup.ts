/**
 * Online backup and restore. Export uses SQLite's backup API, so it is consistent while writers
 * commit. Restore copies a backup's rows into the live database in one transaction (readers see
 * the old or the new world, never a mix), continues above the current revision so no sidecar
 * sees it go backwards, and gives the database a new id so sidecars can tell a replaced file from
 * a changed one.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type Db, openDatabase } from "./database.js";
import { migrate, readSchemaVersion, SCHEMA_VERSION } from "./migrations.js";
import { appendChange, readDatabaseId, readRevision } from "./revision.js";
import { StoreError } from "./store-error.js";

/** Writes a consistent copy of the database to `file` (SQLite backup API); resolves with the revision copied. */
export async function exportDatabase(db: Db, file: string): Promise<{ readonly revision: number }> {
  await db.backup(file);
  const copy = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return { revision: readRevision(copy) };
  } finally {
    copy.close();
  }
}

/** What a restore did. */
export interface RestoreResult {
  /** The revision after the restore: above both the replaced and the restored one. */
  readonly revision: number;
  /** The restored database's new id. */
  readonly databaseId: string;
  /** The revision the backup was taken at. */
  readonly restoredRevision: number;
}

/** Checks that `file` is a rolecall database this code can read; returns its schema version. */
function checkBackup(file: string): number {
  if (!existsSync(file))
    throw new StoreError("NOT_FOUND", `backup file '${file}' does not exist`, { field: "file" });
  let backup: Db;
  try {
    backup = new Database(file, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `'${file}' cannot be opened as SQLite: ${(cause as Error).message}`,
      {
        field: "file",
        cause,
      },
    );
  }
  try {
    let version: number | null;
    let hasMeta: boolean;
    try {
      version = readSchemaVersion(backup);
      hasMeta =
        backup.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !==
        undefined;
    } catch (cause) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `'${file}' is not a SQLite database: ${(cause as Error).message}`,
        {
          field: "file",
          cause,
        },
      );
    }
    if (version === null || version === 0 || !hasMeta) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `'${file}' is not a rolecall database (no schema_version or meta table)`,
        {
          field: "file",
        },
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `'${file}' is at schema version ${version}, newer than this rolecall supports (${SCHEMA_VERSION})`,
        { field: "file" },
      );
    }
    return version;
  } finally {
    backup.close();
  }
}

/** Options of `restoreDatabase`. */
export interface RestoreOptions {
  /** Returns the current time, recorded in the change log. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** Replaces the contents of `db` (read-write, migrated) with the backup in `file`. */
export async function restoreDatabase(
  db: Db,
  file: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  checkBackup(file);
  const clock = options.clock ?? (() => new Date());
  // Work on a private copy: the backup file itself is never modified, and an older backup is
  // migrated to the current schema so its tables line up with ours column for column.
  const dir = mkdtempSync(join(tmpdir(), "rolecall-restore-"));
  const staged = join(dir, "restore.db");
  try {
    // The backup API, not a file copy: it reads through a -wal file the backup may still have.
    const source = new Database(file, { readonly: true, fileMustExist: true });
    try {
      await source.backup(staged);
    } finally {
      source.close();
    }
    const stage = openDatabase(staged);
    let restoredRevision: number;
    try {
      migrate(stage);
      restoredRevision = readRevision(stage);
      stage.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      stage.close();
    }
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_version'",
      )
      .pluck()
      .all() as string[];
    db.prepare("ATTACH DATABASE ? AS restored").run(staged);
    try {
      const swap = db.transaction((): RestoreResult => {
        // Foreign keys are checked at commit, so tables can be emptied and refilled in any order.
        db.pragma("defer_foreign_keys = ON");
        const current = readRevision(db);
        for (const table of tables) db.prepare(`DELETE FROM main."${table}"`).run();
        for (const table of tables)
          db.prepare(`INSERT INTO main."${table}" SELECT * FROM restored."${table}"`).run();
        const revision = Math.max(current, restoredRevision) + 1;
        const databaseId = randomUUID();
        db.prepare("UPDATE meta SET revision = ?, database_id = ? WHERE id = 1").run(revision, databaseId);
        appendChange(db, revision, null, "restore", {
          file,
          restoredRevision,
          replacedRevision: current,
          at: clock().toISOString(),
        });
        return { revision, databaseId, restoredRevision };
      });
      const result = swap.immediate();
      if (readDatabaseId(db) !== result.databaseId) {
        throw new StoreError("UNAVAILABLE", "restore did not take effect; the database is unchanged");
      }
      return result;
    } finally {
      db.prepare("DETACH DATABASE restored").run();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
