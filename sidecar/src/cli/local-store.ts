/**
 * What the offline commands share: the `--db` / `ROLECALL_DB` file opened with the catalog,
 * output as text or `--json`, and the exit codes (0 done, 1 failed, 2 misuse, 3 denied). A file
 * that is a follower's copy of a PostgreSQL primary (schema v3 `meta.primary_address`) is read
 * with a note on stderr and never written: the follower would overwrite the change, and the rest
 * of the fleet would never see it.
 */
import { existsSync } from "node:fs";
import type { Catalog } from "../../../catalog/catalog.js";
import { loadCatalog } from "../../../catalog/loader.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import { DEFAULT_OPTIONS } from "../config.js";
import { compileSnapshot } from "../policy/compiler.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import { type Db, openDatabase } from "../store/database.js";
import { openStore } from "../store/open-store.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { UsageError } from "./usage-error.js";

/** Exit code of a check whose answer is "denied". */
export const EXIT_DENIED = 3;

/** Whether a command only reads the store or also writes it (a copy refuses writes). */
export type StoreAccess = "read" | "write";

/** The database path from `--db`, else `ROLECALL_DB`, else the default. */
export function dbPathOf(flag: string | undefined): string {
  return flag ?? process.env.ROLECALL_DB ?? DEFAULT_OPTIONS.db;
}

/** An open store with its catalog; close it when done. */
export interface LocalStore {
  readonly db: Db;
  readonly catalog: Catalog;
  readonly admin: PolicyAdmin;
  close(): void;
}

/** A file that is a follower's copy of a primary: the primary's `host:port` and the copy's revision. */
export interface CopyMarker {
  readonly primaryAddress: string;
  readonly revision: number;
}

/**
 * Whether the file at `path` is a follower's copy of a PostgreSQL primary, looked up on a
 * read-only connection so that deciding writes nothing. Undefined for any other file (one that is
 * not a rolecall store is reported by the open that follows).
 */
export function readCopyMarker(path: string): CopyMarker | undefined {
  let db: Db;
  try {
    db = openDatabase(path, { readonly: true });
  } catch {
    return undefined;
  }
  try {
    const meta = db.prepare("SELECT * FROM meta WHERE id = 1").get() as
      | { revision: number; primary_address?: string | null }
      | undefined;
    const address = meta?.primary_address;
    return address ? { primaryAddress: address, revision: meta.revision } : undefined;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** The refusal of a write to a follower's copy (a usage error: the fix is a flag). */
export function copyRefusal(marker: CopyMarker): UsageError {
  return new UsageError(
    `this file is a copy of a PostgreSQL primary (${marker.primaryAddress}); pass --primary`,
  );
}

/** What a read of a copy prints to stderr, so nobody mistakes it for the store of record. */
export function copyNote(path: string, marker: CopyMarker): string {
  return `note: '${path}' is a copy of the PostgreSQL primary at ${marker.primaryAddress}, at revision ${marker.revision}; it may be behind the primary (pass --primary to read the primary itself)\n`;
}

/**
 * Opens an existing store read-write (migrated) with the catalog; refuses a missing file, and a
 * write to a follower's copy before anything is opened for writing. (A read of a copy opens it
 * read-write too: what-if runs the admin rules in a transaction it rolls back.)
 */
export function openLocalStore(path: string, access: StoreAccess = "write"): LocalStore {
  if (!existsSync(path)) {
    throw new UsageError(`no database at '${path}'; run 'rolecall serve' once, or pass --db PATH`);
  }
  const marker = readCopyMarker(path);
  if (marker !== undefined && access === "write") throw copyRefusal(marker);
  if (marker !== undefined) process.stderr.write(copyNote(path, marker));
  const catalog = loadCatalog();
  const db = openStore(path);
  // The default "holds" reads the store as it is now, which is what a local tool sees.
  const admin = createPolicyAdmin(sqliteStore(db), catalog);
  return { db, catalog, admin, close: () => db.close() };
}

/** An engine holding a snapshot compiled from the store as it is now. */
export function compiledEngine(db: Db, catalog: Catalog): PolicyEngine {
  return createPolicyEngine({ snapshot: compileSnapshot(readPolicySource(db, catalog)) });
}

/** Prints a result: JSON when asked, else the text. */
export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
