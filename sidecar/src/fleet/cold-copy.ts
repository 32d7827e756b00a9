/**
 * A follower's first copy (`serve --primary URL --db NEW`): the local file holds nothing yet and
 * nothing serves from it, so the primary's store is built in a file of its own next to it with
 * no journal at all — no WAL to write and then checkpoint into the file — and renamed over the
 * empty copy once complete and on disk. SQLite's inserts are most of its CPU: a second thread
 * (cold-copy-worker.ts) builds the largest table in a third file at the same time, in the same
 * snapshot of the primary, and it is moved into the copy before the rename.
 *
 * A crash at any point leaves the empty copy as it was (and partial build files, removed by the
 * next start): a restart never serves half a copy. The caller must hold no connection to the
 * copy while this runs, since the rename replaces the file under any it held.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { packageRoot } from "../package-root.js";
import type { Db } from "../store/database.js";
import { openStore } from "../store/open-store.js";
import type { ColdCopyWorkerData } from "./cold-copy-worker.js";
import { removeSqliteFiles } from "./copy-store.js";
import { copyColumns } from "./primary-read.js";
import { TENANT_TABLES } from "./store-tables.js";
import {
  endSnapshot,
  openSnapshot,
  streamTables,
  type WholeCopy,
  type WholeCopyOptions,
  writeStore,
} from "./whole-copy.js";

/** Options of `copyPrimaryCold`: those of a whole copy, less the columns (the new file's own). */
export interface ColdCopyOptions extends Omit<WholeCopyOptions, "columns"> {
  /** Recorded as `meta.primary_address` (the copy says what it is a copy of). */
  readonly primaryAddress: string;
  /** Whether a second thread copies the largest table. Default true (when the worker is bundled). */
  readonly secondThread?: boolean;
}

/** What a cold copy brought, and how long it spent making the file durable (fsync, rename). */
export interface ColdCopy extends WholeCopy {
  /** Rows the second thread copied (0 when it could not run: no bundled worker, no exported snapshot). */
  readonly sideRows: number;
  readonly syncMs: number;
}

/** Where the copy at `path` is built. */
export function buildingPathOf(path: string): string {
  return `${path}.copying`;
}

/** Whether the copy at `path` holds nothing a start could lose: no revision, tenant, token or audit row. */
export function holdsNothing(db: Db): boolean {
  return (
    db
      .prepare(
        `SELECT (SELECT revision FROM meta WHERE id = 1) = 0
            AND NOT EXISTS (SELECT 1 FROM tenants) AND NOT EXISTS (SELECT 1 FROM admin_tokens)
            AND NOT EXISTS (SELECT 1 FROM audit_log)`,
      )
      .pluck()
      .get() === 1
  );
}

/** Flushes a file (or a folder's entries) to disk. */
function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * What a second thread copies into a file of its own while this one copies the rest: the
 * assignments, 2 of 3.4 million rows at a million users, with their index (built there too).
 * They are then moved with `INSERT … SELECT *`, which SQLite does record by record, undecoded.
 */
const SIDE_TABLES: ReadonlySet<string> = new Set(["user_roles"]);

/** The bundled worker script (built by scripts/build.js next to the sidecar bundle). */
function workerPath(): string {
  return join(packageRoot(), "dist", "cold-copy-worker.cjs");
}

/** The second thread: resolves with the rows it wrote once it has closed its file. */
function startSide(data: ColdCopyWorkerData): { done: Promise<number>; stop: () => Promise<number> } {
  const worker = new Worker(workerPath(), { workerData: data });
  const done = new Promise<number>((resolve, reject) => {
    worker.once("message", (m: { rows?: number; error?: string }) =>
      m.error === undefined ? resolve(m.rows ?? 0) : reject(new Error(m.error)),
    );
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the copy's second thread exited (${code})`)));
  });
  done.catch(() => undefined); // awaited, or abandoned when the main part fails first
  return { done, stop: () => worker.terminate() };
}

/**
 * An exclusive SQLite lock on `<path>.copy-lock`, held for a whole build: a second process
 * starting on the same empty copy is refused rather than building into the same files. The
 * operating system drops it when the process dies; the file itself stays (deleting it would let
 * two later starts lock two different files).
 */
function lockBuild(path: string): Database.Database {
  const lock = new Database(`${path}.copy-lock`, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    return lock;
  } catch (err) {
    lock.close();
    throw new Error(
      `another process is copying the primary into '${path}'; let it finish (this start then serves its copy)`,
      { cause: err },
    );
  }
}

/**
 * Builds the primary's store in `<path>.copying` and renames it over `path`. Rejects, leaving
 * `path` as it was and no build file, when the primary cannot be read or the file not written,
 * or when another process is building the same copy.
 */
export async function copyPrimaryCold(options: ColdCopyOptions): Promise<ColdCopy> {
  const building = buildingPathOf(options.path);
  const sidePath = `${building}-side`;
  const lock = lockBuild(options.path);
  let db: Db | undefined;
  let side: ReturnType<typeof startSide> | undefined;
  try {
    removeSqliteFiles(building); // a build a crash interrupted
    removeSqliteFiles(sidePath);
    db = openStore(building); // the current schema
    const columns = copyColumns(db);
    const twoThreads = options.secondThread !== false && existsSync(workerPath());
    const snapshot = await openSnapshot({ ...options, columns }, twoThreads);
    try {
      if (snapshot.exported !== undefined) {
        side = startSide({
          kind: "cold-copy",
          primaryUrl: options.primaryUrl,
          snapshotId: snapshot.exported,
          path: sidePath,
          tables: [...SIDE_TABLES],
          connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
          statementTimeoutMs: options.statementTimeoutMs ?? 600_000,
        });
      }
      // Nothing reads this file until it is renamed: no journal, no fsync per transaction; one
      // transaction still, so pages are written once, when the cache spills or at the commit.
      db.pragma("journal_mode = OFF");
      db.pragma("synchronous = OFF");
      db.pragma("foreign_keys = OFF");
      // 128 MiB (and as much in the second thread): every table arrives in its key order, so only
      // the right edges of its B-trees are written to; the rest may leave the cache.
      db.pragma("cache_size = -131072");
      db.exec("BEGIN IMMEDIATE");
      let rows = await writeStore(db, snapshot, {
        columns,
        readAt: options.readAt,
        ...(side === undefined ? {} : { elsewhere: SIDE_TABLES }),
      });
      db.prepare("UPDATE meta SET primary_address = ? WHERE id = 1").run(options.primaryAddress);
      db.exec("COMMIT");
      let sideRows = 0;
      const sideDone = side === undefined ? undefined : await side.done.catch(() => undefined);
      if (side !== undefined && sideDone === undefined) {
        // The second thread failed (a reader endpoint that routed its connection to another
        // server, which knows no such snapshot; no connection left): this thread copies its
        // tables, in the snapshot it still holds open.
        await side.stop();
        side = undefined;
        removeSqliteFiles(sidePath);
        db.exec("BEGIN IMMEDIATE");
        const alone = await streamTables(
          snapshot.client,
          db,
          TENANT_TABLES.filter((t) => SIDE_TABLES.has(t.name)),
          columns,
        );
        db.exec("COMMIT");
        rows += alone.reduce((a, b) => a + b, 0);
      }
      if (side !== undefined) {
        sideRows = sideDone!;
        rows += sideRows;
        // ATTACH is refused inside a transaction: the side tables move in a second one.
        db.prepare("ATTACH DATABASE ? AS side").run(sidePath);
        db.exec("BEGIN IMMEDIATE");
        for (const table of SIDE_TABLES) db.exec(`INSERT INTO main.${table} SELECT * FROM side.${table}`);
        db.exec("COMMIT");
        db.exec("DETACH DATABASE side");
        removeSqliteFiles(sidePath);
      }
      // Served in WAL mode like every store; switching an unjournaled file writes only its header.
      db.pragma("journal_mode = WAL");
      db.close();
      db = undefined;
      const syncing = performance.now();
      // The rename must never land before the rows it names (a power loss would leave a torn copy).
      fsyncPath(building);
      // The last connection to close removes the log: one left means a process still holds the
      // empty copy, and its log would be read as the new file's.
      if (existsSync(`${options.path}-wal`)) {
        throw new Error(`'${options.path}' is open in another process; stop it and start again`);
      }
      renameSync(building, options.path);
      fsyncPath(dirname(options.path));
      return { head: snapshot.head, rows, sideRows, syncMs: performance.now() - syncing };
    } finally {
      await endSnapshot(snapshot);
    }
  } catch (err) {
    await side?.stop();
    db?.close();
    removeSqliteFiles(building);
    removeSqliteFiles(sidePath);
    throw err;
  } finally {
    lock.close();
  }
}
