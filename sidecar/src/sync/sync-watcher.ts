/**
 * Keeps the engine's snapshot in step with the SQLite store. It polls `PRAGMA data_version` on
 * its own read-only connection (cheap: no I/O unless another connection committed), reads what
 * changed in one read transaction, recompiles only the affected tenants, swaps the snapshot and
 * only then acknowledges the revision (RevisionGate, RevisionFeed).
 *
 * When the file is locked, missing, replaced or corrupt, the last good snapshot keeps serving;
 * after `maxStalenessMs` without a successful poll, checks fail closed.
 */
import { statSync } from "node:fs";
import type { Catalog } from "../../../catalog/catalog.js";
import type { AppRegistration } from "../apps/app-registry.js";
import { compileSnapshot, IncrementalCompileError, recompileTenants } from "../policy/compiler.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { PolicySource } from "../policy/policy-source.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { Principal } from "../store/authorize.js";
import { type Db, openDatabase } from "../store/database.js";
import { assertSchemaCurrent } from "../store/migrations.js";
import { readAppRegistrations, readTokenPrincipals } from "../store/read-directory.js";
import { readChangesSince, readPolicySource, readPolicySourceForTenants } from "../store/read-policy.js";
import type { RevisionFeed } from "./revision-feed.js";
import type { RevisionGate } from "./revision-gate.js";

/** Side data read with each change: token principals and registered apps. */
export interface Directory {
  readonly tokens: ReadonlyMap<string, Principal>;
  readonly apps: ReadonlyMap<string, readonly AppRegistration[]>;
}

/** What a reload did, for logs and metrics. */
export interface ReloadEvent {
  readonly revision: number;
  readonly tenantIds: readonly string[];
  readonly full: boolean;
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
  /** Clock, injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
  readonly onReload?: (event: ReloadEvent) => void;
  readonly onFailure?: (err: unknown, consecutive: number) => void;
  /** Called when the watcher turns stale or fresh again. */
  readonly onHealth?: (healthy: boolean) => void;
}

/** Syncs the engine from the store. */
export class SyncWatcher {
  readonly #o: Required<Omit<SyncWatcherOptions, "onReload" | "onFailure" | "onHealth">> &
    Pick<SyncWatcherOptions, "onReload" | "onFailure" | "onHealth">;
  #reader: Db | undefined;
  /** Inode, size and mtime of the main file when the reader was opened or last found it unchanged. */
  #fileStamp: string | undefined;
  #dataVersion: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastSuccess: number;
  #failures = 0;
  #lastError: string | undefined;
  #healthy = true;
  #directory: Directory = { tokens: new Map(), apps: new Map() };

  constructor(options: SyncWatcherOptions) {
    this.#o = { pollIntervalMs: 20, maxStalenessMs: 5 * 60_000, now: Date.now, ...options };
    this.#lastSuccess = this.#o.now();
  }

  /** Tokens and apps as of the last successful read. */
  get directory(): Directory {
    return this.#directory;
  }

  /** The last poll's failure, if the most recent poll failed. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Milliseconds since the last successful poll. */
  get ageMs(): number {
    return this.#o.now() - this.#lastSuccess;
  }

  /** Why checks must fail closed, or undefined while the sync is fresh enough. */
  failClosedReason(): string | undefined {
    if (this.ageMs <= this.#o.maxStalenessMs) return undefined;
    return `the policy store has not been read successfully for ${Math.round(this.ageMs / 1000)} s (limit ${Math.round(this.#o.maxStalenessMs / 1000)} s): failing closed; last error: ${this.#lastError ?? "none"}`;
  }

  /** Loads the first snapshot; throws when the store cannot be read, so the sidecar refuses to start. */
  start(): void {
    this.#poll(true);
    this.#schedule();
  }

  /** Stops polling and closes the read connection. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#close();
  }

  /** One poll, outside the timer (tests). Never throws. */
  pollNow(): void {
    try {
      this.#poll(false);
    } catch {
      // Already recorded by #poll.
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.pollNow();
      if (this.#timer !== undefined) this.#schedule();
    }, this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  #close(): void {
    this.#reader?.close();
    this.#reader = undefined;
    this.#dataVersion = undefined;
  }

  #poll(initial: boolean): void {
    try {
      this.#check();
      this.#failures = 0;
      this.#lastError = undefined;
      this.#lastSuccess = this.#o.now();
    } catch (err) {
      this.#failures++;
      this.#lastError = err instanceof Error ? err.message : String(err);
      // A fresh connection next time: the file may have been replaced, truncated or repaired.
      this.#close();
      this.#o.onFailure?.(err, this.#failures);
      if (initial) throw err;
    } finally {
      this.#updateHealth();
    }
  }

  #updateHealth(): void {
    const healthy = this.failClosedReason() === undefined && this.#o.engine.snapshot !== undefined;
    if (healthy !== this.#healthy) {
      this.#healthy = healthy;
      this.#o.onHealth?.(healthy);
    }
  }

  #check(): void {
    const stat = statSync(this.#o.dbPath); // throws ENOENT when the file is gone
    // A replaced file (restore, mv) has a new inode. A file truncated or overwritten in place keeps
    // its inode, and an open WAL connection would keep answering from its cache and the unchanged
    // WAL index, reporting a healthy sync over a destroyed file. Commits touch only the WAL, so the
    // main file changes only on checkpoints (rare) or from outside: reopen and re-verify then.
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.#reader && stamp !== this.#fileStamp) this.#close();
    if (!this.#reader) {
      // busy timeout 0: a locked file must fail this poll, not stall the event loop that answers checks.
      this.#reader = openDatabase(this.#o.dbPath, { readonly: true, busyTimeoutMs: 0 });
      this.#fileStamp = stamp;
      assertSchemaCurrent(this.#reader);
    }
    const reader = this.#reader;
    const version = reader.pragma("data_version", { simple: true }) as number;
    if (version === this.#dataVersion) return;
    const started = performance.now();
    const read = this.#read(reader);
    this.#dataVersion = version;
    this.#directory = read.directory;
    if (!read.source) return;
    const snapshot = this.#compile(read.source, read.full);
    this.#o.engine.setSnapshot(snapshot);
    // Acknowledge only now: a caller waiting for this revision sees it decided.
    this.#o.gate.advance(snapshot.revision);
    this.#o.feed.publish({
      revision: snapshot.revision,
      tenantIds: read.full ? [] : read.source.tenants.map((t) => t.id),
    });
    this.#o.onReload?.({
      revision: snapshot.revision,
      tenantIds: read.source.tenants.map((t) => t.id),
      full: read.full,
      durationMs: performance.now() - started,
    });
  }

  /** Reads, in one read transaction, what changed since the current snapshot and the directory. */
  #read(reader: Db): { source: PolicySource | undefined; full: boolean; directory: Directory } {
    const current = this.#o.engine.snapshot;
    return reader
      .transaction(() => {
        const directory: Directory = {
          tokens: readTokenPrincipals(reader),
          apps: readAppRegistrations(reader),
        };
        const changes = readChangesSince(reader, current?.revision ?? 0);
        const full = current === undefined || changes.all || changes.databaseId !== current.databaseId;
        if (full) return { source: readPolicySource(reader, this.#o.catalog), full, directory };
        if (changes.revision === current.revision) return { source: undefined, full, directory };
        const source = readPolicySourceForTenants(reader, this.#o.catalog, changes.tenantIds);
        const present = new Set(source.tenants.map((t) => t.id));
        const removedTenantIds = changes.tenantIds.filter((id) => !present.has(id));
        return { source: { ...source, removedTenantIds }, full, directory };
      })
      .deferred();
  }

  #compile(source: PolicySource, full: boolean): Snapshot {
    const current = this.#o.engine.snapshot;
    if (full || current === undefined) return compileSnapshot(source);
    try {
      return recompileTenants(current, source, source.revision);
    } catch (err) {
      if (!(err instanceof IncrementalCompileError)) throw err;
      return compileSnapshot(readPolicySource(this.#reader!, this.#o.catalog));
    }
  }
}
