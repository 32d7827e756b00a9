/**
 * Keeps the engine's snapshot in step with the SQLite store. A StoreReader polls the file; each
 * change is compiled here — only the affected tenants — swapped in, and only then acknowledged
 * (RevisionGate, RevisionFeed).
 *
 * Where the reader runs: with `worker`, a store above `inThreadUpToBytes` is read in a worker
 * thread, so a full read of thousands of users never stalls checks. A smaller one is read on this
 * thread, which saves the worker's ~10 MB of resident memory: its polls are plain file reads
 * (StoreReader: the WAL index header), so a process holding the store's locks cannot make them
 * wait, and a full read takes milliseconds. It moves to a worker for good when the store grows
 * past the limit, one read takes longer than STALL_MS, or the WAL index stays mid-rewrite (only
 * SQLite can repair one a writer left torn, and it may wait on locks meanwhile).
 *
 * When the file is missing, replaced, corrupt, or locked with its WAL index mid-rewrite, the last
 * good snapshot keeps serving; after `maxStalenessMs` without a successful poll, checks fail
 * closed. Locked with the index settled, nothing can be committed, and the polls say so.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { Catalog } from "../../../catalog/catalog.js";
import { packageRoot } from "../package-root.js";
import { compileSnapshot, recompileTenants, withTenants } from "../policy/compiler.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { Snapshot } from "../policy/snapshot.js";
import { syncAttributes, traceSync } from "../tracing.js";
import type { RevisionFeed } from "./revision-feed.js";
import type { RevisionGate } from "./revision-gate.js";
import {
  type Directory,
  type ReadPart,
  StoreBusyError,
  type StoreRead,
  StoreReader,
} from "./store-reader.js";
import type { StoreReaderWorkerData } from "./store-reader-worker.js";

export type { Directory } from "./store-reader.js";

/** What a reload did, for logs and metrics. */
export interface ReloadEvent {
  readonly revision: number;
  readonly tenantIds: readonly string[];
  readonly full: boolean;
  /** Time to compile and swap on the main thread. */
  readonly durationMs: number;
}

/** Options of SyncWatcher. */
export interface SyncWatcherOptions {
  readonly dbPath: string;
  readonly catalog: Catalog;
  readonly engine: PolicyEngine;
  readonly gate: RevisionGate;
  readonly feed: RevisionFeed;
  /** Poll interval. Default 20 ms. */
  readonly pollIntervalMs?: number;
  /** Fail closed after this long without a successful poll. Default 5 minutes. */
  readonly maxStalenessMs?: number;
  /**
   * Read the store in a worker thread (the sidecar) or on the calling thread, polled with
   * `pollNow()` (tests, tools). The worker is dist/store-reader-worker.cjs (built by `npm run build`). Default false.
   */
  readonly worker?: boolean;
  /**
   * With `worker`, read in-thread anyway while the store holds at most this many bytes (at start
   * its file and WAL; then SQLite's pages, the WAL's included, as of each read). Default: always
   * a worker.
   */
  readonly inThreadUpToBytes?: number;
  /** Called when reading moves from this thread to a worker for good, with why (for the log). */
  readonly onMovedToWorker?: (reason: string) => void;
  /**
   * Called each time a worker thread is up. Starting one puts V8's flags back to their defaults
   * for the whole process: the sidecar sets its heap flags again (serve-heap.ts).
   */
  readonly onWorkerStarted?: () => void;
  /**
   * With a primary the local file copies: when the primary was last read (undefined: not in
   * this process). Staleness then counts from whichever of the two is older. Default: none.
   */
  readonly upstreamLastSuccess?: () => number | undefined;
  /**
   * In-thread only: deliver a full read in parts of about this many users, as the worker does
   * (each applied as it is read). For tests of a start that loads tenant by tenant. Default: whole.
   */
  readonly readInParts?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
  readonly onReload?: (event: ReloadEvent) => void;
  readonly onFailure?: (err: unknown, consecutive: number) => void;
  /** Called when the watcher turns healthy (the first snapshot is in, or fresh again) or stale. */
  readonly onHealth?: (healthy: boolean) => void;
}

/** The bundled worker script (built by scripts/build.js next to the sidecar bundle). */
export function storeReaderWorkerPath(): string {
  return join(packageRoot(), "dist", "store-reader-worker.cjs");
}

type WorkerMessage =
  | { kind: "read"; read: StoreRead }
  | { kind: "ok" }
  | { kind: "reading" }
  | { kind: "error"; message: string };

/** A poll that takes longer than this is reported as a failure (a locked file blocks inside SQLite). */
const STALL_MS = 250;
/**
 * How often an idle sidecar's main thread hears from the worker and looks for a stall: a fifth
 * of STALL_MS, not every poll. Each wake-up of an event loop costs ~0.1 ms of CPU; at one per
 * 20 ms poll twice over (the worker's "ok" and the stall timer) that was ~1.5% of a core doing
 * nothing, charged to every check in a benchmark at a few hundred calls a second.
 */
const QUIET_MS = STALL_MS / 5;
/** In-thread, a WAL index mid-rewrite this long moves reading to a worker, whose reader may ask SQLite to repair it. */
const UNSETTLED_MOVE_MS = 1_000;
/** ...unless the worker said a read of changes is under way: a full read of a large store takes seconds. */
const LONG_READ_STALL_MS = 10_000;

/** Syncs the engine from the store. */
export class SyncWatcher {
  readonly #o: SyncWatcherOptions & { pollIntervalMs: number; maxStalenessMs: number; now: () => number };
  #reader: StoreReader | undefined;
  #worker: Worker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastSuccess: number;
  /** When this watcher was made: the age of a primary not read since. */
  readonly #started: number;
  #failures = 0;
  #lastError: string | undefined;
  /** Nothing is served before the first snapshot. */
  #healthy = false;
  #directory: Directory = { tokens: new Map(), apps: new Map(), owners: new Map() };
  #first: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** When the worker last said anything, and whether it was "reading". */
  #lastMessage = { at: 0, reading: false };
  #stallReported = false;
  /** A full read arriving in parts: the snapshot built so far, and whether it is being served already. */
  #loading: { readonly progressive: boolean; readonly snapshot: Snapshot } | undefined;

  constructor(options: SyncWatcherOptions) {
    this.#o = { pollIntervalMs: 20, maxStalenessMs: 5 * 60_000, now: Date.now, ...options };
    this.#lastSuccess = this.#o.now();
    this.#started = this.#lastSuccess;
  }

  /** Tokens and apps as of the last successful read. */
  get directory(): Directory {
    return this.#directory;
  }

  /** The last poll's failure, if the most recent poll failed. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Milliseconds since the last successful poll (of the primary too, with one). */
  get ageMs(): number {
    const upstream =
      this.#o.upstreamLastSuccess?.() ?? (this.#o.upstreamLastSuccess ? this.#started : undefined);
    const since = upstream === undefined ? this.#lastSuccess : Math.min(this.#lastSuccess, upstream);
    return this.#o.now() - since;
  }

  /** Why checks must fail closed, or undefined while the sync is fresh enough. */
  failClosedReason(): string | undefined {
    if (this.ageMs <= this.#o.maxStalenessMs) return undefined;
    return `the policy store has not been read successfully for ${Math.round(this.ageMs / 1000)} s (limit ${Math.round(this.#o.maxStalenessMs / 1000)} s): failing closed; last error: ${this.#lastError ?? "none"}`;
  }

  /**
   * Loads the first snapshot and starts polling. Rejects when the store cannot be read, so the
   * sidecar refuses to start. In-thread, the first snapshot is loaded before this returns.
   */
  start(): Promise<void> {
    if (this.#o.worker && !existsSync(storeReaderWorkerPath())) {
      return Promise.reject(new Error(`${storeReaderWorkerPath()} is missing; run \`npm run build\``));
    }
    if (!this.#o.worker || this.#smallFiles()) {
      this.#reader = new StoreReader(this.#o.dbPath, undefined, this.#o.readInParts);
      try {
        this.#pollInThread(true);
      } catch (err) {
        return Promise.reject(err);
      }
      if (this.#o.engine.snapshot === undefined) {
        // Read, but not compiled: never serve without a snapshot.
        this.stop();
        return Promise.reject(
          new Error(this.#lastError ?? "the store's first snapshot could not be compiled"),
        );
      }
      if (!this.#stopped && this.#worker === undefined) this.#schedule(() => this.pollNow());
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#first = { resolve, reject };
      this.#moveToWorker();
    });
  }

  /** At start: whether the store's file and WAL are small enough to read in-thread. */
  #smallFiles(): boolean {
    const limit = this.#o.inThreadUpToBytes;
    if (limit === undefined) return false;
    const size = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0; // no WAL yet; a missing database fails the first read with its own message
      }
    };
    return size(this.#o.dbPath) + size(`${this.#o.dbPath}-wal`) <= limit;
  }

  /** Hands reading to a worker thread: at start, or (with why) when in-thread reading must stop. */
  #moveToWorker(reason?: string): void {
    try {
      this.#startWorker();
    } catch (err) {
      // Reading stays where it was (in-thread: the next slow read tries again); at start, this rejects.
      this.#failed(err);
      return;
    }
    if (reason !== undefined) this.#o.onMovedToWorker?.(reason);
    this.#reader?.close();
    this.#reader = undefined;
    // Staleness must be noticed even while the worker is stuck inside a SQLite call.
    this.#schedule(() => this.#watchWorker(), this.#quietMs());
  }

  /** Stops polling, the worker and the read connection. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#reader?.close();
  }

  /**
   * Reads the store now rather than at the next poll: whoever wrote it (the follower of a
   * primary, in this process) says so, instead of waiting up to a poll interval to be noticed.
   */
  pollSoon(): void {
    if (this.#stopped) return;
    if (this.#worker !== undefined) this.#worker.postMessage({ kind: "poll" });
    else if (this.#reader !== undefined) setImmediate(() => this.pollNow());
  }

  /** One in-thread poll (nothing once a worker reads). Never throws. */
  pollNow(): void {
    if (this.#reader === undefined || this.#stopped) return;
    try {
      this.#pollInThread(false);
    } catch {
      // Already recorded.
    }
  }

  /** Runs `tick` every `everyMs` until stopped or another schedule replaces this one. */
  #schedule(tick: () => void, everyMs = this.#o.pollIntervalMs): void {
    clearTimeout(this.#timer);
    const timer = setTimeout(() => {
      tick();
      if (!this.#stopped && this.#timer === timer) this.#schedule(tick, everyMs);
    }, everyMs);
    timer.unref();
    this.#timer = timer;
  }

  /** The worker's heartbeat and stall-check period: QUIET_MS, shorter for a short staleness limit. */
  #quietMs(): number {
    return Math.max(this.#o.pollIntervalMs, Math.min(QUIET_MS, Math.floor(this.#o.maxStalenessMs / 10)));
  }

  #startWorker(): void {
    const served = this.#o.engine.snapshot;
    const data: StoreReaderWorkerData = {
      dbPath: this.#o.dbPath,
      pollIntervalMs: this.#o.pollIntervalMs,
      quietReportMs: this.#quietMs(),
      // Reading moved here from the main thread: carry on from what is served, not a full reread.
      ...(served && this.#loading === undefined
        ? { known: { revision: served.revision, databaseId: served.databaseId } }
        : {}),
    };
    const worker = new Worker(storeReaderWorkerPath(), { workerData: data });
    this.#worker = worker;
    this.#lastMessage = { at: this.#o.now(), reading: false };
    worker.on("message", (message: WorkerMessage) => {
      this.#lastMessage = { at: this.#o.now(), reading: message.kind === "reading" };
      this.#stallReported = false;
      if (message.kind === "reading") return;
      if (message.kind === "error") this.#failed(new Error(message.message));
      else this.#succeeded(message.kind === "read" ? message.read : undefined);
    });
    worker.once("online", () => this.#o.onWorkerStarted?.());
    worker.on("error", (err) => this.#failed(err));
    worker.on("exit", () => {
      if (this.#stopped || this.#worker !== worker) return;
      // The worker died (out of memory, a bug): count it and start another after a pause.
      this.#failed(new Error("the store reader thread exited"));
      setTimeout(() => {
        if (!this.#stopped) this.#startWorker();
      }, 1_000).unref();
    });
  }

  /** Reports a worker stuck in one poll (once per stall) and keeps health current. */
  #watchWorker(): void {
    const silentMs = this.#o.now() - this.#lastMessage.at;
    const limit = Math.max(
      this.#lastMessage.reading ? LONG_READ_STALL_MS : STALL_MS,
      10 * this.#o.pollIntervalMs,
    );
    if (silentMs > limit && !this.#stallReported && !this.#first) {
      this.#stallReported = true;
      this.#failed(
        new Error(`the store has not answered a poll for ${silentMs} ms; is the database locked?`),
      );
    }
    this.#updateHealth();
  }

  #pollInThread(initial: boolean): void {
    const snapshot = this.#o.engine.snapshot;
    const reader = this.#reader!;
    let read: StoreRead | undefined;
    const started = performance.now();
    try {
      const known = snapshot && { revision: snapshot.revision, databaseId: snapshot.databaseId };
      const sink = this.#o.readInParts === undefined ? undefined : (part: StoreRead) => this.#succeeded(part);
      read = reader.read(known, sink);
    } catch (err) {
      // A busy WAL index keeps the connection: reopening would wait on the same locks.
      if (!(err instanceof StoreBusyError)) reader.close();
      this.#failed(err);
      if (initial) throw err;
      if (err instanceof StoreBusyError && err.unsettledMs >= UNSETTLED_MOVE_MS) {
        // Only SQLite can repair an index a writer left torn, and it may wait on locks meanwhile.
        this.#moveIfAllowed(`the WAL index has been mid-rewrite for ${Math.round(err.unsettledMs)} ms`);
      } else this.#leaveThreadIfSlow(performance.now() - started);
      return;
    }
    const readMs = performance.now() - started;
    this.#succeeded(read);
    const limit = this.#o.inThreadUpToBytes;
    const size = reader.sizeBytes ?? 0;
    if (limit !== undefined && size > limit)
      this.#moveIfAllowed(`the store grew to ${size} bytes (in-thread up to ${limit})`);
    else this.#leaveThreadIfSlow(readMs);
  }

  /** Moves reading to a worker after an in-thread read that held this thread longer than STALL_MS. */
  #leaveThreadIfSlow(readMs: number): void {
    if (readMs > STALL_MS) this.#moveIfAllowed(`a read held the main thread for ${Math.round(readMs)} ms`);
  }

  /** Moves in-thread reading to a worker, when this watcher may use one. */
  #moveIfAllowed(reason: string): void {
    if (this.#o.worker && !this.#stopped && this.#worker === undefined) this.#moveToWorker(reason);
  }

  #succeeded(read: StoreRead | undefined): void {
    if (read) {
      try {
        traceSync("rolecall.sync.apply", syncAttributes(read), () => this.#apply(read));
      } catch (err) {
        // A compile that fails leaves the last good snapshot; ask for everything again.
        this.#resync();
        this.#failed(err);
        return;
      }
    }
    this.#failures = 0;
    this.#lastError = undefined;
    this.#lastSuccess = this.#o.now();
    this.#updateHealth();
    if (this.#first && this.#o.engine.snapshot) {
      this.#first.resolve();
      this.#first = undefined;
    }
  }

  /** Makes the next read a full one (worker) or a repeated one (in-thread). */
  #resync(): void {
    this.#loading = undefined;
    this.#worker?.postMessage({ kind: "resync" });
    this.#reader?.forget();
  }

  #failed(err: unknown): void {
    this.#failures++;
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#o.onFailure?.(err, this.#failures);
    this.#updateHealth();
    if (this.#first) {
      this.#first.reject(err instanceof Error ? err : new Error(String(err)));
      this.#first = undefined;
      this.stop();
    }
  }

  #updateHealth(): void {
    const healthy = this.failClosedReason() === undefined && this.#o.engine.snapshot !== undefined;
    if (healthy !== this.#healthy) {
      this.#healthy = healthy;
      this.#o.onHealth?.(healthy);
    }
  }

  #apply(read: StoreRead): void {
    this.#directory = read.directory;
    if (!read.source) return;
    if (read.part) {
      this.#applyPart(read, read.part);
      return;
    }
    const current = this.#o.engine.snapshot;
    if (
      !read.full &&
      (current?.revision !== read.base?.revision || current?.databaseId !== read.base?.databaseId)
    ) {
      // Changes read against another snapshot (one whose apply failed): applying them would skip
      // a revision's tenants. Drop them and read everything.
      throw new Error(
        `sync read against revision ${read.base?.revision} but serving ${current?.revision}; resyncing`,
      );
    }
    const started = performance.now();
    const source = { ...read.source, catalog: this.#o.catalog };
    const snapshot = this.#compile(source, read.full);
    this.#o.engine.setSnapshot(snapshot);
    // Acknowledge only now: a caller waiting for this revision sees it decided.
    this.#o.gate.advance(snapshot.revision);
    const tenantIds = read.source.tenants.map((t) => t.id);
    this.#o.feed.publish({ revision: snapshot.revision, tenantIds: read.full ? [] : tenantIds });
    this.#o.onReload?.({
      revision: snapshot.revision,
      tenantIds,
      full: read.full,
      durationMs: performance.now() - started,
    });
  }

  /**
   * One part of a full read. On a start (nothing served yet) each part is installed as it comes:
   * the tenants compiled so far serve, and calls naming the others wait for them (never decided
   * on a tenant partly there). A later full read (a resync, a catalog import) is compiled aside
   * and swapped in whole once its last part is in, so no tenant ever goes back to loading.
   */
  #applyPart(read: StoreRead, part: ReadPart): void {
    const started = performance.now();
    const source = { ...read.source!, catalog: this.#o.catalog };
    if (part.first) {
      this.#loading = undefined;
      const snapshot = compileSnapshot(source, part.tenantIds);
      if (this.#o.engine.snapshot === undefined) {
        this.#loading = { progressive: true, snapshot };
        this.#install(snapshot, []);
      } else this.#loading = { progressive: false, snapshot };
    } else {
      // A part of a read whose earlier part failed: a resync was asked for already.
      if (this.#loading === undefined) return;
      const base = this.#loading.progressive ? this.#o.engine.snapshot! : this.#loading.snapshot;
      const snapshot = withTenants(base, source);
      this.#loading = { ...this.#loading, snapshot };
      if (this.#loading.progressive) this.#o.engine.setSnapshot(snapshot);
    }
    if (part.last) {
      if (!this.#loading.progressive) this.#install(this.#loading.snapshot, []);
      this.#loading = undefined;
    }
    this.#o.onReload?.({
      revision: source.revision,
      tenantIds: source.tenants.map((t) => t.id),
      full: true,
      durationMs: performance.now() - started,
    });
  }

  /** Serves `snapshot`, then acknowledges its revision to waiting callers and watchers. */
  #install(snapshot: Snapshot, tenantIds: readonly string[]): void {
    this.#o.engine.setSnapshot(snapshot);
    this.#o.gate.advance(snapshot.revision);
    this.#o.feed.publish({ revision: snapshot.revision, tenantIds });
  }

  /** Full, or only the changed tenants; an IncrementalCompileError (other database or catalog) propagates to ask for a full read. */
  #compile(source: Parameters<typeof compileSnapshot>[0], full: boolean): Snapshot {
    const current = this.#o.engine.snapshot;
    return full || current === undefined
      ? compileSnapshot(source)
      : recompileTenants(current, source, source.revision);
  }
}
