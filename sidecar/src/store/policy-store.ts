/**
 * The narrow interface the admin rules reach persistence through: transactions, rows in, rows
 * out. It knows nothing of the rules (no validation, no "unknown role" errors: a missing row is
 * `undefined`); `admin/` decides. A backend answers either synchronously (SQLite) or with
 * promises (a network database): the rules `await` every call, so one implementation of the rules
 * serves both.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { AppRegistration } from "../apps/app-registry.js";
import type { PolicySource } from "../policy/policy-source.js";

/** A value or a promise of it: SQLite answers at once, a network store later. */
export type Awaitable<T> = T | Promise<T>;

/** A tenant row with its enabled systems (in the order they were enabled) and its owners. */
export interface TenantRow {
  readonly id: string;
  readonly name: string;
  readonly systems: readonly string[];
  /** Users (sorted ids, created or not yet) who may run every admin operation in the tenant. */
  readonly owners: readonly string[];
}

/** A role row. */
export interface RoleRow {
  readonly id: string;
  readonly name: string;
  readonly kind: "default" | "custom";
  readonly basedOn: string | null;
  readonly defaultSystem: string | null;
  readonly defaultRole: string | null;
}

/** A user row without roles. */
export interface UserRow {
  readonly id: string;
  readonly displayName: string;
  readonly active: boolean;
}

/** A user row with the roles they hold. */
export interface UserState extends UserRow {
  readonly roleIds: readonly string[];
}

/** A role with its grants and licenses, as the audit log records it. */
export interface RoleState extends RoleRow {
  readonly grants: readonly string[];
  readonly licenseIds: readonly string[];
}

/** A tenant's own system as stored: the document as put (JSON text, defaults not filled in). */
export interface CustomSystemRow {
  readonly systemId: string;
  readonly document: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One audit row as stored (before/after are JSON text). */
export interface AuditRow {
  readonly id: number;
  readonly time: string;
  readonly actor: string;
  readonly tenantId: string | null;
  readonly operation: string;
  readonly before: string | null;
  readonly after: string | null;
  readonly revision: number;
}

/** What bounds the revisions history can rebuild (see history/history-bounds.ts). */
export interface HistoryBounds {
  /** The revision up to which history was pruned (0: never pruned). */
  readonly prunedThrough: number;
  /** The time history was pruned before (ISO 8601), when it was. */
  readonly prunedBefore: string | undefined;
  /** The last revision that replaced data store-wide (catalog import, restore); 0 when none. */
  readonly lastWholeStoreChange: number;
}

/** What one committing write records besides its rows: the change-log entry and the audit row. */
export interface CommitRecord {
  readonly tenantId: string;
  readonly operation: string;
  /** Change-log detail (which users the write touched, so a sidecar rereads just those). */
  readonly detail: unknown;
  readonly time: string;
  readonly actor: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** The reads a transaction offers. */
export interface PolicyStoreReads {
  revision(): Awaitable<number>;
  databaseId(): Awaitable<string>;
  tenant(tenantId: string): Awaitable<TenantRow | undefined>;
  tenantIds(): Awaitable<string[]>;
  /** The id of the tenant with this name, if any. */
  tenantNamed(name: string): Awaitable<string | undefined>;
  licensePools(tenantId: string): Awaitable<{ licenseId: string; seats: number }[]>;
  /** Seats of a license in the tenant's pool; undefined when it is not in the pool (0 seats is). */
  poolSeats(tenantId: string, licenseId: string): Awaitable<number | undefined>;
  /** Seats used: active users holding at least one role associated with the license. */
  licenseUsed(tenantId: string, licenseId: string): Awaitable<number>;
  userCount(tenantId: string): Awaitable<number>;
  roleCount(tenantId: string): Awaitable<number>;
  role(tenantId: string, roleId: string): Awaitable<RoleRow | undefined>;
  /** Every role of the tenant, in creation order. */
  roles(tenantId: string): Awaitable<RoleRow[]>;
  /** The id of the tenant's role with this name, if any. */
  roleNamed(tenantId: string, name: string): Awaitable<string | undefined>;
  /** The permission keys a role grants, in the order granted. */
  grants(tenantId: string, roleId: string): Awaitable<string[]>;
  /** The license ids a role is associated with, in the order associated. */
  roleLicenses(tenantId: string, roleId: string): Awaitable<string[]>;
  /** How many users (active or not) hold the role. */
  holderCount(tenantId: string, roleId: string): Awaitable<number>;
  user(tenantId: string, userId: string): Awaitable<UserRow | undefined>;
  userIds(tenantId: string): Awaitable<string[]>;
  /** The ids of the roles a user holds, in the order assigned. */
  userRoles(tenantId: string, userId: string): Awaitable<string[]>;
  apps(tenantId: string): Awaitable<AppRegistration[]>;
  /** The tenant's own systems, by id. */
  customSystems(tenantId: string): Awaitable<CustomSystemRow[]>;
  /** Audit rows with id below `beforeId`, newest first, of one tenant or (null) all. */
  auditPage(tenantId: string | null, beforeId: number, limit: number): Awaitable<AuditRow[]>;
  /** What bounds the history kept (history/): the last pruning, and the last whole-store change. */
  historyBounds(): Awaitable<HistoryBounds>;
  /** The revision of the first audited write committed after `time` (ISO 8601), if any. */
  firstRevisionAfter(time: string): Awaitable<number | undefined>;
  /** The policy of the given tenants, as the compiler takes it. */
  policySource(catalog: Catalog, tenantIds: readonly string[]): Awaitable<PolicySource>;
}

/** The writes a transaction offers. Each changes rows only; `commit` records the revision. */
export interface PolicyStoreWrites {
  insertTenant(tenant: TenantRow, createdAt: string): Awaitable<void>;
  /** Sets a license's seats in the tenant's pool (adding it to the pool when absent). */
  setSeats(tenantId: string, licenseId: string, seats: number): Awaitable<void>;
  insertUser(tenantId: string, user: UserRow, createdAt: string): Awaitable<void>;
  setUserActive(tenantId: string, userId: string, active: boolean): Awaitable<void>;
  insertRole(tenantId: string, role: RoleRow, createdAt: string): Awaitable<void>;
  renameRole(tenantId: string, roleId: string, name: string): Awaitable<void>;
  deleteRole(tenantId: string, roleId: string): Awaitable<void>;
  /** Adds grants (those held already are left alone). */
  addGrants(tenantId: string, roleId: string, keys: readonly string[]): Awaitable<void>;
  removeGrants(tenantId: string, roleId: string, keys: readonly string[]): Awaitable<void>;
  /** Replaces the licenses a role is associated with, keeping the order given. */
  setRoleLicenses(tenantId: string, roleId: string, licenseIds: readonly string[]): Awaitable<void>;
  /** Gives roles (those held already are left alone). */
  addUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Awaitable<void>;
  removeUserRoles(tenantId: string, userId: string, roleIds: readonly string[]): Awaitable<void>;
  /** Inserts or replaces an app registration. */
  putApp(tenantId: string, app: AppRegistration, createdAt: string): Awaitable<void>;
  deleteApp(tenantId: string, appId: string): Awaitable<void>;
  /** Inserts or replaces a tenant's own system, and enables it for the tenant (`tenant_systems`). */
  putCustomSystem(tenantId: string, systemId: string, document: string, now: string): Awaitable<void>;
  /** Removes a tenant's own system and disables it. */
  deleteCustomSystem(tenantId: string, systemId: string): Awaitable<void>;
  /** Replaces the tenant's owners (insertTenant records the first ones). */
  setOwners(tenantId: string, userIds: readonly string[]): Awaitable<void>;
  /**
   * Deletes the audit rows up to `throughRevision` and records the pruning as an audit row of its
   * own at that revision, timed `before` (history now starts then); returns how many rows were
   * deleted (none: nothing recorded). Moves no revision: no policy changes.
   */
  pruneAudit(throughRevision: number, before: string, detail: unknown): Awaitable<number>;
  /** Bumps the revision once, appends the change-log and audit rows; returns the new revision. */
  commit(record: CommitRecord): Awaitable<number>;
}

/** One transaction's view of the store. */
export interface PolicyStoreTx extends PolicyStoreReads, PolicyStoreWrites {}

/** A policy store: SQLite today, any backend that can run these transactions. */
export interface PolicyStore {
  /**
   * Runs `body` in one write transaction that holds the store's write lock from its first read,
   * so the checks it makes see what it commits on. A throw rolls everything back. Called inside
   * another write, it joins it (all land, or none).
   */
  write<T>(body: (tx: PolicyStoreTx) => Promise<T>): Promise<T>;
  /** Runs `body` in one consistent read. */
  read<T>(body: (tx: PolicyStoreReads) => Promise<T>): Promise<T>;
}
