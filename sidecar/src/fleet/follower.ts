/**
 * Keeps this host's SQLite copy in step with a PostgreSQL primary. On a notification (LISTEN),
 * on every reconnect and on a slow poll (the safety net: a read replica delivers no
 * notifications), it reads everything above the copy's revision in one consistent read and
 * applies it in one SQLite transaction — a revision is copied whole or not at all. The sidecar's
 * sync watcher then serves the copy as it would any store, and the copy is the host's last good
 * policy when the primary is down.
 */
import pg from "pg";
import type { Db } from "../store/database.js";
import { CHANGES_CHANNEL, type PgPolicyStore, type PgQuery } from "../store/pg/pg-policy-store.js";
import {
  CATALOG_TABLES,
  insertSqliteRows,
  LOG_TABLES,
  type Row,
  readPgRows,
  sqliteColumns,
  TENANT_TABLES,
} from "./store-tables.js";

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
}

const DEFAULTS = Object.freeze({ pollIntervalMs: 1_000 });

/** More named users than this in one tenant and its rows are copied whole. */
const MAX_NAMED_USERS = 1_000;

interface PrimaryMeta {
  readonly database_id: string;
  readonly revision: number;
  readonly catalog_hash: string | null;
}

/** What to copy for one revision range. */
interface ChangePlan {
  readonly full: boolean;
  /** Per changed tenant: the users to copy, or null for the whole tenant. */
  readonly tenants: ReadonlyMap<string, ReadonlySet<string> | null>;
}

/** Rows read from the primary for one range of revisions. */
interface CopyRead {
  readonly plan: ChangePlan;
  /** Every catalog table (CATALOG_TABLES order), when the catalog changed. */
  readonly catalog: Row[][] | undefined;
  /** Per tenant, its rows in TENANT_TABLES order. */
  readonly tenants: ReadonlyMap<string, Row[][]>;
  readonly changes: Row[];
  readonly audit: Row[];
}

/** Follows a primary into a local SQLite copy. */
export class PrimaryFollower {
  readonly #o: PrimaryFollowerOptions & { pollIntervalMs: number; now: () => number };
  #listener: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #again = false;
  #lastSuccessAt: number | undefined;
  #tokensFingerprint: string | undefined;

  constructor(options: PrimaryFollowerOptions) {
    this.#o = { ...DEFAULTS, now: Date.now, ...options };
    if (!Number.isInteger(this.#o.pollIntervalMs) || this.#o.pollIntervalMs < 1) {
      throw new TypeError(`pollIntervalMs must be a positive integer, got ${this.#o.pollIntervalMs}`);
    }
  }

  /** When the primary was last read successfully (undefined: never in this process). */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt;
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
    void this.#listen();
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
    if (this.#stopped) return;
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
    client.on("notification", () => {
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
      this.#o.onError?.(err);
      retry();
    }
  }

  #local(): { databaseId: string; revision: number; catalogHash: string | null } {
    const row = this.#o.copy
      .prepare("SELECT database_id, revision, catalog_hash FROM meta WHERE id = 1")
      .get() as { database_id: string; revision: number; catalog_hash: string | null };
    return { databaseId: row.database_id, revision: row.revision, catalogHash: row.catalog_hash };
  }

  async #sync(): Promise<void> {
    const local = this.#local();
    const read = await this.#o.primary.readSql(async (query) => {
      const meta = (
        await query<PrimaryMeta>("SELECT database_id, revision, catalog_hash FROM meta WHERE id = 1")
      ).rows[0];
      if (meta === undefined) throw new Error("the primary has no meta row; it is damaged");
      const tokens = await this.#tokensIfChanged(query);
      if (meta.database_id === local.databaseId && meta.revision === local.revision) {
        return { meta, tokens, copy: undefined };
      }
      const plan =
        meta.database_id !== local.databaseId || meta.revision < local.revision
          ? { full: true, tenants: new Map() }
          : await planChanges(query, local.revision, meta.revision);
      return { meta, tokens, copy: await this.#readRows(query, plan, local.revision, meta) };
    });
    const applied = read.copy !== undefined || read.tokens !== undefined;
    if (applied) this.#apply(read.meta, read.tokens, read.copy);
    this.#lastSuccessAt = this.#o.now();
    this.#o.onSynced?.({ revision: read.meta.revision, applied, full: read.copy?.plan.full ?? false });
  }

  /** The token table when it differs from what the copy holds (tokens do not move the revision). */
  async #tokensIfChanged(query: PgQuery): Promise<Row[] | undefined> {
    const fingerprint = String(
      (
        await query<{ f: string }>(
          "SELECT count(*) || ':' || coalesce(max(created_at), '') || ':' || coalesce(max(revoked_at), '') AS f FROM admin_tokens",
        )
      ).rows[0]?.f,
    );
    if (fingerprint === this.#tokensFingerprint) return undefined;
    const rows = await readPgRows(query, LOG_TABLES.adminTokens, sqliteColumns(this.#o.copy, "admin_tokens"));
    this.#tokensFingerprint = fingerprint;
    return rows;
  }

  async #readRows(query: PgQuery, plan: ChangePlan, since: number, meta: PrimaryMeta): Promise<CopyRead> {
    const db = this.#o.copy;
    const columns = (table: string) => sqliteColumns(db, table);
    const catalog =
      plan.full || meta.catalog_hash !== this.#local().catalogHash
        ? await Promise.all(CATALOG_TABLES.map(async (t) => readPgRows(query, t, columns(t.name))))
        : undefined;
    const tenants = new Map<string, Row[][]>();
    const ids = plan.full
      ? (await query<{ id: string }>("SELECT id FROM tenants ORDER BY id")).rows.map((r) => r.id)
      : [...plan.tenants.keys()];
    for (const id of ids) {
      const users = plan.full ? null : (plan.tenants.get(id) ?? null);
      tenants.set(id, await readTenant(query, db, id, users));
    }
    const changes = await readPgRows(
      query,
      LOG_TABLES.changeLog,
      columns("change_log"),
      plan.full ? "TRUE" : "revision > $1",
      plan.full ? [] : [since],
    );
    const maxAudit = plan.full
      ? 0
      : ((db.prepare("SELECT max(id) FROM audit_log").pluck().get() as number | null) ?? 0);
    const audit = await readPgRows(query, LOG_TABLES.auditLog, columns("audit_log"), "id > $1", [maxAudit]);
    return { plan, catalog, tenants, changes, audit };
  }

  #apply(meta: PrimaryMeta, tokens: Row[] | undefined, copy: CopyRead | undefined): void {
    const db = this.#o.copy;
    db.transaction(() => {
      // Roles are replaced while users who are not copied keep holding them: check at commit.
      db.pragma("defer_foreign_keys = ON");
      if (tokens !== undefined) {
        db.prepare("DELETE FROM admin_tokens").run();
        insertSqliteRows(db, "admin_tokens", sqliteColumns(db, "admin_tokens"), tokens);
      }
      if (copy === undefined) return;
      const { plan } = copy;
      if (copy.catalog !== undefined) {
        db.prepare("DELETE FROM catalog_systems").run();
        for (const [i, t] of CATALOG_TABLES.entries()) {
          insertSqliteRows(db, t.name, sqliteColumns(db, t.name), copy.catalog[i]!);
        }
      }
      if (plan.full) {
        db.prepare("DELETE FROM tenants").run();
        db.prepare("DELETE FROM change_log").run();
        db.prepare("DELETE FROM audit_log").run();
      }
      for (const [id, rows] of copy.tenants)
        writeTenant(db, id, rows, plan.full ? null : (plan.tenants.get(id) ?? null));
      insertSqliteRows(db, "change_log", sqliteColumns(db, "change_log"), copy.changes);
      insertSqliteRows(db, "audit_log", sqliteColumns(db, "audit_log"), copy.audit);
      db.prepare("UPDATE meta SET database_id = ?, revision = ?, catalog_hash = ? WHERE id = 1").run(
        meta.database_id,
        meta.revision,
        meta.catalog_hash,
      );
    }).immediate();
  }
}

/** Which tenants (and users) changed in (since, until], from the primary's change log. */
async function planChanges(query: PgQuery, since: number, until: number): Promise<ChangePlan> {
  const rows = (
    await query<{ tenant_id: string | null; detail: string }>(
      "SELECT tenant_id, detail FROM change_log WHERE revision > $1 AND revision <= $2",
      [since, until],
    )
  ).rows;
  // A gap in the log (a copy far behind a restored primary) or a change to every tenant: copy all.
  if (rows.some((r) => r.tenant_id === null)) return { full: true, tenants: new Map() };
  const tenants = new Map<string, Set<string> | null>();
  for (const row of rows) {
    const users = (JSON.parse(row.detail) as { users?: string[] }).users;
    const soFar = tenants.has(row.tenant_id!) ? tenants.get(row.tenant_id!)! : new Set<string>();
    if (soFar === null || users === undefined) tenants.set(row.tenant_id!, null);
    else {
      for (const u of users) soFar.add(u);
      tenants.set(row.tenant_id!, soFar.size > MAX_NAMED_USERS ? null : soFar);
    }
  }
  return { full: false, tenants };
}

/** A tenant's rows from the primary, per TENANT_TABLES (users and their roles: only `users` when named). */
async function readTenant(
  query: PgQuery,
  db: Db,
  tenantId: string,
  users: ReadonlySet<string> | null,
): Promise<Row[][]> {
  const named = users === null ? undefined : [...users];
  return Promise.all(
    TENANT_TABLES.map((t) => {
      const columns = sqliteColumns(db, t.name);
      if (t.name === "tenants") return readPgRows(query, t, columns, "id = $1", [tenantId]);
      if (named !== undefined && t.name === "users") {
        return readPgRows(query, t, columns, "tenant_id = $1 AND id = ANY($2)", [tenantId, named]);
      }
      if (named !== undefined && t.name === "user_roles") {
        return readPgRows(query, t, columns, "tenant_id = $1 AND user_id = ANY($2)", [tenantId, named]);
      }
      return readPgRows(query, t, columns, "tenant_id = $1", [tenantId]);
    }),
  );
}

/** Replaces a tenant's rows in the copy: whole, or (named users) all but the other users. */
function writeTenant(db: Db, tenantId: string, rows: Row[][], users: ReadonlySet<string> | null): void {
  const exists = (rows[0] ?? []).length > 0;
  if (users === null || !exists) {
    db.prepare("DELETE FROM tenants WHERE id = ?").run(tenantId);
    if (!exists) return; // gone on the primary (a restore)
    for (const [i, t] of TENANT_TABLES.entries())
      insertSqliteRows(db, t.name, sqliteColumns(db, t.name), rows[i]!);
    return;
  }
  const named = [...users];
  const placeholders = named.map(() => "?").join(", ");
  for (const [i, t] of TENANT_TABLES.entries()) {
    if (t.name === "tenants") {
      db.prepare("UPDATE tenants SET name = ? WHERE id = ?").run(rows[0]![0]!.name, tenantId);
      continue;
    }
    if (t.name === "users" || t.name === "user_roles") {
      const column = t.name === "users" ? "id" : "user_id";
      if (named.length > 0) {
        db.prepare(`DELETE FROM ${t.name} WHERE tenant_id = ? AND ${column} IN (${placeholders})`).run(
          tenantId,
          ...named,
        );
      }
    } else {
      db.prepare(`DELETE FROM ${t.name} WHERE tenant_id = ?`).run(tenantId);
    }
    insertSqliteRows(db, t.name, sqliteColumns(db, t.name), rows[i]!);
  }
}
