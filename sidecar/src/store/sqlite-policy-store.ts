/**
 * The PolicyStore over one read-write better-sqlite3 connection. Every call answers
 * synchronously; transactions are explicit (`BEGIN IMMEDIATE` … `COMMIT`) so that a rule written
 * with `await` runs inside them, serialised per connection, with nested writes as savepoints.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Catalog } from "../../../catalog/catalog.js";
import type { AppRegistration } from "../apps/app-registry.js";
import type { PolicySource } from "../policy/policy-source.js";
import type { Db } from "./database.js";
import {
  DROP_PRUNE_MARKS_SQL,
  firstRevisionAfterSql,
  HISTORY_BOUNDS_SQL,
  pruneAuditSql,
  pruneMarkSql,
} from "./history-sql.js";
import { TouchedRows } from "./pg/touched-rows.js";
import type {
  AuditRow,
  CommitRecord,
  CustomSystemRow,
  HistoryBounds,
  PolicyStore,
  PolicyStoreReads,
  PolicyStoreTx,
  RoleRow,
  TenantRow,
  UserRow,
} from "./policy-store.js";
import { readAppRegistrations } from "./read-directory.js";
import { readPolicySourceForTenants } from "./read-policy.js";
import { appendChange, bumpRevision, readDatabaseId, readRevision } from "./revision.js";
import { StoreError } from "./store-error.js";
import { ROLE_COLUMNS, type StoredRole, toRoleRow } from "./tenant-rows.js";

/** Rows in and out of one connection (statements are cached by better-sqlite3). */
class SqliteTx implements PolicyStoreTx {
  /**
   * What the writes since the last commit touched, logged with it (`detail.touched`, as the
   * PostgreSQL store does): a sidecar then rereads just those roles and users of the tenant.
   */
  private readonly touched = new TouchedRows();

  constructor(private readonly db: Db) {}

  /** Forgets what a rolled-back transaction touched. */
  forgetTouched(): void {
    this.touched.take(null);
  }

  private pluckAll<T>(sql: string, ...params: unknown[]): T[] {
    return this.db
      .prepare(sql)
      .pluck()
      .all(...params) as T[];
  }

  private pluckOne<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.db
      .prepare(sql)
      .pluck()
      .get(...params) as T | undefined;
  }

  revision(): number {
    return readRevision(this.db);
  }

  databaseId(): string {
    return readDatabaseId(this.db);
  }

  tenant(tenantId: string): TenantRow | undefined {
    const row = this.db.prepare("SELECT id, name FROM tenants WHERE id = ?").get(tenantId) as
      | { id: string; name: string }
      | undefined;
    if (row === undefined) return undefined;
    const systems = this.pluckAll<string>(
      "SELECT system_id FROM tenant_systems WHERE tenant_id = ? ORDER BY rowid",
      tenantId,
    );
    const owners = this.pluckAll<string>(
      "SELECT user_id FROM tenant_owners WHERE tenant_id = ? ORDER BY user_id",
      tenantId,
    );
    return { ...row, systems, owners };
  }

  tenantIds(): string[] {
    return this.pluckAll("SELECT id FROM tenants ORDER BY id");
  }

  tenantNamed(name: string): string | undefined {
    return this.pluckOne("SELECT id FROM tenants WHERE name = ?", name);
  }

  licensePools(tenantId: string): { licenseId: string; seats: number }[] {
    return this.db
      .prepare(
        "SELECT license_id AS licenseId, seats FROM license_pools WHERE tenant_id = ? ORDER BY license_id",
      )
      .all(tenantId) as { licenseId: string; seats: number }[];
  }

  poolSeats(tenantId: string, licenseId: string): number | undefined {
    return this.pluckOne(
      "SELECT seats FROM license_pools WHERE tenant_id = ? AND license_id = ?",
      tenantId,
      licenseId,
    );
  }

  licenseUsed(tenantId: string, licenseId: string): number {
    return this.pluckOne<number>(
      `SELECT COUNT(DISTINCT u.id) FROM users u
         JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id
         JOIN role_licenses rl ON rl.tenant_id = ur.tenant_id AND rl.role_id = ur.role_id
       WHERE u.tenant_id = ? AND u.active = 1 AND rl.license_id = ?`,
      tenantId,
      licenseId,
    )!;
  }

  userCount(tenantId: string): number {
    return this.pluckOne<number>("SELECT COUNT(*) FROM users WHERE tenant_id = ?", tenantId)!;
  }

  roleCount(tenantId: string): number {
    return this.pluckOne<number>("SELECT COUNT(*) FROM roles WHERE tenant_id = ?", tenantId)!;
  }

  role(tenantId: string, roleId: string): RoleRow | undefined {
    const row = this.db
      .prepare(`SELECT ${ROLE_COLUMNS} FROM roles WHERE tenant_id = ? AND id = ?`)
      .get(tenantId, roleId) as Omit<StoredRole, "tenant_id"> | undefined;
    return row === undefined ? undefined : toRoleRow(row);
  }

  roles(tenantId: string): RoleRow[] {
    const rows = this.db
      .prepare(`SELECT ${ROLE_COLUMNS} FROM roles WHERE tenant_id = ? ORDER BY rowid`)
      .all(tenantId) as Omit<StoredRole, "tenant_id">[];
    return rows.map(toRoleRow);
  }

  roleNamed(tenantId: string, name: string): string | undefined {
    return this.pluckOne("SELECT id FROM roles WHERE tenant_id = ? AND name = ?", tenantId, name);
  }

  grants(tenantId: string, roleId: string): string[] {
    return this.pluckAll(
      "SELECT permission_key FROM role_grants WHERE tenant_id = ? AND role_id = ? ORDER BY rowid",
      tenantId,
      roleId,
    );
  }

  roleLicenses(tenantId: string, roleId: string): string[] {
    return this.pluckAll(
      "SELECT license_id FROM role_licenses WHERE tenant_id = ? AND role_id = ? ORDER BY rowid",
      tenantId,
      roleId,
    );
  }

  holderCount(tenantId: string, roleId: string): number {
    return this.pluckOne<number>(
      "SELECT COUNT(*) FROM user_roles WHERE tenant_id = ? AND role_id = ?",
      tenantId,
      roleId,
    )!;
  }

  user(tenantId: string, userId: string): UserRow | undefined {
    const row = this.db
      .prepare("SELECT id, display_name, active FROM users WHERE tenant_id = ? AND id = ?")
      .get(tenantId, userId) as { id: string; display_name: string; active: number } | undefined;
    return row === undefined
      ? undefined
      : { id: row.id, displayName: row.display_name, active: row.active === 1 };
  }

  userIds(tenantId: string): string[] {
    return this.pluckAll("SELECT id FROM users WHERE tenant_id = ? ORDER BY id", tenantId);
  }

  userRoles(tenantId: string, userId: string): string[] {
    return this.pluckAll(
      "SELECT role_id FROM user_roles WHERE tenant_id = ? AND user_id = ? ORDER BY rowid",
      tenantId,
      userId,
    );
  }

  apps(tenantId: string): AppRegistration[] {
    return readAppRegistrations(this.db).get(tenantId) ?? [];
  }

  customSystems(tenantId: string): CustomSystemRow[] {
    return this.db
      .prepare(
        `SELECT system_id AS systemId, document, created_at AS createdAt, updated_at AS updatedAt
         FROM custom_systems WHERE tenant_id = ? ORDER BY system_id`,
      )
      .all(tenantId) as CustomSystemRow[];
  }

  auditPage(tenantId: string | null, beforeId: number, limit: number): AuditRow[] {
    const columns = "id, time, actor, tenant_id AS tenantId, operation, before, after, revision";
    // One tenant's rows through its index (tenant_id, id): an `OR` on the tenant would walk every
    // tenant's rows by id instead.
    if (tenantId !== null) {
      return this.db
        .prepare(`SELECT ${columns} FROM audit_log WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?`)
        .all(tenantId, beforeId, limit) as AuditRow[];
    }
    return this.db
      .prepare(`SELECT ${columns} FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`)
      .all(beforeId, limit) as AuditRow[];
  }

  historyBounds(): HistoryBounds {
    const row = this.db.prepare(HISTORY_BOUNDS_SQL).get() as {
      pruned: number;
      pruned_before: string | null;
      whole: number;
    };
    return {
      prunedThrough: row.pruned,
      prunedBefore: row.pruned_before ?? undefined,
      lastWholeStoreChange: row.whole,
    };
  }

  firstRevisionAfter(time: string): number | undefined {
    return (this.db.prepare(firstRevisionAfterSql("?")).pluck().get(time) as number | null) ?? undefined;
  }

  policySource(catalog: Catalog, tenantIds: readonly string[]): PolicySource {
    return readPolicySourceForTenants(this.db, catalog, tenantIds);
  }

  insertTenant(tenant: TenantRow, createdAt: string): void {
    this.touched.tenant(tenant.id);
    this.db
      .prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
      .run(tenant.id, tenant.name, createdAt);
    const addSystem = this.db.prepare("INSERT INTO tenant_systems (tenant_id, system_id) VALUES (?, ?)");
    for (const s of tenant.systems) addSystem.run(tenant.id, s);
    this.setOwners(tenant.id, tenant.owners);
  }

  setSeats(tenantId: string, licenseId: string, seats: number): void {
    this.touched.tenant(tenantId);
    this.db
      .prepare(
        `INSERT INTO license_pools (tenant_id, license_id, seats) VALUES (?, ?, ?)
         ON CONFLICT (tenant_id, license_id) DO UPDATE SET seats = excluded.seats`,
      )
      .run(tenantId, licenseId, seats);
  }

  insertUser(tenantId: string, user: UserRow, createdAt: string): void {
    this.touched.user(tenantId, user.id);
    this.db
      .prepare("INSERT INTO users (tenant_id, id, display_name, active, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(tenantId, user.id, user.displayName, user.active ? 1 : 0, createdAt);
  }

  setUserActive(tenantId: string, userId: string, active: boolean): void {
    this.touched.user(tenantId, userId);
    this.db
      .prepare("UPDATE users SET active = ? WHERE tenant_id = ? AND id = ?")
      .run(active ? 1 : 0, tenantId, userId);
  }

  insertRole(tenantId: string, role: RoleRow, createdAt: string): void {
    this.touched.role(tenantId, role.id);
    this.db
      .prepare(
        `INSERT INTO roles (tenant_id, id, name, kind, based_on, default_system, default_role, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        tenantId,
        role.id,
        role.name,
        role.kind,
        role.basedOn,
        role.defaultSystem,
        role.defaultRole,
        createdAt,
      );
  }

  renameRole(tenantId: string, roleId: string, name: string): void {
    this.touched.role(tenantId, roleId);
    this.db.prepare("UPDATE roles SET name = ? WHERE tenant_id = ? AND id = ?").run(name, tenantId, roleId);
  }

  deleteRole(tenantId: string, roleId: string): void {
    this.touched.role(tenantId, roleId);
    this.db.prepare("DELETE FROM roles WHERE tenant_id = ? AND id = ?").run(tenantId, roleId);
  }

  addGrants(tenantId: string, roleId: string, keys: readonly string[]): void {
    this.touched.role(tenantId, roleId);
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO role_grants (tenant_id, role_id, permission_key) VALUES (?, ?, ?)",
    );
    for (const k of keys) insert.run(tenantId, roleId, k);
  }

  removeGrants(tenantId: string, roleId: string, keys: readonly string[]): void {
    this.touched.role(tenantId, roleId);
    const del = this.db.prepare(
      "DELETE FROM role_grants WHERE tenant_id = ? AND role_id = ? AND permission_key = ?",
    );
    for (const k of keys) del.run(tenantId, roleId, k);
  }

  setRoleLicenses(tenantId: string, roleId: string, licenseIds: readonly string[]): void {
    this.touched.role(tenantId, roleId);
    this.db.prepare("DELETE FROM role_licenses WHERE tenant_id = ? AND role_id = ?").run(tenantId, roleId);
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO role_licenses (tenant_id, role_id, license_id) VALUES (?, ?, ?)",
    );
    for (const l of licenseIds) insert.run(tenantId, roleId, l);
  }

  addUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): void {
    this.touched.user(tenantId, userId);
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO user_roles (tenant_id, user_id, role_id) VALUES (?, ?, ?)",
    );
    for (const r of roleIds) insert.run(tenantId, userId, r);
  }

  removeUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): void {
    this.touched.user(tenantId, userId);
    const del = this.db.prepare("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ? AND role_id = ?");
    for (const r of roleIds) del.run(tenantId, userId, r);
  }

  putApp(tenantId: string, app: AppRegistration, createdAt: string): void {
    this.touched.tenant(tenantId);
    this.db
      .prepare(
        `INSERT INTO app_registrations (tenant_id, app_id, name, base_url, url_patterns, selector_overrides, subject_source, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, app_id) DO UPDATE SET name = excluded.name, base_url = excluded.base_url,
           url_patterns = excluded.url_patterns, selector_overrides = excluded.selector_overrides,
           subject_source = excluded.subject_source`,
      )
      .run(
        tenantId,
        app.appId,
        app.name,
        app.baseUrl,
        JSON.stringify(app.pages.map((p) => ({ pattern: p.urlPattern, surfaces: p.surfaceIds }))),
        JSON.stringify(Object.fromEntries(app.selectors.map((s) => [s.surfaceId, s.selector]))),
        JSON.stringify(app.subject),
        createdAt,
      );
  }

  deleteApp(tenantId: string, appId: string): void {
    this.touched.tenant(tenantId);
    this.db.prepare("DELETE FROM app_registrations WHERE tenant_id = ? AND app_id = ?").run(tenantId, appId);
  }

  putCustomSystem(tenantId: string, systemId: string, document: string, now: string): void {
    this.touched.tenant(tenantId);
    this.db
      .prepare(
        `INSERT INTO custom_systems (tenant_id, system_id, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, system_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
      )
      .run(tenantId, systemId, document, now, now);
    this.db
      .prepare("INSERT OR IGNORE INTO tenant_systems (tenant_id, system_id) VALUES (?, ?)")
      .run(tenantId, systemId);
  }

  deleteCustomSystem(tenantId: string, systemId: string): void {
    this.touched.tenant(tenantId);
    this.db
      .prepare("DELETE FROM custom_systems WHERE tenant_id = ? AND system_id = ?")
      .run(tenantId, systemId);
    this.db
      .prepare("DELETE FROM tenant_systems WHERE tenant_id = ? AND system_id = ?")
      .run(tenantId, systemId);
  }

  setOwners(tenantId: string, userIds: readonly string[]): void {
    this.touched.tenant(tenantId);
    this.db.prepare("DELETE FROM tenant_owners WHERE tenant_id = ?").run(tenantId);
    const insert = this.db.prepare("INSERT OR IGNORE INTO tenant_owners (tenant_id, user_id) VALUES (?, ?)");
    for (const u of userIds) insert.run(tenantId, u);
  }

  pruneAudit(throughRevision: number, time: string, detail: unknown): number {
    const deleted = this.db.prepare(pruneAuditSql("?")).run(throughRevision).changes;
    if (deleted === 0) return 0;
    this.db.prepare(DROP_PRUNE_MARKS_SQL).run();
    this.db.prepare(pruneMarkSql("?", "?", "?")).run(time, JSON.stringify(detail), throughRevision);
    return deleted;
  }

  commit(record: CommitRecord): number {
    const revision = bumpRevision(this.db);
    const detail = this.touched.detailFor(record.tenantId, record.detail);
    appendChange(this.db, revision, record.tenantId, record.operation, detail);
    this.db
      .prepare(
        "INSERT INTO audit_log (time, actor, tenant_id, operation, before, after, revision) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        record.time,
        record.actor,
        record.tenantId,
        record.operation,
        record.before === null ? null : JSON.stringify(record.before),
        record.after === null ? null : JSON.stringify(record.after),
        revision,
      );
    return revision;
  }
}

/** Whether better-sqlite3 failed because another writer held the lock past the busy timeout. */
export function isStoreLockError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

function storeErrorOf(err: unknown): unknown {
  if (!isStoreLockError(err)) return err;
  return new StoreError("UNAVAILABLE", "the policy store is locked by another writer; retry shortly", {
    cause: err,
  });
}

/** A PolicyStore over `db`, a read-write connection the caller keeps open (and closes). */
export class SqlitePolicyStore implements PolicyStore {
  private readonly tx: SqliteTx;
  /** Depth of the transaction the current async context runs in (absent: none). */
  private readonly depth = new AsyncLocalStorage<number>();
  /** Top-level transactions of this connection run one after another. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Top-level transactions begun and not yet settled (running or queued on `tail`). */
  private open = 0;

  constructor(readonly db: Db) {
    this.tx = new SqliteTx(db);
  }

  write<T>(body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    return this.transaction("BEGIN IMMEDIATE", body);
  }

  read<T>(body: (tx: PolicyStoreReads) => Promise<T>): Promise<T> {
    return this.transaction("BEGIN DEFERRED", body);
  }

  private async transaction<T>(begin: string, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const depth = this.depth.getStore();
    if (depth !== undefined) return this.nested(depth, body);
    const run = async (): Promise<T> => {
      try {
        this.db.exec(begin);
      } catch (err) {
        throw storeErrorOf(err);
      }
      this.tx.forgetTouched();
      try {
        const out = await this.depth.run(1, () => body(this.tx));
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw storeErrorOf(err);
      }
    };
    this.open++;
    const result = this.tail.then(run, run).finally(() => this.quiesce());
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * With no transaction left, the AsyncLocalStorage is disabled again: while enabled, Node 20
   * runs its async hooks on every promise and socket callback of the process (a check's path
   * included), a few percent of the CPU of each call for a store that is idle between writes.
   * The next transaction's `run` enables it again.
   */
  private quiesce(): void {
    if (--this.open === 0) this.depth.disable();
  }

  /** A write inside a write: a savepoint, so the inner one's failure undoes just its own rows. */
  private async nested<T>(depth: number, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const name = `rolecall_${depth}`;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const out = await this.depth.run(depth + 1, () => body(this.tx));
      this.db.exec(`RELEASE ${name}`);
      return out;
    } catch (err) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      throw err;
    }
  }
}

/** The PolicyStore of a read-write connection. */
export function sqliteStore(db: Db): SqlitePolicyStore {
  return new SqlitePolicyStore(db);
}
