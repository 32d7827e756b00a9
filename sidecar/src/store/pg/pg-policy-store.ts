/**
 * The PolicyStore over PostgreSQL (node-postgres pool), so the one implementation of the admin
 * rules runs unchanged against the store of record of a fleet.
 *
 * - `write()` is one transaction on one pooled connection: `BEGIN` (READ COMMITTED), then
 *   `SELECT … FROM meta WHERE id = 1 FOR UPDATE` as its first statement. Every writer locks that
 *   one row first, so writes serialise across every sidecar and CLI, and — READ COMMITTED taking
 *   a fresh snapshot per statement — each check after the lock sees everything committed before
 *   it, which is what it commits on (the SQLite store gets the same from `BEGIN IMMEDIATE`).
 * - `commit()` bumps the revision, appends the change-log and audit rows and calls
 *   `pg_notify('rolecall_changes', '<revision>')` in the same statement: PostgreSQL delivers the
 *   notification only once the transaction commits, and never for one rolled back.
 * - A write or read inside a write joins it through a SAVEPOINT (AsyncLocalStorage carries the
 *   connection), so the inner one's failure undoes only its own rows.
 * - `read()` is a REPEATABLE READ, READ ONLY transaction: one snapshot, one revision.
 * - Nothing hangs: connecting and every statement are bounded by `timeoutMs` (default 5 s) or
 *   the caller's deadline (`withStoreDeadline`), whichever comes first; a primary that is down
 *   or silent becomes `StoreError("UNAVAILABLE", "the PostgreSQL primary at host:port is
 *   unreachable: …")`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import type { Catalog } from "../../../../catalog/catalog.js";
import type { AppRegistration, SubjectSource } from "../../apps/app-registry.js";
import type { PolicySource } from "../../policy/policy-source.js";
import type {
  AuditRow,
  CommitRecord,
  CustomSystemRow,
  PolicyStore,
  PolicyStoreReads,
  PolicyStoreTx,
  RoleRow,
  TenantRow,
  UserRow,
} from "../policy-store.js";
import { StoreError } from "../store-error.js";
import {
  assembleTenants,
  createPairCollector,
  groupByTenant,
  ROLE_COLUMNS,
  type StoredCustomSystem,
  type StoredRole,
  type StoredUser,
  toRoleRow,
} from "../tenant-rows.js";
import { migratePg, type PgMigrateOptions } from "./pg-schema.js";
import { isPgConnectionError, isPgServerError, PgTimeoutError, storeErrorFromPg } from "./pg-store-error.js";

/** The channel every commit notifies, with the new revision as payload. */
export const CHANGES_CHANNEL = "rolecall_changes";

/** Options of `PgPolicyStore` and `openPgStore`. */
export interface PgPolicyStoreOptions {
  /**
   * Bound on connecting and on each statement, in ms; a caller's deadline (`withStoreDeadline`)
   * may cut it shorter. Default `5000`.
   */
  readonly timeoutMs?: number;
  /** Most pooled connections (besides a follower's own listening one). Default `4`. */
  readonly maxConnections?: number;
  /**
   * How long the server keeps a transaction whose client went silent (a partitioned writer
   * holding the write lock) before ending it, in ms. Default `60000`.
   */
  readonly idleInTransactionTimeoutMs?: number;
  /** Shown in `pg_stat_activity`. Default `"rolecall"`. */
  readonly applicationName?: string;
}

/** Options of `openPgStore`. */
export interface OpenPgStoreOptions extends PgPolicyStoreOptions {
  /** Returns the current time, recorded with applied migrations. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** The migration steps (tests pass their own). Default `PG_MIGRATIONS`. */
  readonly migrations?: PgMigrateOptions["migrations"];
}

const DEFAULTS = Object.freeze({
  timeoutMs: 5000,
  maxConnections: 4,
  idleInTransactionTimeoutMs: 60_000,
  applicationName: "rolecall",
});

const deadlines = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with a deadline (epoch ms, like `Date.now()`): every PostgreSQL store call inside it
 * fails `UNAVAILABLE` rather than run past it.
 */
export function withStoreDeadline<T>(deadline: number, fn: () => T): T {
  const outer = deadlines.getStore();
  return deadlines.run(outer === undefined ? deadline : Math.min(outer, deadline), fn);
}

/** `host:port` of a PostgreSQL URL, for messages (the URL itself may carry a password). */
export function pgAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get("host") ?? (parsed.hostname || "localhost");
    return `${host}:${parsed.port || parsed.searchParams.get("port") || "5432"}`;
  } catch {
    return "(unparsable URL)";
  }
}

/** BIGINT (revisions, ids, counts) as a number: they stay far below 2^53. */
function parseInt8(text: string): number {
  return Number(text);
}

/** One connection checked out for one top-level transaction. */
class Session {
  /** The connection failed (or a statement timed out mid-flight): it must not be reused. */
  broken = false;
  private readonly onError = (): void => {
    this.broken = true;
  };

  constructor(
    readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {
    // A checked-out client has no listener of the pool's: without ours, a lost connection
    // would be an unhandled 'error' event.
    client.on("error", this.onError);
  }

  /** How long the next statement may take: the store's bound or what is left of the caller's deadline. */
  limit(cleanup = false): number {
    const deadline = cleanup ? undefined : deadlines.getStore();
    if (deadline === undefined) return this.timeoutMs;
    const left = deadline - Date.now();
    if (left <= 0) throw new PgTimeoutError("the caller's deadline passed");
    return Math.min(this.timeoutMs, left);
  }

  /** Runs one statement (or several, without values); `cleanup` (ROLLBACK) ignores the caller's deadline. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    cleanup = false,
  ): Promise<pg.QueryResult<R>> {
    // query_timeout is read by node-postgres from the query config, though its types omit it.
    const config: pg.QueryConfig & { query_timeout: number } = {
      text,
      query_timeout: this.limit(cleanup),
      ...(values === undefined ? {} : { values: values as unknown[] }),
    };
    try {
      return await this.client.query<R>(config);
    } catch (err) {
      if (!isPgServerError(err) || isPgConnectionError(err)) this.broken = true;
      throw err;
    }
  }

  release(): void {
    if (this.broken) {
      // Keep our listener: a late 'error' of the discarded client must not crash the process.
      this.client.release(true);
    } else {
      this.client.removeListener("error", this.onError);
      this.client.release();
    }
  }
}

/** Stored shape of an app's pages (JSON in `app_registrations.url_patterns`), as read-directory.ts reads it. */
interface StoredPage {
  readonly pattern: string;
  readonly surfaces: readonly string[];
}

interface RawApp {
  app_id: string;
  name: string;
  base_url: string;
  url_patterns: string;
  selector_overrides: string;
  subject_source: string;
}

function toApp(row: RawApp): AppRegistration {
  const pages = JSON.parse(row.url_patterns) as StoredPage[];
  const selectors = JSON.parse(row.selector_overrides) as Record<string, string>;
  return {
    appId: row.app_id,
    name: row.name,
    baseUrl: row.base_url,
    pages: pages.map((p) => ({ urlPattern: p.pattern, surfaceIds: p.surfaces })),
    selectors: Object.entries(selectors).map(([surfaceId, selector]) => ({ surfaceId, selector })),
    subject: JSON.parse(row.subject_source) as SubjectSource,
  };
}

/** Inserts one row per element of `$3` (a text array), in array order, so `seq` keeps that order. */
const insertEach = (table: string, columns: string): string =>
  `INSERT INTO ${table} (${columns}) SELECT $1, $2, v FROM unnest($3::text[]) WITH ORDINALITY AS x(v, n)
   ORDER BY n ON CONFLICT DO NOTHING`;

/** Rows in and out of one transaction's connection. */
class PgTx implements PolicyStoreTx {
  constructor(private readonly session: Session) {}

  private async rows<R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<R[]> {
    return (await this.session.query<R>(text, values)).rows;
  }

  private async column<T>(text: string, values?: readonly unknown[]): Promise<T[]> {
    return (await this.rows<{ v: T }>(text, values)).map((r) => r.v);
  }

  private async value<T>(text: string, values?: readonly unknown[]): Promise<T | undefined> {
    return (await this.rows<{ v: T }>(text, values))[0]?.v;
  }

  private async exec(text: string, values?: readonly unknown[]): Promise<void> {
    await this.session.query(text, values);
  }

  private async meta(): Promise<{ database_id: string; revision: number }> {
    const row = (
      await this.rows<{ database_id: string; revision: number }>(
        "SELECT database_id, revision FROM meta WHERE id = 1",
      )
    )[0];
    if (row === undefined) {
      throw new StoreError("FAILED_PRECONDITION", "the policy database has no meta row; it is damaged");
    }
    return row;
  }

  async revision(): Promise<number> {
    return (await this.meta()).revision;
  }

  async databaseId(): Promise<string> {
    return (await this.meta()).database_id;
  }

  async tenant(tenantId: string): Promise<TenantRow | undefined> {
    const row = (
      await this.rows<{ id: string; name: string }>("SELECT id, name FROM tenants WHERE id = $1", [tenantId])
    )[0];
    if (row === undefined) return undefined;
    const systems = await this.column<string>(
      "SELECT system_id AS v FROM tenant_systems WHERE tenant_id = $1 ORDER BY seq",
      [tenantId],
    );
    const owners = await this.column<string>(
      'SELECT user_id AS v FROM tenant_owners WHERE tenant_id = $1 ORDER BY user_id COLLATE "C"',
      [tenantId],
    );
    return { id: row.id, name: row.name, systems, owners };
  }

  tenantIds(): Promise<string[]> {
    return this.column('SELECT id AS v FROM tenants ORDER BY id COLLATE "C"');
  }

  tenantNamed(name: string): Promise<string | undefined> {
    return this.value("SELECT id AS v FROM tenants WHERE rolecall_nocase(name) = rolecall_nocase($1)", [
      name,
    ]);
  }

  licensePools(tenantId: string): Promise<{ licenseId: string; seats: number }[]> {
    return this.rows(
      `SELECT license_id AS "licenseId", seats FROM license_pools WHERE tenant_id = $1
       ORDER BY license_id COLLATE "C"`,
      [tenantId],
    );
  }

  poolSeats(tenantId: string, licenseId: string): Promise<number | undefined> {
    return this.value("SELECT seats AS v FROM license_pools WHERE tenant_id = $1 AND license_id = $2", [
      tenantId,
      licenseId,
    ]);
  }

  async licenseUsed(tenantId: string, licenseId: string): Promise<number> {
    return (await this.value<number>(
      `SELECT COUNT(DISTINCT u.id) AS v FROM users u
         JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id
         JOIN role_licenses rl ON rl.tenant_id = ur.tenant_id AND rl.role_id = ur.role_id
       WHERE u.tenant_id = $1 AND u.active = 1 AND rl.license_id = $2`,
      [tenantId, licenseId],
    ))!;
  }

  async userCount(tenantId: string): Promise<number> {
    return (await this.value<number>("SELECT COUNT(*) AS v FROM users WHERE tenant_id = $1", [tenantId]))!;
  }

  async roleCount(tenantId: string): Promise<number> {
    return (await this.value<number>("SELECT COUNT(*) AS v FROM roles WHERE tenant_id = $1", [tenantId]))!;
  }

  async role(tenantId: string, roleId: string): Promise<RoleRow | undefined> {
    const row = (
      await this.rows<Omit<StoredRole, "tenant_id">>(
        `SELECT ${ROLE_COLUMNS} FROM roles WHERE tenant_id = $1 AND id = $2`,
        [tenantId, roleId],
      )
    )[0];
    return row === undefined ? undefined : toRoleRow(row);
  }

  async roles(tenantId: string): Promise<RoleRow[]> {
    const rows = await this.rows<Omit<StoredRole, "tenant_id">>(
      `SELECT ${ROLE_COLUMNS} FROM roles WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );
    return rows.map(toRoleRow);
  }

  roleNamed(tenantId: string, name: string): Promise<string | undefined> {
    return this.value(
      "SELECT id AS v FROM roles WHERE tenant_id = $1 AND rolecall_nocase(name) = rolecall_nocase($2)",
      [tenantId, name],
    );
  }

  grants(tenantId: string, roleId: string): Promise<string[]> {
    return this.column(
      "SELECT permission_key AS v FROM role_grants WHERE tenant_id = $1 AND role_id = $2 ORDER BY seq",
      [tenantId, roleId],
    );
  }

  roleLicenses(tenantId: string, roleId: string): Promise<string[]> {
    return this.column(
      "SELECT license_id AS v FROM role_licenses WHERE tenant_id = $1 AND role_id = $2 ORDER BY seq",
      [tenantId, roleId],
    );
  }

  async holderCount(tenantId: string, roleId: string): Promise<number> {
    return (await this.value<number>(
      "SELECT COUNT(*) AS v FROM user_roles WHERE tenant_id = $1 AND role_id = $2",
      [tenantId, roleId],
    ))!;
  }

  async user(tenantId: string, userId: string): Promise<UserRow | undefined> {
    const row = (
      await this.rows<{ id: string; display_name: string; active: number }>(
        "SELECT id, display_name, active FROM users WHERE tenant_id = $1 AND id = $2",
        [tenantId, userId],
      )
    )[0];
    return row === undefined
      ? undefined
      : { id: row.id, displayName: row.display_name, active: row.active === 1 };
  }

  userIds(tenantId: string): Promise<string[]> {
    return this.column('SELECT id AS v FROM users WHERE tenant_id = $1 ORDER BY id COLLATE "C"', [tenantId]);
  }

  userRoles(tenantId: string, userId: string): Promise<string[]> {
    return this.column(
      "SELECT role_id AS v FROM user_roles WHERE tenant_id = $1 AND user_id = $2 ORDER BY seq",
      [tenantId, userId],
    );
  }

  async apps(tenantId: string): Promise<AppRegistration[]> {
    const rows = await this.rows<RawApp>(
      `SELECT app_id, name, base_url, url_patterns, selector_overrides, subject_source
       FROM app_registrations WHERE tenant_id = $1 ORDER BY app_id COLLATE "C"`,
      [tenantId],
    );
    return rows.map(toApp);
  }

  auditPage(tenantId: string | null, beforeId: number, limit: number): Promise<AuditRow[]> {
    return this.rows<AuditRow>(
      `SELECT id, time, actor, tenant_id AS "tenantId", operation, before, after, revision FROM audit_log
       WHERE id < $1 AND ($2::text IS NULL OR tenant_id = $2) ORDER BY id DESC LIMIT $3`,
      [beforeId, tenantId, limit],
    );
  }

  customSystems(tenantId: string): Promise<CustomSystemRow[]> {
    return this.rows<CustomSystemRow>(
      `SELECT system_id AS "systemId", document, created_at AS "createdAt", updated_at AS "updatedAt"
       FROM custom_systems WHERE tenant_id = $1 ORDER BY system_id COLLATE "C"`,
      [tenantId],
    );
  }

  /** As `readPolicySourceForTenants` (read-policy.ts) answers on SQLite, read in this transaction. */
  async policySource(catalog: Catalog, tenantIds: readonly string[]): Promise<PolicySource> {
    const ids = [...tenantIds];
    const meta = await this.meta();
    const tenants = await this.rows<{ id: string; name: string }>(
      'SELECT id, name FROM tenants WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"',
      [ids],
    );
    const where = "WHERE tenant_id = ANY($1::text[])";
    const all = <R extends pg.QueryResultRow>(sql: string) => this.rows<R>(sql, [ids]);
    const collect = createPairCollector();
    const pairs = async (sql: string) =>
      collect((await all<{ t: string; k: string; v: string }>(sql)).map((r) => [r.t, r.k, r.v] as const));
    const policies = assembleTenants({
      tenants,
      systems: groupByTenant(
        await all<{ tenant_id: string; system_id: string }>(
          `SELECT tenant_id, system_id FROM tenant_systems ${where} ORDER BY seq`,
        ),
      ),
      pools: groupByTenant(
        await all<{ tenant_id: string; license_id: string; seats: number }>(
          `SELECT tenant_id, license_id, seats FROM license_pools ${where} ORDER BY tenant_id COLLATE "C", license_id COLLATE "C"`,
        ),
      ),
      userRoles: await pairs(
        `SELECT tenant_id AS t, user_id AS k, role_id AS v FROM user_roles ${where} ORDER BY seq`,
      ),
      grants: await pairs(
        `SELECT tenant_id AS t, role_id AS k, permission_key AS v FROM role_grants ${where} ORDER BY seq`,
      ),
      roleLicenses: await pairs(
        `SELECT tenant_id AS t, role_id AS k, license_id AS v FROM role_licenses ${where} ORDER BY seq`,
      ),
      users: groupByTenant(
        await all<StoredUser>(
          `SELECT tenant_id, id, display_name, active FROM users ${where} ORDER BY tenant_id COLLATE "C", id COLLATE "C"`,
        ),
      ),
      roles: groupByTenant(
        await all<StoredRole>(`SELECT tenant_id, ${ROLE_COLUMNS} FROM roles ${where} ORDER BY seq`),
      ),
      customSystems: groupByTenant(
        await all<StoredCustomSystem>(
          `SELECT tenant_id, system_id, document FROM custom_systems ${where} ORDER BY tenant_id COLLATE "C", system_id COLLATE "C"`,
        ),
      ),
    });
    const found = new Set(policies.map((t) => t.id));
    return {
      databaseId: meta.database_id,
      revision: meta.revision,
      catalog,
      tenants: policies,
      removedTenantIds: [...new Set(tenantIds)].filter((id) => !found.has(id)),
    };
  }

  async insertTenant(tenant: TenantRow, createdAt: string): Promise<void> {
    await this.exec("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)", [
      tenant.id,
      tenant.name,
      createdAt,
    ]);
    if (tenant.systems.length > 0) {
      await this.exec(
        `INSERT INTO tenant_systems (tenant_id, system_id)
         SELECT $1, v FROM unnest($2::text[]) WITH ORDINALITY AS x(v, n) ORDER BY n`,
        [tenant.id, tenant.systems],
      );
    }
    await this.setOwners(tenant.id, tenant.owners);
  }

  async setSeats(tenantId: string, licenseId: string, seats: number): Promise<void> {
    await this.exec(
      `INSERT INTO license_pools (tenant_id, license_id, seats) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, license_id) DO UPDATE SET seats = excluded.seats`,
      [tenantId, licenseId, seats],
    );
  }

  async insertUser(tenantId: string, user: UserRow, createdAt: string): Promise<void> {
    await this.exec(
      "INSERT INTO users (tenant_id, id, display_name, active, created_at) VALUES ($1, $2, $3, $4, $5)",
      [tenantId, user.id, user.displayName, user.active ? 1 : 0, createdAt],
    );
  }

  async setUserActive(tenantId: string, userId: string, active: boolean): Promise<void> {
    await this.exec("UPDATE users SET active = $1 WHERE tenant_id = $2 AND id = $3", [
      active ? 1 : 0,
      tenantId,
      userId,
    ]);
  }

  async insertRole(tenantId: string, role: RoleRow, createdAt: string): Promise<void> {
    await this.exec(
      `INSERT INTO roles (tenant_id, id, name, kind, based_on, default_system, default_role, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        tenantId,
        role.id,
        role.name,
        role.kind,
        role.basedOn,
        role.defaultSystem,
        role.defaultRole,
        createdAt,
      ],
    );
  }

  async renameRole(tenantId: string, roleId: string, name: string): Promise<void> {
    await this.exec("UPDATE roles SET name = $1 WHERE tenant_id = $2 AND id = $3", [name, tenantId, roleId]);
  }

  async deleteRole(tenantId: string, roleId: string): Promise<void> {
    await this.exec("DELETE FROM roles WHERE tenant_id = $1 AND id = $2", [tenantId, roleId]);
  }

  async addGrants(tenantId: string, roleId: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.exec(insertEach("role_grants", "tenant_id, role_id, permission_key"), [
      tenantId,
      roleId,
      keys,
    ]);
  }

  async removeGrants(tenantId: string, roleId: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.exec(
      "DELETE FROM role_grants WHERE tenant_id = $1 AND role_id = $2 AND permission_key = ANY($3::text[])",
      [tenantId, roleId, keys],
    );
  }

  async setRoleLicenses(tenantId: string, roleId: string, licenseIds: readonly string[]): Promise<void> {
    await this.exec("DELETE FROM role_licenses WHERE tenant_id = $1 AND role_id = $2", [tenantId, roleId]);
    if (licenseIds.length === 0) return;
    await this.exec(insertEach("role_licenses", "tenant_id, role_id, license_id"), [
      tenantId,
      roleId,
      licenseIds,
    ]);
  }

  async addUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Promise<void> {
    if (roleIds.length === 0) return;
    await this.exec(insertEach("user_roles", "tenant_id, user_id, role_id"), [tenantId, userId, roleIds]);
  }

  async removeUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Promise<void> {
    if (roleIds.length === 0) return;
    await this.exec(
      "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2 AND role_id = ANY($3::text[])",
      [tenantId, userId, roleIds],
    );
  }

  async putApp(tenantId: string, app: AppRegistration, createdAt: string): Promise<void> {
    await this.exec(
      `INSERT INTO app_registrations (tenant_id, app_id, name, base_url, url_patterns, selector_overrides, subject_source, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, app_id) DO UPDATE SET name = excluded.name, base_url = excluded.base_url,
         url_patterns = excluded.url_patterns, selector_overrides = excluded.selector_overrides,
         subject_source = excluded.subject_source`,
      [
        tenantId,
        app.appId,
        app.name,
        app.baseUrl,
        JSON.stringify(app.pages.map((p) => ({ pattern: p.urlPattern, surfaces: p.surfaceIds }))),
        JSON.stringify(Object.fromEntries(app.selectors.map((s) => [s.surfaceId, s.selector]))),
        JSON.stringify(app.subject),
        createdAt,
      ],
    );
  }

  async putCustomSystem(tenantId: string, systemId: string, document: string, now: string): Promise<void> {
    await this.exec(
      `INSERT INTO custom_systems (tenant_id, system_id, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (tenant_id, system_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
      [tenantId, systemId, document, now],
    );
    await this.exec(
      `INSERT INTO tenant_systems (tenant_id, system_id) VALUES ($1, $2) ON CONFLICT (tenant_id, system_id) DO NOTHING`,
      [tenantId, systemId],
    );
  }

  async deleteCustomSystem(tenantId: string, systemId: string): Promise<void> {
    await this.exec("DELETE FROM custom_systems WHERE tenant_id = $1 AND system_id = $2", [
      tenantId,
      systemId,
    ]);
    await this.exec("DELETE FROM tenant_systems WHERE tenant_id = $1 AND system_id = $2", [
      tenantId,
      systemId,
    ]);
  }

  async deleteApp(tenantId: string, appId: string): Promise<void> {
    await this.exec("DELETE FROM app_registrations WHERE tenant_id = $1 AND app_id = $2", [tenantId, appId]);
  }

  async setOwners(tenantId: string, userIds: readonly string[]): Promise<void> {
    await this.exec("DELETE FROM tenant_owners WHERE tenant_id = $1", [tenantId]);
    if (userIds.length === 0) return;
    await this.exec(
      `INSERT INTO tenant_owners (tenant_id, user_id) SELECT $1, v FROM unnest($2::text[]) AS x(v)
       ON CONFLICT DO NOTHING`,
      [tenantId, userIds],
    );
  }

  async commit(record: CommitRecord): Promise<number> {
    // One round trip: bump, log, audit and notify (delivered by PostgreSQL only after COMMIT).
    const revision = await this.value<number>(
      `WITH bumped AS (UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision),
         logged AS (INSERT INTO change_log (revision, tenant_id, kind, detail)
           SELECT revision, $1, $2, $3 FROM bumped),
         audited AS (INSERT INTO audit_log (time, actor, tenant_id, operation, before, after, revision)
           SELECT $4, $5, $1, $2, $6, $7, revision FROM bumped)
       SELECT revision AS v, pg_notify('${CHANGES_CHANNEL}', revision::text) FROM bumped`,
      [
        record.tenantId,
        record.operation,
        JSON.stringify(record.detail),
        record.time,
        record.actor,
        record.before === null ? null : JSON.stringify(record.before),
        record.after === null ? null : JSON.stringify(record.after),
      ],
    );
    if (revision === undefined) {
      throw new StoreError("FAILED_PRECONDITION", "the policy database has no meta row; it is damaged");
    }
    return revision;
  }
}

/** What the current async context's transaction runs on. */
interface TxScope {
  readonly session: Session;
  readonly tx: PgTx;
  readonly depth: number;
  readonly readOnly: boolean;
}

/** A statement on the current transaction's connection, bounded like every other. */
export type PgQuery = <R extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values?: readonly unknown[],
) => Promise<pg.QueryResult<R>>;

/** A PolicyStore over a PostgreSQL pool it owns (`close()` ends it). */
export class PgPolicyStore implements PolicyStore {
  /** `host:port` of the primary, for messages. */
  readonly address: string;
  private readonly timeoutMs: number;
  private readonly scope = new AsyncLocalStorage<TxScope>();

  constructor(
    readonly pool: pg.Pool,
    options: { readonly address: string; readonly timeoutMs?: number },
  ) {
    this.address = options.address;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  }

  write<T>(body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    return this.transaction(false, body);
  }

  read<T>(body: (tx: PolicyStoreReads) => Promise<T>): Promise<T> {
    return this.transaction(true, body);
  }

  /**
   * Runs `body` with raw SQL in a write transaction (joining the current one), for what the
   * PolicyStore interface does not cover: catalog import, tokens, copying a store.
   */
  writeSql<T>(body: (query: PgQuery) => Promise<T>): Promise<T> {
    return this.write(() => body(this.currentQuery()));
  }

  /** Runs `body` with raw SQL in one consistent read (joining the current transaction). */
  readSql<T>(body: (query: PgQuery) => Promise<T>): Promise<T> {
    return this.read(() => body(this.currentQuery()));
  }

  private currentQuery(): PgQuery {
    const session = this.scope.getStore()!.session;
    return (text, values) => session.query(text, values);
  }

  /** Ends the pool (waits for checked-out connections to come back). */
  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(readOnly: boolean, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const outer = this.scope.getStore();
    if (outer !== undefined) {
      if (outer.readOnly && !readOnly) {
        throw new Error("PgPolicyStore: write() inside read(); start the write first and read inside it");
      }
      return this.nested(outer, body);
    }
    const session = await this.connect();
    let committing = false;
    try {
      if (readOnly) await session.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      else {
        // The write lock, taken first: writers queue here, and every later statement (READ
        // COMMITTED) sees all that the writer before committed.
        const [, locked] = (await session.query(
          "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; SELECT revision FROM meta WHERE id = 1 FOR UPDATE",
        )) as unknown as [pg.QueryResult, pg.QueryResult];
        if (locked.rowCount !== 1) {
          throw new StoreError("FAILED_PRECONDITION", "the policy database has no meta row; it is damaged");
        }
      }
      const tx = new PgTx(session);
      const out = await this.scope.run({ session, tx, depth: 1, readOnly }, () => body(tx));
      committing = true;
      const done = await session.query("COMMIT");
      // COMMIT of a transaction a failed statement aborted answers ROLLBACK rather than failing.
      if (done.command !== "COMMIT") {
        throw new Error(
          "PgPolicyStore: the transaction was aborted by an earlier error; nothing was committed",
        );
      }
      return out;
    } catch (err) {
      if (!session.broken) {
        await session.query("ROLLBACK", undefined, true).catch(() => {
          session.broken = true;
        });
      }
      throw storeErrorFromPg(err, { address: this.address, committing });
    } finally {
      session.release();
    }
  }

  /** A transaction inside a transaction: a savepoint, so the inner one's failure undoes just its own rows. */
  private async nested<T>(outer: TxScope, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const name = `rolecall_${outer.depth}`;
    const { session } = outer;
    try {
      await session.query(`SAVEPOINT ${name}`);
    } catch (err) {
      throw storeErrorFromPg(err, { address: this.address });
    }
    try {
      const out = await this.scope.run({ ...outer, depth: outer.depth + 1 }, () => body(outer.tx));
      await session.query(`RELEASE SAVEPOINT ${name}`);
      return out;
    } catch (err) {
      if (!session.broken) {
        await session
          .query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`, undefined, true)
          .catch(() => {
            session.broken = true;
          });
      }
      throw storeErrorFromPg(err, { address: this.address });
    }
  }

  /** A pooled connection within the store's bound or the caller's deadline. */
  private async connect(): Promise<Session> {
    const deadline = deadlines.getStore();
    const limit = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - Date.now());
    const pending = this.pool.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (limit <= 0) throw new PgTimeoutError("the caller's deadline passed before connecting");
      const client = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PgTimeoutError(`no connection within ${Math.round(limit)} ms`)),
            limit,
          );
        }),
      ]);
      return new Session(client, this.timeoutMs);
    } catch (err) {
      // A connection that arrives after we gave up goes straight back to the pool.
      pending.then(
        (client) => client.release(),
        () => undefined,
      );
      throw storeErrorFromPg(err, { address: this.address });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The pool a store uses: bounded waits everywhere, BIGINT as numbers. */
export function createPgPool(url: string, options: PgPolicyStoreOptions = {}): pg.Pool {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  }
  const max = options.maxConnections ?? DEFAULTS.maxConnections;
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError(`maxConnections must be a positive integer, got ${max}`);
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, parseInt8);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    connectionTimeoutMillis: timeoutMs,
    // The server's own bound, so a statement does not outlive a client that gave up on it.
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout:
      options.idleInTransactionTimeoutMs ?? DEFAULTS.idleInTransactionTimeoutMs,
    application_name: options.applicationName ?? DEFAULTS.applicationName,
    keepAlive: true,
  });
  // An idle connection the server dropped (restart, failover) is removed by the pool; the next
  // transaction opens a new one. Without a listener the event would crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * Opens the PostgreSQL store at `url`: migrates it to the current schema (under an advisory
 * lock), then returns the store, whose `close()` ends its pool.
 */
export async function openPgStore(url: string, options: OpenPgStoreOptions = {}): Promise<PgPolicyStore> {
  const pool = createPgPool(url, options);
  const address = pgAddress(url);
  const store = new PgPolicyStore(pool, {
    address,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  try {
    const client = await pool.connect();
    const onError = (): void => undefined; // reported by the failing query instead
    client.on("error", onError);
    try {
      await migratePg(client, {
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
      });
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw storeErrorFromPg(err, { address });
  }
  return store;
}
