/**
 * The store a command works on: the SQLite file (`--db`, the embedded default) or, with
 * `--primary`, a fleet's PostgreSQL primary — where a CLI write commits as a write through any
 * sidecar's AdminService would, and every sidecar following the primary picks it up.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { loadCatalog } from "../../../catalog/loader.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import { compileSnapshot } from "../policy/compiler.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { Db } from "../store/database.js";
import { openPgStore, type PgPolicyStore } from "../store/pg/pg-policy-store.js";
import { readPolicySource } from "../store/read-policy.js";
import { dbPathOf, openLocalStore, type StoreAccess } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** `parseArgs` options of the two flags that choose the store. */
export const STORE_FLAGS = {
  db: { type: "string" },
  primary: { type: "string" },
} as const;

/** Help lines of the two flags. */
export const STORE_FLAGS_HELP = `  --db PATH         the SQLite store [ROLECALL_DB] (default ./data/rolecall.db)
  --primary URL     a fleet's PostgreSQL primary instead, postgresql://… [ROLECALL_PRIMARY]`;

/** Where a command reads and writes. */
export type StoreTarget =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "primary"; readonly url: string };

function checkedPrimary(url: string, name: string): StoreTarget {
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "postgresql:" && protocol !== "postgres:") {
    throw new UsageError(`${name} must be a postgresql://user@host:port/database URL`);
  }
  return { kind: "primary", url };
}

/**
 * The store the flags name: `--primary`, else `--db`, else `ROLECALL_PRIMARY`, else `ROLECALL_DB`
 * (or the default file). A flag wins over a variable, so `--db` reads a host's copy even where
 * the environment names the primary.
 */
export function storeTargetOf(
  values: { readonly db?: string | undefined; readonly primary?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): StoreTarget {
  if (values.primary !== undefined) return checkedPrimary(values.primary, "--primary");
  if (values.db === undefined && env.ROLECALL_PRIMARY) {
    return checkedPrimary(env.ROLECALL_PRIMARY, "ROLECALL_PRIMARY");
  }
  return { kind: "file", path: dbPathOf(values.db) };
}

interface OpenedStore {
  readonly catalog: Catalog;
  /** The admin operations over this store, for the bootstrap principal. */
  readonly admin: PolicyAdmin;
  close(): Promise<void>;
}

/** The SQLite file. */
export interface FileCliStore extends OpenedStore {
  readonly kind: "file";
  readonly db: Db;
}

/** A PostgreSQL primary. */
export interface PrimaryCliStore extends OpenedStore {
  readonly kind: "primary";
  readonly pg: PgPolicyStore;
}

/** An open store of either kind; close it when done. */
export type CliStore = FileCliStore | PrimaryCliStore;

/**
 * Opens the target: the file (refusing a missing one, and a write to a follower's copy), or the
 * primary (migrated on first use; unreachable → `UNAVAILABLE` naming host:port within 5 s).
 */
export async function openCliStore(target: StoreTarget, access: StoreAccess): Promise<CliStore> {
  if (target.kind === "file") {
    const local = openLocalStore(target.path, access);
    return {
      kind: "file",
      db: local.db,
      catalog: local.catalog,
      admin: local.admin,
      close: async () => local.close(),
    };
  }
  const catalog = loadCatalog();
  // One command, one transaction at a time: one connection is enough.
  const pg = await openPgStore(target.url, { maxConnections: 1, applicationName: "rolecall-cli" });
  return {
    kind: "primary",
    pg,
    catalog,
    admin: createPolicyAdmin(pg, catalog),
    close: () => pg.close(),
  };
}

/** A snapshot of the store as it is now (on a primary: of `tenantId` alone, read in one transaction). */
export async function snapshotOf(store: CliStore, tenantId: string): Promise<Snapshot> {
  const source =
    store.kind === "file"
      ? readPolicySource(store.db, store.catalog)
      : await store.pg.read(async (tx) => tx.policySource(store.catalog, [tenantId]));
  return compileSnapshot(source);
}

/** An engine holding a snapshot of the store as it is now (on a primary: of `tenantId` alone). */
export async function engineOf(store: CliStore, tenantId: string): Promise<PolicyEngine> {
  return createPolicyEngine({ snapshot: await snapshotOf(store, tenantId) });
}
