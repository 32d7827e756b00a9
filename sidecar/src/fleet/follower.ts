/**
 * Keeps this host's SQLite copy in step with a PostgreSQL primary. On a notification (LISTEN),
 * on every reconnect and on a slow poll (the safety net: a read replica delivers no
 * notifications), it reads everything above the copy's revision in one consistent read and
 * applies it in one SQLite transaction — a revision is copied whole or not at all. The sidecar's
 * sync watcher then serves the copy as it would any store, and the copy is the host's last good
 * policy when the primary is down.
 */

import type { Statement } from "better-sqlite3";
import pg from "pg";
import type { Db } from "../store/database.js";
import { CHANGES_CHANNEL, type PgPolicyStore, type PgQuery } from "../store/pg/pg-policy-store.js";
import { ChangeHints } from "./change-hints.js";
import { type ChangePlan, type ChangeRow, FULL_PLAN, planChanges } from "./change-plan.js";
import { CopyWriter } from "./copy-writer.js";
import {
  type CopyColumns,
  copyColumns,
  type PrimaryHead,
  type RowValues,
  readCatalog,
  readHead,
  readPlanned,
  readTokens,
  type TableRows,
} from "./primary-read.js";
import { copyWholePrimary } from "./whole-copy.js";

/** Options of `PrimaryFollower`. */
export interface PrimaryFollowerOptions {
  /** The primary (its pool reads; the follower adds one unpooled connection for LISTEN). */
  readonly primary: PgPolicyStore;
  /** The primary's URL, for the LISTEN connection. */
  readonly primaryUrl: string;
  /** A read-write connection to the local copy. */
  readonly copy: Db;
  /** How often to read the primary without a notification. Default 1,000 ms. */
  readonly pollIntervalMs?: number;
  /** Called after each successful read of the primary, with what it applied. */
  readonly onSynced?: (event: SyncedEvent) => void;
  /** Called when a read or the LISTEN connection fails (the copy keeps serving). */
  readonly onError?: (err: unknown) => void;
  /**
   * Whether to LISTEN for commits. A read replica (a physical standby) delivers no
   * notifications and refuses LISTEN: follow it by polling alone. Default true.
   */
  readonly listen?: boolean;
  /**
   * How often, at most, a read that found nothing new is recorded in the copy (`meta.primary_read_at`,
   * from which a sidecar restarted while the primary is down counts its staleness). A read that
   * applies something is always recorded. Default 5,000 ms.
   */
  readonly recordReadEveryMs?: number;
  /** Called when a commit notification arrives (before the read it starts). */
  readonly onNotified?: () => void;
  /** Called once when the follower falls back to polling (the server refused LISTEN). */
  readonly onPollingOnly?: (reason: string) => void;
  /** Clock, injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** What one read of the primary did. */
export interface SyncedEvent {
  /** The copy's revision after it. */
  readonly revision: number;
  /** Whether anything was written to the copy. */
  readonly applied: boolean;
  /** Whether the copy was replaced whole (first copy, a restored primary, a catalog change). */
  readonly full: boolean;
  /** Time spent reading the primary, ms. */
  readonly readMs: number;
  /** Time spent writing the copy, ms (0 when nothing was written). */
  readonly applyMs: number;
}

const DEFAULTS = Object.freeze({ pollIntervalMs: 1_000, listen: true, recordReadEveryMs: 5_000 });

/**
 * The copy's WAL is checkpointed by the follower once writes pause this long, not by SQLite inside
 * the commit that happens to cross its threshold (a checkpoint waits for an fsync: tens of ms on
 * the commit → visible path, every thousand pages or so).
 */
const CHECKPOINT_QUIET_MS = 200;
/** ... and at least this often while writes do not pause, shortly after the latest is served. */
const CHECKPOINT_EVERY_MS = 2_000;
const CHECKPOINT_OVERDUE_DELAY_MS = 50;

/** SQLSTATE of a statement a read-only server (a standby in recovery) refuses. */
const READ_ONLY_SQL_TRANSACTION = "25006";

interface LocalMeta {
  readonly databaseId: string;
  readonly revision: number;
  readonly catalogHash: string | null;
  readonly primaryReadAt: number | null;
}

/** What one read of the primary brings back to write into the copy. */
interface PrimaryRead {
  readonly head: PrimaryHead;
  /** The token table, when it changed. */
  readonly tokens: RowValues[] | undefined;
  /** The rows of the revisions above the copy's; undefined when the copy is at the primary's revision. */
  readonly copy:
    | {
        readonly plan: ChangePlan;
        readonly rows: TableRows;
        /** The catalog, when it changed. */
        readonly catalog: TableRows | undefined;
      }
    | undefined;
  /** Everything must be copied: done by `copyWholePrimary` on a connection of its own. */
  readonly whole?: boolean;
}

type Resolved = Required<
  Omit<PrimaryFollowerOptions, "onSynced" | "onError" | "onPollingOnly" | "onNotified">
> &
  PrimaryFollowerOptions;

/** Follows a primary into a local SQLite copy. */
export class PrimaryFollower {
  readonly #o: Resolved;
  readonly #columns: CopyColumns;
  readonly #writer: CopyWriter;
  readonly #readMeta: Statement;
  #listener: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #pollingOnly = false;
  #running: Promise<void> | undefined;
  #again = false;
  #lastSuccessAt: number | undefined;
  /** When the copy says it last read the primary (a previous process, or this one). */
  #recordedAt: number | undefined;
  #tokensFingerprint: string | undefined;
  /** Change-log rows the commit notifications carried, for a read in one statement. */
  readonly #hints = new ChangeHints();
  #checkpointTimer: NodeJS.Timeout | undefined;
  #checkpointedAt = performance.now();

  constructor(options: PrimaryFollowerOptions) {
    this.#o = { ...DEFAULTS, now: Date.now, ...options } as Resolved;
    for (const key of ["pollIntervalMs", "recordReadEveryMs"] as const) {
      const value = this.#o[key];
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`${key} must be a positive integer, got ${value}`);
      }
    }
    this.#columns = copyColumns(this.#o.copy);
    this.#writer = new CopyWriter(this.#o.copy, this.#columns);
    this.#readMeta = this.#o.copy.prepare(
      "SELECT database_id, revision, catalog_hash, primary_read_at FROM meta WHERE id = 1",
    );
    this.#recordedAt = this.#local().primaryReadAt ?? undefined;
    this.#o.copy.pragma("wal_autocheckpoint = 0"); // see #checkpointLater
  }

  /**
   * When the primary was last read successfully: by this process, else as the copy records it
   * (a sidecar restarted while the primary is down); undefined when never.
   */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt ?? this.#recordedAt;
  }

  /** The revision of the local copy. */
  get revision(): number {
    return this.#local().revision;
  }

  /**
   * Reads the primary once (rejecting when it cannot), then keeps following: LISTEN, and a poll.
   * Call `syncOnce()` first instead to start from a copy while the primary is down.
   */
  async start(): Promise<void> {
    await this.syncOnce();
    this.follow();
  }

  /** Starts following without a first read (the copy is served as it is until the primary answers). */
  follow(): void {
    this.#schedulePoll();
    if (this.#o.listen) void this.#listen();
    else this.#pollingOnly = true;
  }

  /** Reads the primary and applies what changed; concurrent calls share one read. */
  syncOnce(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#sync();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Stops following (the copy stays as it is). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#checkpointTimer);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#running?.catch(() => undefined);
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.syncOnce()
        .catch((err: unknown) => this.#o.onError?.(err))
        .finally(() => this.#schedulePoll());
    }, this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  /** One unpooled connection that LISTENs; on loss it reconnects after a pause, then reads. */
  async #listen(): Promise<void> {
    if (this.#stopped || this.#pollingOnly) return;
    const client = new pg.Client({
      connectionString: this.#o.primaryUrl,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: "rolecall-follower",
    });
    const retry = () => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      void client.end().catch(() => undefined);
      setTimeout(() => void this.#listen(), Math.min(this.#o.pollIntervalMs, 1_000)).unref();
    };
    client.on("error", (err) => {
      this.#o.onError?.(err);
      retry();
    });
    client.on("end", retry);
    client.on("notification", (message) => {
      this.#hints.heard(message.payload);
      this.#o.onNotified?.();
      this.syncOnce().catch((err: unknown) => this.#o.onError?.(err));
    });
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.#stopped) {
        await client.end();
        return;
      }
      // Whatever committed while we were not listening.
      await this.syncOnce();
    } catch (err) {
      if ((err as { code?: string }).code === READ_ONLY_SQL_TRANSACTION) {
        // A standby: it will not deliver notifications however often we ask. Poll only.
        this.#pollingOnly = true;
        this.#listener = undefined;
        void client.end().catch(() => undefined);
        this.#o.onPollingOnly?.((err as Error).message);
        return;
      }
      this.#o.onError?.(err);
      retry();
    }
  }

  #local(): LocalMeta {
    const row = this.#readMeta.get() as {
      database_id: string;
      revision: number;
      catalog_hash: string | null;
      primary_read_at: number | null;
    };
    return {
      databaseId: row.database_id,
      revision: row.revision,
      catalogHash: row.catalog_hash,
      primaryReadAt: row.primary_read_at,
    };
  }

  async #sync(): Promise<void> {
    const local = this.#local();
    const started = performance.now();
    // Most reads find one revision or none: statements outside a transaction (no BEGIN, no
    // COMMIT: two round trips fewer), each its own snapshot, the rows checked to be at the head's
    // revision. A read they cannot take whole (a new catalog, a commit landing between the two
    // statements) is made again in one REPEATABLE READ transaction.
    const read =
      (await this.#o.primary.statementsSql((query) => this.#read(query, local, false))) ??
      (await this.#o.primary.readSql((query) => this.#read(query, local, true)));
    if (read === undefined) throw new Error("a read of the primary in one transaction came back empty");
    if (read.whole) {
      await this.#copyWhole();
      return;
    }
    const readDone = performance.now();
    const applied = read.copy !== undefined || read.tokens !== undefined;
    const now = this.#o.now();
    if (applied || now - (this.#recordedAt ?? 0) >= this.#o.recordReadEveryMs) {
      this.#apply(read, now);
      this.#recordedAt = now;
    }
    if (read.tokens !== undefined) this.#tokensFingerprint = read.head.tokens;
    this.#hints.copied(read.head.revision);
    this.#lastSuccessAt = now;
    this.#o.onSynced?.({
      revision: read.head.revision,
      applied,
      full: false, // a whole copy reports from #copyWhole
      readMs: readDone - started,
      applyMs: performance.now() - readDone,
    });
  }

  /**
   * Everything the copy lacks: two statements for a one-revision change. `inTransaction` false:
   * each statement has its own snapshot; undefined when they do not agree or more is needed.
   */
  async #read(query: PgQuery, local: LocalMeta, inTransaction: boolean): Promise<PrimaryRead | undefined> {
    if (!inTransaction) {
      const heard = await this.#readHeard(query, local);
      if (heard !== undefined) return heard;
    }
    const head = await readHead(query, this.#columns, local);
    const tokens = head.tokens !== this.#tokensFingerprint;
    if (head.database_id === local.databaseId && head.revision === local.revision) {
      return { head, tokens: tokens ? await readTokens(query, this.#columns) : undefined, copy: undefined };
    }
    const plan =
      head.changes === null || head.revision < local.revision
        ? FULL_PLAN
        : planChanges(this.#changeRows(head.changes), local.revision, head.revision);
    // Everything: streamed by #copyWhole (its own REPEATABLE READ transaction), not read here as
    // one JSON value per table.
    if (plan.full) return { head, tokens: undefined, copy: undefined, whole: true };
    const catalogChanged = head.catalog_hash !== local.catalogHash;
    if (!inTransaction && catalogChanged) return undefined;
    this.#wholeWhereMissing(plan);
    const planned = await readPlanned(query, this.#columns, plan, this.#writer.maxAuditId(), tokens);
    // Outside a transaction the rows must be of the head's revision (every commit moves it).
    if (planned.revision !== head.revision || planned.databaseId !== head.database_id) {
      if (!inTransaction) return undefined;
      throw new Error(`the primary moved from revision ${head.revision} within one transaction`);
    }
    const rows = planned.tables;
    const catalog = catalogChanged ? await readCatalog(query, this.#columns) : undefined;
    return {
      head,
      tokens: tokens ? (rows.get("admin_tokens") ?? []) : undefined,
      copy: { plan, rows, catalog },
    };
  }

  /**
   * The read in one statement, when the notifications carried the change-log rows of every
   * revision above the copy's: undefined (read the log instead) unless the primary is at exactly
   * the last revision heard, on the same database, catalog and tokens as the copy.
   */
  async #readHeard(query: PgQuery, local: LocalMeta): Promise<PrimaryRead | undefined> {
    const heard = this.#hints.above(local.databaseId, local.revision);
    if (heard === undefined || this.#tokensFingerprint === undefined) return undefined;
    const logColumns = this.#columns.get("change_log")!;
    if (!logColumns.every((c) => c in heard.rows[0]!)) return undefined;
    const changes = heard.rows.map((row) => logColumns.map((c) => row[c as keyof typeof row]));
    const plan = planChanges(this.#changeRows(changes), local.revision, heard.until);
    if (plan.full) return undefined;
    this.#wholeWhereMissing(plan);
    const planned = await readPlanned(query, this.#columns, plan, this.#writer.maxAuditId(), false);
    if (
      planned.revision !== heard.until ||
      planned.databaseId !== local.databaseId ||
      planned.catalogHash !== local.catalogHash ||
      planned.tokens !== this.#tokensFingerprint
    ) {
      return undefined;
    }
    const head: PrimaryHead = {
      database_id: local.databaseId,
      revision: heard.until,
      catalog_hash: local.catalogHash,
      tokens: planned.tokens,
      changes,
    };
    return { head, tokens: undefined, copy: { plan, rows: planned.tables, catalog: undefined } };
  }

  /** A tenant the copy does not hold yet is copied whole. */
  #wholeWhereMissing(plan: ChangePlan): void {
    for (const [id, p] of plan.tenants) if (!p.whole && !this.#writer.hasTenant(id)) p.whole = true;
  }

  /** Replaces the copy whole, streamed from the primary (a cold start at a million users: seconds). */
  async #copyWhole(): Promise<void> {
    const started = performance.now();
    const now = this.#o.now();
    const { head } = await copyWholePrimary({
      primaryUrl: this.#o.primaryUrl,
      path: this.#o.copy.name,
      columns: this.#columns,
      readAt: now,
    });
    this.#recordedAt = now;
    this.#tokensFingerprint = head.tokens;
    this.#hints.copied(head.revision);
    this.#lastSuccessAt = now;
    // Rows are written as they stream in: the read's time includes the writing.
    const readMs = performance.now() - started;
    this.#o.onSynced?.({ revision: head.revision, applied: true, full: true, readMs, applyMs: 0 });
  }

  #changeRows(changes: readonly RowValues[]): ChangeRow[] {
    const columns = this.#columns.get("change_log")!;
    const [revision, tenant, detail] = ["revision", "tenant_id", "detail"].map((c) => columns.indexOf(c));
    return changes.map((r) => ({
      revision: r[revision!] as number,
      tenant_id: r[tenant!] as string | null,
      detail: r[detail!] as string,
    }));
  }

  /** Writes one read into the copy, in one transaction: the revisions land whole or not at all. */
  #apply(read: PrimaryRead, readAt: number): void {
    const db = this.#o.copy;
    const writer = this.#writer;
    const { head, copy } = read;
    db.transaction(() => {
      // Rows are replaced while others still point at them (a role users hold): check at commit.
      db.pragma("defer_foreign_keys = ON");
      if (read.tokens !== undefined) writer.replaceTokens(read.tokens);
      if (copy !== undefined) {
        if (copy.catalog !== undefined) writer.replaceCatalog(copy.catalog);
        // A whole copy never comes here (#copyWhole streams it): only the planned tenants.
        const grouped = writer.groupByTenant(copy.rows);
        for (const [id, plan] of copy.plan.tenants) writer.applyTenant(id, plan, grouped);
        writer.appendLogs(head.changes ?? [], copy.rows.get("audit_log") ?? []);
        writer.setHead(head);
      }
      writer.setReadAt(readAt);
    }).immediate();
    this.#checkpointLater();
  }

  /**
   * Checkpoints the copy once writes pause (or every few seconds under a stream of them), after
   * the revisions it copied are served rather than inside their commit.
   */
  #checkpointLater(): void {
    const overdue = performance.now() - this.#checkpointedAt >= CHECKPOINT_EVERY_MS;
    if (this.#checkpointTimer !== undefined && overdue) return; // due soon: keep it
    clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = setTimeout(
      () => {
        this.#checkpointTimer = undefined;
        if (this.#stopped) return;
        this.#checkpointedAt = performance.now();
        try {
          // PASSIVE: frames a reader still needs wait for the next one; nobody is blocked.
          this.#o.copy.pragma("wal_checkpoint(PASSIVE)");
        } catch (err) {
          this.#o.onError?.(err);
        }
      },
      overdue ? CHECKPOINT_OVERDUE_DELAY_MS : CHECKPOINT_QUIET_MS,
    );
    this.#checkpointTimer.unref();
  }
}
