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
import { PrimaryFollower } from "./fleet/follower.js";
import type { Logger } from "./logger.js";
import type { PolicyEngine } from "./policy/policy-engine.js";
import { importCatalog } from "./store/catalog-import.js";
import type { Db } from "./store/database.js";
import { openStore } from "./store/open-store.js";
import { importCatalogPg } from "./store/pg/pg-catalog-import.js";
import { createPgPool, openPgStore, PgPolicyStore, pgAddress } from "./store/pg/pg-policy-store.js";
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
    : preparePrimary(options.primary, options, catalog, engine, logger);
}

function adminOver(store: PolicyStore, catalog: Catalog, engine: PolicyEngine): PolicyAdmin {
  // Rights are decided on the store of record as it is now; the serving snapshot when it is that.
  return createPolicyAdmin(store, catalog, {
    holds: createCurrentHolds(store, catalog, () => engine.snapshot),
  });
}

async function seedOnce(admin: PolicyAdmin, catalog: Catalog, logger: Logger): Promise<void> {
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

/** A store whose writes are refused: a read replica cannot take them. */
function readOnly(store: PolicyStore, address: string): PolicyStore {
  return {
    read: (body) => store.read(body),
    write: () =>
      Promise.reject(
        new StoreError(
          "FAILED_PRECONDITION",
          `the PostgreSQL server at ${address} is a read replica; send admin writes to a sidecar following the primary`,
        ),
      ),
  };
}

/** Whether `url` is a server in recovery (a streaming replica); false when it cannot be asked. */
async function isStandby(url: string): Promise<boolean> {
  const pool = createPgPool(url, { maxConnections: 1 });
  try {
    const result = await pool.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby");
    return result.rows[0]?.standby === true;
  } catch {
    return false; // unreachable: decided by the start that follows
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The demo tenant is built by whichever sidecar of the fleet gets this lock first. */
const DEMO_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('rolecall:demo-seed', 0))";

/**
 * A PostgreSQL primary with a local copy. The primary is migrated and given the catalog by the
 * first sidecar to start; the copy is brought up to date before serving — or, when the primary
 * cannot be reached, served as it is (and a start with no copy at all is refused).
 */
async function preparePrimary(
  url: string,
  options: SidecarOptions,
  catalog: Catalog,
  engine: PolicyEngine,
  logger: Logger,
): Promise<PreparedStore> {
  const address = pgAddress(url);
  const created = !existsSync(options.db);
  const db = openStore(options.db, { busyTimeoutMs: 1_000 });
  let primary: PgPolicyStore | undefined;
  let follower: PrimaryFollower | undefined;
  let copied: (() => void) | undefined;
  try {
    db.prepare("UPDATE meta SET primary_address = ? WHERE id = 1").run(address);
    let reachable = true;
    // A read replica (a physical standby) is followed by polling; it cannot be migrated or written.
    const standby = await isStandby(url);
    try {
      if (standby) {
        logger.info({ primary: address }, "following a read replica: polling only, writes are refused");
        primary = new PgPolicyStore(createPgPool(url, { maxConnections: 4 }), { address });
      } else primary = await openPgStore(url, { maxConnections: 4 });
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== "UNAVAILABLE") throw err;
      reachable = false;
      logger.warn(
        { primary: address, err: err.message },
        "primary unreachable at start; serving this host's copy",
      );
      primary = new PgPolicyStore(createPgPool(url, { maxConnections: 4 }), { address });
    }
    const admin = adminOver(standby ? readOnly(primary, address) : primary, catalog, engine);
    if (reachable && !standby) {
      const imported = await importCatalogPg(primary, catalog);
      if (imported.changed) logger.info({ revision: imported.revision }, "catalog imported into the primary");
      if (options.demo) {
        const store = primary;
        // Only into a primary holding no tenant yet: never into a fleet's real data.
        await store.writeSql(async (query) => {
          await query(DEMO_LOCK_SQL);
          const tenants = await query<{ n: number }>("SELECT count(*)::int AS n FROM tenants");
          if (tenants.rows[0]?.n === 0) await seedOnce(admin, catalog, logger);
        });
      }
    }
    follower = new PrimaryFollower({
      primary,
      primaryUrl: url,
      copy: db,
      pollIntervalMs: options.primaryPollMs,
      // A standby refuses LISTEN and delivers no notifications: poll it, and say so once (above).
      listen: !standby,
      // Often enough that a restart while the primary is down counts staleness about right.
      recordReadEveryMs: Math.max(1, Math.min(5_000, Math.floor(options.maxStalenessMs / 10))),
      onPollingOnly: (reason) =>
        logger.info({ primary: address, reason }, "the primary refuses LISTEN; following it by polling only"),
      // Debug lines with timings: the fleet bench's --trace lays out where propagation spends its time.
      onNotified: () => logger.debug("primary notified a commit"),
      onSynced: (e) => {
        if (e.applied) {
          copied?.();
          logger.debug(
            { revision: e.revision, full: e.full, readMs: e.readMs, applyMs: e.applyMs },
            "copied from the primary",
          );
        }
      },
      onError: (err) =>
        logger.warn(
          { primary: address, err: (err as Error).message },
          "primary read failed; serving the copy",
        ),
    });
    if (reachable) await follower.syncOnce();
    else if (readRevision(db) === 0) {
      throw new StoreError(
        "UNAVAILABLE",
        `the PostgreSQL primary at ${address} is unreachable and '${options.db}' holds no copy of it yet; start once with the primary up`,
      );
    }
    follower.follow();
    const running = follower;
    const store = primary;
    return {
      db,
      admin,
      created,
      upstreamLastSuccess: () => running.lastSuccessAt,
      revision: () => readRevision(db),
      whenCopied: (listener) => {
        copied = listener;
      },
      close: async () => {
        await running.stop();
        await store.close();
        db.close();
      },
    };
  } catch (err) {
    await follower?.stop();
    await primary?.close().catch(() => undefined);
    db.close();
    throw err;
  }
}
