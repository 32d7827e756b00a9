/**
 * The PostgreSQL store's transaction: the PolicyStore's rows in and out of one connection, and
 * the commit that bumps the revision, logs the change (with what it touched) and notifies.
 */
import type pg from "pg";
import type { Catalog } from "../../../../catalog/catalog.js";
import type { AppRegistration, SubjectSource } from "../../apps/app-registry.js";
import type { PolicySource } from "../../policy/policy-source.js";
import {
  DROP_PRUNE_MARKS_SQL,
  firstRevisionAfterSql,
  HISTORY_BOUNDS_SQL,
  pruneAuditSql,
  pruneMarkSql,
} from "../history-sql.js";
import type {
  AuditRow,
  CommitRecord,
  CustomSystemRow,
  HistoryBounds,
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
import type { Session } from "./pg-session.js";
import { TouchedRows } from "./touched-rows.js";

/**
 * The channel every commit notifies: the payload is the new revision, or (a write's commit) a
 * JSON array of the database id, the revision and its change-log row (fleet/change-hints.ts).
 */
export const CHANGES_CHANNEL = "rolecall_changes";

/**
 * Longest payload a commit notification carries its change-log row in (`pg_notify` refuses 8,000
 * bytes and more): a longer one sends the revision alone (fleet/change-hints.ts).
 */
export const MAX_HINT_PAYLOAD_BYTES = 7_900;

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
export class PgTx implements PolicyStoreTx {
  /** What the writes since the last commit touched, logged with it for followers. */
  private readonly touched = new TouchedRows();

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

  async historyBounds(): Promise<HistoryBounds> {
    const row = (
      await this.rows<{ pruned: string | number; pruned_before: string | null; whole: string | number }>(
        HISTORY_BOUNDS_SQL,
      )
    )[0];
    return {
      prunedThrough: Number(row?.pruned ?? 0),
      prunedBefore: row?.pruned_before ?? undefined,
      lastWholeStoreChange: Number(row?.whole ?? 0),
    };
  }

  async firstRevisionAfter(time: string): Promise<number | undefined> {
    const v = await this.value<string | number | null>(firstRevisionAfterSql("$1"), [time]);
    return v === null || v === undefined ? undefined : Number(v);
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
    this.touched.tenant(tenant.id);
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
    this.touched.tenant(tenantId);
    await this.exec(
      `INSERT INTO license_pools (tenant_id, license_id, seats) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, license_id) DO UPDATE SET seats = excluded.seats`,
      [tenantId, licenseId, seats],
    );
  }

  async insertUser(tenantId: string, user: UserRow, createdAt: string): Promise<void> {
    this.touched.user(tenantId, user.id);
    await this.exec(
      "INSERT INTO users (tenant_id, id, display_name, active, created_at) VALUES ($1, $2, $3, $4, $5)",
      [tenantId, user.id, user.displayName, user.active ? 1 : 0, createdAt],
    );
  }

  async setUserActive(tenantId: string, userId: string, active: boolean): Promise<void> {
    this.touched.user(tenantId, userId);
    await this.exec("UPDATE users SET active = $1 WHERE tenant_id = $2 AND id = $3", [
      active ? 1 : 0,
      tenantId,
      userId,
    ]);
  }

  async insertRole(tenantId: string, role: RoleRow, createdAt: string): Promise<void> {
    this.touched.role(tenantId, role.id);
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
    this.touched.role(tenantId, roleId);
    await this.exec("UPDATE roles SET name = $1 WHERE tenant_id = $2 AND id = $3", [name, tenantId, roleId]);
  }

  async deleteRole(tenantId: string, roleId: string): Promise<void> {
    this.touched.role(tenantId, roleId);
    await this.exec("DELETE FROM roles WHERE tenant_id = $1 AND id = $2", [tenantId, roleId]);
  }

  async addGrants(tenantId: string, roleId: string, keys: readonly string[]): Promise<void> {
    this.touched.role(tenantId, roleId);
    if (keys.length === 0) return;
    await this.exec(insertEach("role_grants", "tenant_id, role_id, permission_key"), [
      tenantId,
      roleId,
      keys,
    ]);
  }

  async removeGrants(tenantId: string, roleId: string, keys: readonly string[]): Promise<void> {
    this.touched.role(tenantId, roleId);
    if (keys.length === 0) return;
    await this.exec(
      "DELETE FROM role_grants WHERE tenant_id = $1 AND role_id = $2 AND permission_key = ANY($3::text[])",
      [tenantId, roleId, keys],
    );
  }

  async setRoleLicenses(tenantId: string, roleId: string, licenseIds: readonly string[]): Promise<void> {
    this.touched.role(tenantId, roleId);
    await this.exec("DELETE FROM role_licenses WHERE tenant_id = $1 AND role_id = $2", [tenantId, roleId]);
    if (licenseIds.length === 0) return;
    await this.exec(insertEach("role_licenses", "tenant_id, role_id, license_id"), [
      tenantId,
      roleId,
      licenseIds,
    ]);
  }

  async addUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Promise<void> {
    this.touched.user(tenantId, userId);
    if (roleIds.length === 0) return;
    await this.exec(insertEach("user_roles", "tenant_id, user_id, role_id"), [tenantId, userId, roleIds]);
  }

  async removeUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Promise<void> {
    this.touched.user(tenantId, userId);
    if (roleIds.length === 0) return;
    await this.exec(
      "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2 AND role_id = ANY($3::text[])",
      [tenantId, userId, roleIds],
    );
  }

  async putApp(tenantId: string, app: AppRegistration, createdAt: string): Promise<void> {
    this.touched.tenant(tenantId);
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
    this.touched.tenant(tenantId);
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
    this.touched.tenant(tenantId);
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
    this.touched.tenant(tenantId);
    await this.exec("DELETE FROM app_registrations WHERE tenant_id = $1 AND app_id = $2", [tenantId, appId]);
  }

  async setOwners(tenantId: string, userIds: readonly string[]): Promise<void> {
    this.touched.tenant(tenantId);
    await this.exec("DELETE FROM tenant_owners WHERE tenant_id = $1", [tenantId]);
    if (userIds.length === 0) return;
    await this.exec(
      `INSERT INTO tenant_owners (tenant_id, user_id) SELECT $1, v FROM unnest($2::text[]) AS x(v)
       ON CONFLICT DO NOTHING`,
      [tenantId, userIds],
    );
  }

  async pruneAudit(throughRevision: number, time: string, detail: unknown): Promise<number> {
    const deleted = (await this.session.query(pruneAuditSql("$1"), [throughRevision])).rowCount ?? 0;
    if (deleted === 0) return 0;
    await this.exec(DROP_PRUNE_MARKS_SQL);
    await this.exec(pruneMarkSql("$1", "$2", "$3"), [time, JSON.stringify(detail), throughRevision]);
    return deleted;
  }

  async commit(record: CommitRecord): Promise<number> {
    const detail = this.touched.detailFor(record.tenantId, record.detail);
    // One round trip: bump, log, audit and notify (delivered by PostgreSQL only after COMMIT).
    // The notification carries the change-log row when it fits (change-hints.ts): a follower
    // then plans its copy without reading the log first.
    const revision = await this.value<number>(
      `WITH bumped AS (UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision, database_id),
         logged AS (INSERT INTO change_log (revision, tenant_id, kind, detail)
           SELECT revision, $1, $2, $3 FROM bumped),
         audited AS (INSERT INTO audit_log (time, actor, tenant_id, operation, before, after, revision)
           SELECT $4, $5, $1, $2, $6, $7, revision FROM bumped),
         hinted AS (SELECT revision, json_build_array(database_id, revision, $1::text, $2::text, $3::text)::text AS hint
           FROM bumped)
       SELECT revision AS v, pg_notify('${CHANGES_CHANNEL}',
           CASE WHEN octet_length(hint) <= ${MAX_HINT_PAYLOAD_BYTES} THEN hint ELSE revision::text END)
         FROM hinted`,
      [
        record.tenantId,
        record.operation,
        JSON.stringify(detail),
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
