/**
 * The store a sidecar serves and writes: the SQLite file itself (the embedded default), or a
 * PostgreSQL primary — the store of record for a fleet — with `--db` as this host's copy, kept in
 * step by a follower and served when the primary is down.
 */
import { existsSync } from "node:fs";
import type { Catalog } from "../../catalog/catalog.js";
import { createCurrentHolds } from "./admin/current-holds.js";
import { seedDemo } from "./admin/demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "./admin/policy-admin.js";
import type { SidecarOptions } from "./config.js";
import type { Logger } from "./logger.js";
import type { PolicyEngine } from "./policy/policy-engine.js";
import { importCatalog } from "./store/catalog-import.js";
import type { Db } from "./store/database.js";
import { openStore } from "./store/open-store.js";
import type { PolicyStore } from "./store/policy-store.js";
import { readRevision } from "./store/revision.js";
import { sqliteStore } from "./store/sqlite-policy-store.js";
import { StoreError } from "./store/store-error.js";

/** An opened store, ready to serve. */
export interface PreparedStore {
  /** The local SQLite file: the store itself, or this host's copy of the primary. */
  readonly db: Db;
  readonly admin: PolicyAdmin;
  /** Whether this start created the local file. */
  readonly created: boolean;
  /** With a primary: when it was last read successfully (staleness counts from then). */
  readonly upstreamLastSuccess: (() => number | undefined) | undefined;
  /** The revision of the store of record, for read responses. */
  readonly revision: () => number;
  /**
   * With a primary: calls `listener` each time the follower has written a revision (or tokens)
   * into the copy, so the sidecar reads it at once instead of at its next poll.
   */
  readonly whenCopied: ((listener: () => void) => void) | undefined;
  close(): Promise<void>;
}

/** Opens the store the options name; for a new store, builds the demo tenant (once per primary). */
export function prepareStore(
  options: SidecarOptions,
  catalog: Catalog,
  engine: PolicyEngine,
  logger: Logger,
): Promise<PreparedStore> {
  return options.primary === undefined
    ? prepareFile(options, catalog, engine, logger)
    : // The PostgreSQL client and the follower load only when a primary is named: a sidecar on a
      // SQLite file never holds them in memory.
      import("./prepare-primary.js").then((m) =>
        m.preparePrimary(options.primary!, options, catalog, engine, logger),
      );
}

export function adminOver(store: PolicyStore, catalog: Catalog, engine: PolicyEngine): PolicyAdmin {
  // Rights are decided on the store of record as it is now; the serving snapshot when it is that.
  return createPolicyAdmin(store, catalog, {
    holds: createCurrentHolds(store, catalog, () => engine.snapshot),
  });
}

export async function seedOnce(admin: PolicyAdmin, catalog: Catalog, logger: Logger): Promise<void> {
  const demo = await seedDemo(admin, catalog);
  if (demo.created) logger.info({ revision: demo.revision, skipped: demo.skipped }, "demo tenant created");
}

/** The SQLite file is the store: the catalog is imported into it, and a new file gets the demo. */
async function prepareFile(
  options: SidecarOptions,
  catalog: Catalog,
  engine: PolicyEngine,
  logger: Logger,
): Promise<PreparedStore> {
  const created = !existsSync(options.db);
  // A short busy timeout: admin writes run on the event loop that answers checks.
  const db = openStore(options.db, { busyTimeoutMs: 1_000 });
  try {
    const copyOf = db.prepare("SELECT primary_address FROM meta WHERE id = 1").pluck().get() as string | null;
    if (copyOf) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `'${options.db}' is a copy of a PostgreSQL primary (${copyOf}); pass --primary`,
      );
    }
    const imported = importCatalog(db, catalog);
    if (imported.changed) logger.info({ revision: imported.revision }, "catalog imported into the store");
    const admin = adminOver(sqliteStore(db), catalog, engine);
    if (created && options.demo) await seedOnce(admin, catalog, logger);
    return {
      db,
      admin,
      created,
      upstreamLastSuccess: undefined,
      revision: () => readRevision(db),
      whenCopied: undefined,
      close: async () => {
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
