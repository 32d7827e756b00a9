/**
 * What the offline commands share: the `--db` / `ROLECALL_DB` file opened with the catalog,
 * output as text or `--json`, and the exit codes (0 done, 1 failed, 2 misuse, 3 denied).
 */
import { existsSync } from "node:fs";
import type { Catalog } from "../../../catalog/catalog.js";
import { loadCatalog } from "../../../catalog/loader.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import { DEFAULT_OPTIONS } from "../config.js";
import { compileSnapshot } from "../policy/compiler.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import type { Db } from "../store/database.js";
import { openStore } from "../store/open-store.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { UsageError } from "./usage-error.js";

/** Exit code of a check whose answer is "denied". */
export const EXIT_DENIED = 3;

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

/** Opens an existing store read-write (migrated) with the catalog; refuses a missing file. */
export function openLocalStore(path: string): LocalStore {
  if (!existsSync(path)) {
    throw new UsageError(`no database at '${path}'; run 'rolecall serve' once, or pass --db PATH`);
  }
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
