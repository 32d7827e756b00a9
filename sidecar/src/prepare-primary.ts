/**
 * A PostgreSQL primary with a local copy (`serve --primary URL --db COPY`): the primary migrated
 * and given the catalog by the first sidecar to start, the copy brought up to date by a follower
 * before serving, or served as it is when the primary cannot be reached. Loaded by
 * `prepareStore` only when a primary is named.
 */
import { existsSync } from "node:fs";
import type { Catalog } from "../../catalog/catalog.js";
import type { SidecarOptions } from "./config.js";
import { copyPrimaryCold, holdsNothing } from "./fleet/cold-copy.js";
import { PrimaryFollower } from "./fleet/follower.js";
import type { Logger } from "./logger.js";
import type { PolicyEngine } from "./policy/policy-engine.js";
import { adminOver, type PreparedStore, seedOnce } from "./prepare-store.js";
import { openStore } from "./store/open-store.js";
import { importCatalogPg } from "./store/pg/pg-catalog-import.js";
import { createPgPool, openPgStore, PgPolicyStore, pgAddress } from "./store/pg/pg-policy-store.js";
import type { PolicyStore } from "./store/policy-store.js";
import { readRevision } from "./store/revision.js";
import { StoreError } from "./store/store-error.js";

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
export async function preparePrimary(
  url: string,
  options: SidecarOptions,
  catalog: Catalog,
  engine: PolicyEngine,
  logger: Logger,
): Promise<PreparedStore> {
  const address = pgAddress(url);
  const created = !existsSync(options.db);
  let db = openStore(options.db, { busyTimeoutMs: 1_000 });
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
    if (reachable && holdsNothing(db)) {
      // A new copy nothing reads yet: built in a file of its own without a journal, renamed into
      // place whole (fleet/cold-copy.ts). The follower then starts from it as from any copy.
      db.close();
      const started = performance.now();
      try {
        const { head, rows, sideRows, syncMs } = await copyPrimaryCold({
          primaryUrl: url,
          path: options.db,
          primaryAddress: address,
          readAt: Date.now(),
        });
        const ms = Math.round(performance.now() - started);
        logger.debug(
          { revision: head.revision, rows, sideRows, ms, syncMs: Math.round(syncMs) },
          "copied the primary into a new copy",
        );
      } finally {
        db = openStore(options.db, { busyTimeoutMs: 1_000 });
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
