/**
 * What the sync watcher reads: the policy source for the compiler, read in one read transaction
 * so it is exactly one revision, and the change log that says which tenants a new revision touched.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicySource, TenantPolicy } from "../policy/policy-source.js";
import type { Db } from "./database.js";
import { readDatabaseId, readRevision } from "./revision.js";
import { cachedStatement } from "./statement-cache.js";
import {
  assembleTenants,
  createPairCollector,
  groupByTenant,
  type StoredCustomSystem,
  type StoredRole,
  type StoredUser,
} from "./tenant-rows.js";

export { readRevision } from "./revision.js";

/** Which tenants changed after a revision. */
export interface ChangeSet {
  /** The revision read up to. */
  readonly revision: number;
  /** The database id, so a reader notices a restored file. */
  readonly databaseId: string;
  /** `true` when everything must be recompiled (catalog import, restore). */
  readonly all: boolean;
  /** Tenants with changes after the given revision (empty when `all`). */
  readonly tenantIds: readonly string[];
  /**
   * Per changed tenant, the users whose records changed — or null when any of them may have
   * (a tenant created, or a change logged without naming its users).
   */
  readonly changedUsers: ReadonlyMap<string, readonly string[] | null>;
  /**
   * Per changed tenant, the roles whose rows, grants or licenses changed (as the store logged
   * them, `detail.touched.roles`) — or null when any of them may have.
   */
  readonly changedRoles: ReadonlyMap<string, readonly string[] | null>;
}

interface TenantRowRaw {
  id: string;
  name: string;
}

/**
 * Reads tenants (all when `tenantIds` is null). With `userIds`, only those users are read (the
 * tenant's `users` then holds just them): a change to a few users of a large tenant costs little.
 */
function readTenants(
  db: Db,
  tenantIds: readonly string[] | null,
  userIds?: readonly string[],
  roleIds?: readonly string[],
): TenantPolicy[] {
  // Table-wide reads grouped in memory: a few statements however many tenants there are.
  const filter = tenantIds === null ? "" : "WHERE tenant_id IN (SELECT value FROM json_each(?))";
  const args = tenantIds === null ? [] : [JSON.stringify(tenantIds)];
  const usersOnly = (column: string) =>
    userIds === undefined ? "" : `${filter ? "AND" : "WHERE"} ${column} IN (SELECT value FROM json_each(?))`;
  const userArgs = userIds === undefined ? args : [...args, JSON.stringify(userIds)];
  // With `roleIds`, only those roles (and their grants and licenses) are read.
  const rolesOnly = (column: string) =>
    roleIds === undefined ? "" : `${filter ? "AND" : "WHERE"} ${column} IN (SELECT value FROM json_each(?))`;
  const roleArgs = roleIds === undefined ? args : [...args, JSON.stringify(roleIds)];
  const tenantFilter = tenantIds === null ? "" : "WHERE id IN (SELECT value FROM json_each(?))";
  const all = <T>(sql: string, sqlArgs: readonly unknown[] = args): T[] =>
    cachedStatement(db, sql).all(...sqlArgs) as T[];
  const tenants = all<TenantRowRaw>(`SELECT id, name FROM tenants ${tenantFilter} ORDER BY id`);
  const triples = (sql: string, sqlArgs: readonly unknown[] = args) =>
    cachedStatement(db, sql, "raw").iterate(...sqlArgs) as IterableIterator<[string, string, string]>;
  const pairs = createPairCollector();
  return assembleTenants({
    tenants,
    systems: groupByTenant(
      all<{ tenant_id: string; system_id: string }>(
        `SELECT tenant_id, system_id FROM tenant_systems ${filter} ORDER BY rowid`,
      ),
    ),
    pools: groupByTenant(
      all<{ tenant_id: string; license_id: string; seats: number }>(
        `SELECT tenant_id, license_id, seats FROM license_pools ${filter}`,
      ),
    ),
    userRoles: pairs(
      triples(
        `SELECT tenant_id, user_id, role_id FROM user_roles ${filter} ${usersOnly("user_id")} ORDER BY rowid`,
        userArgs,
      ),
    ),
    grants: pairs(
      triples(
        `SELECT tenant_id, role_id, permission_key FROM role_grants ${filter} ${rolesOnly("role_id")} ORDER BY rowid`,
        roleArgs,
      ),
    ),
    roleLicenses: pairs(
      triples(
        `SELECT tenant_id, role_id, license_id FROM role_licenses ${filter} ${rolesOnly("role_id")} ORDER BY rowid`,
        roleArgs,
      ),
    ),
    users: groupByTenant(
      all<StoredUser>(
        `SELECT tenant_id, id, display_name, active FROM users ${filter} ${usersOnly("id")} ORDER BY tenant_id, id`,
        userArgs,
      ),
    ),
    roles: groupByTenant(
      all<StoredRole>(
        `SELECT tenant_id, id, name, kind, based_on, default_system, default_role FROM roles ${filter} ${rolesOnly("id")} ORDER BY rowid`,
        roleArgs,
      ),
    ),
    customSystems: groupByTenant(
      all<StoredCustomSystem>(
        `SELECT tenant_id, system_id, document FROM custom_systems ${filter} ORDER BY tenant_id, system_id`,
      ),
    ),
  });
}

/** The whole policy at one revision, read in one read transaction. */
export function readPolicySource(db: Db, catalog: Catalog): PolicySource {
  return db
    .transaction(
      (): PolicySource => ({
        databaseId: readDatabaseId(db),
        revision: readRevision(db),
        catalog,
        tenants: readTenants(db, null),
      }),
    )
    .deferred();
}

/**
 * The policy of some tenants only (for an incremental compile), at one revision. An asked-for id
 * with no tenant (gone after a restore) is listed in `removedTenantIds`.
 */
export function readPolicySourceForTenants(
  db: Db,
  catalog: Catalog,
  tenantIds: readonly string[],
): PolicySource {
  return db
    .transaction((): PolicySource => {
      const tenants = readTenants(db, tenantIds);
      const found = new Set(tenants.map((t) => t.id));
      return {
        databaseId: readDatabaseId(db),
        revision: readRevision(db),
        catalog,
        tenants,
        removedTenantIds: [...new Set(tenantIds)].filter((id) => !found.has(id)),
      };
    })
    .deferred();
}

/**
 * Some tenants with only some of their users (for a sync that keeps the rest): per tenant id, the
 * users to read. Read in the caller's transaction.
 */
export function readTenantsWithUsers(
  db: Db,
  userIds: ReadonlyMap<string, readonly string[]>,
): TenantPolicy[] {
  return [...userIds].flatMap(([tenantId, users]) => readTenants(db, [tenantId], users));
}

/**
 * One tenant with only the users in `userIds` and the roles in `roleIds` (its own rows whole: they
 * are few), for a sync that keeps the rest. Read in the caller's transaction; undefined when the
 * store has no such tenant.
 */
export function readTenantPart(
  db: Db,
  tenantId: string,
  userIds: readonly string[],
  roleIds: readonly string[],
): TenantPolicy | undefined {
  return readTenants(db, [tenantId], userIds, roleIds)[0];
}

/** A tenant's role ids in the store's order (rowid), the order a full read lists its roles in. */
export function readRoleOrder(db: Db, tenantId: string): string[] {
  return cachedStatement(db, "SELECT id FROM roles WHERE tenant_id = ? ORDER BY rowid", "pluck").all(
    tenantId,
  ) as string[];
}

/** More changed users than this in one tenant and the tenant is read whole. */
const MAX_NAMED_USERS = 1_000;

/** A change-log row as `readChangesSince` reads it. */
interface LoggedChange {
  readonly tenantId: string | null;
  readonly users: string | null;
  readonly touchedUsers: string | null;
  readonly roles: string | null;
}

/**
 * Per tenant, every id the rows list (`ids` of a row: null when it does not say, so any may have
 * changed — the tenant's set is then null too, as it is past `max` ids).
 */
function idsPerTenant(
  rows: readonly LoggedChange[],
  ids: (row: LoggedChange) => readonly string[] | null,
  max = Number.POSITIVE_INFINITY,
): Map<string, Set<string> | null> {
  const out = new Map<string, Set<string> | null>();
  for (const row of rows) {
    const tenantId = row.tenantId!;
    const soFar = out.has(tenantId) ? out.get(tenantId)! : new Set<string>();
    const listed = ids(row);
    if (soFar === null || listed === null) out.set(tenantId, null);
    else {
      for (const id of listed) soFar.add(id);
      // Past this many, reading the tenant whole is as cheap and simpler to merge.
      out.set(tenantId, soFar.size > max ? null : soFar);
    }
  }
  return out;
}

/** The tenants changed after `since`, up to the current revision (read together, in one transaction). */
export function readChangesSince(db: Db, since: number): ChangeSet {
  return db
    .transaction((): ChangeSet => {
      const revision = readRevision(db);
      const databaseId = readDatabaseId(db);
      const rows = cachedStatement(
        db,
        `SELECT tenant_id AS tenantId, json_extract(detail, '$.users') AS users,
             json_extract(detail, '$.touched.users') AS touchedUsers,
             json_extract(detail, '$.touched.roles') AS roles
           FROM change_log WHERE revision > ? AND revision <= ?`,
      ).all(since, revision) as LoggedChange[];
      // A reader ahead of the store (a restored older file) cannot trust the log: recompile everything.
      const all = since > revision || rows.some((r) => r.tenantId === null);
      const list = (json: string | null): string[] => (json === null ? [] : (JSON.parse(json) as string[]));
      // The users the write named, and any its transaction recorded writing (a superset is harmless).
      const named = all
        ? new Map()
        : idsPerTenant(
            rows,
            (r) => (r.users === null ? null : [...list(r.users), ...list(r.touchedUsers)]),
            MAX_NAMED_USERS,
          );
      const roles = all ? new Map() : idsPerTenant(rows, (r) => (r.roles === null ? null : list(r.roles)));
      const changedUsers = new Map<string, string[] | null>(
        [...named].map(([id, users]) => [id, users && [...users]] as const),
      );
      const changedRoles = new Map<string, string[] | null>(
        [...roles].map(([id, set]) => [id, set && [...set]] as const),
      );
      return { revision, databaseId, all, tenantIds: [...named.keys()].sort(), changedUsers, changedRoles };
    })
    .deferred();
}
