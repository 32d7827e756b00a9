/**
 * The single policy revision and the database id, kept in the one-row `meta` table. Every
 * committing write bumps the revision exactly once and records what it changed.
 */
import type { Db } from "./database.js";
import { cachedStatement } from "./statement-cache.js";
import { StoreError } from "./store-error.js";

interface MetaRow {
  readonly database_id: string;
  readonly revision: number;
}

function readMeta(db: Db): MetaRow {
  const row = cachedStatement(db, "SELECT database_id, revision FROM meta WHERE id = 1").get() as
    | MetaRow
    | undefined;
  if (row === undefined)
    throw new StoreError("FAILED_PRECONDITION", "the policy database has no meta row; it is damaged");
  return row;
}

/** The current policy revision. */
export function readRevision(db: Db): number {
  return readMeta(db).revision;
}

/** The id of this database file (new after a restore). */
export function readDatabaseId(db: Db): string {
  return readMeta(db).database_id;
}

/** Increments the revision (call inside the write's transaction) and returns the new one. */
export function bumpRevision(db: Db): number {
  return db
    .prepare("UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision")
    .pluck()
    .get() as number;
}

/** Records what `revision` changed; `tenantId` `null` means every tenant (catalog import, restore). */
export function appendChange(
  db: Db,
  revision: number,
  tenantId: string | null,
  kind: string,
  detail: unknown,
): void {
  db.prepare("INSERT INTO change_log (revision, tenant_id, kind, detail) VALUES (?, ?, ?, ?)").run(
    revision,
    tenantId,
    kind,
    JSON.stringify(detail),
  );
}
