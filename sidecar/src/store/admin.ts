/**
 * The admin operations behind AdminService and the CLI. Each write is one IMMEDIATE transaction
 * that authorizes the actor, validates everything, applies the change, checks the admin rules of
 * the five systems, bumps the revision once and appends change-log and audit rows; any failure
 * rolls the whole write back. A write that changes nothing commits nothing.
 */
import { isDeepStrictEqual } from "node:util";
import type { Catalog } from "../../../catalog/catalog.js";
import { didYouMean } from "../../../catalog/closest-key.js";
import { slugify } from "../../../catalog/schema.js";
import type { AppRegistration } from "../apps/app-registry.js";
import { checkAppRegistration } from "./app-validation.js";
import { authorizeAdmin, type HoldsFn, type Principal, principalLabel } from "./authorize.js";
import { createCurrentHolds } from "./current-holds.js";
import type { Db } from "./database.js";
import { cascadeRevoke, closeGrants, findDependents } from "./grant-closure.js";
import { readAppRegistrations } from "./read-directory.js";
import { appendChange, bumpRevision, readRevision } from "./revision.js";
import { StoreError } from "./store-error.js";
import {
  type RoleRow,
  type RoleState,
  StoreQueries,
  type TenantRow,
  type UserState,
} from "./store-queries.js";
import { checkId, checkIdList, checkName, checkSeats } from "./validate.js";

/** Options of `PolicyAdmin`. */
export interface PolicyAdminOptions {
  /** Returns the current time, recorded in audit rows and creation times. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Decides whether an acting user holds a role-administration permission. Default: `createCurrentHolds(db, catalog)`, the store as it is now. */
  readonly holds?: HoldsFn;
  /** Systems whose permissions a role may only grant while associated with one of the system's licenses. Default `["calabrio-one"]`. */
  readonly licenseBoundSystems?: readonly string[];
}

const DEFAULTS = Object.freeze({ licenseBoundSystems: ["calabrio-one"] as readonly string[] });

/**
 * Every write's answer carries the revision it committed — or, for a write that changed nothing
 * (granting what the role already holds), the current revision: nothing is committed or audited.
 */
export interface WriteResult {
  readonly revision: number;
}

/** A tenant as ListTenants shows it. */
export interface TenantSummary {
  readonly id: string;
  readonly name: string;
  readonly systems: readonly string[];
  readonly licenseSeats: readonly { readonly licenseId: string; readonly seats: number }[];
  readonly userCount: number;
  readonly roleCount: number;
}

/** A role as ListRoles shows it. */
export interface RoleSummary extends RoleState {
  readonly holderCount: number;
}

/** One audit row. */
export interface AuditEvent {
  readonly id: number;
  readonly time: string;
  readonly actor: string;
  readonly tenantId: string | null;
  readonly operation: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly revision: number;
}

interface WriteBody<T> {
  readonly result: T;
  readonly before: unknown;
  readonly after: unknown;
  /**
   * The users whose records (name, active flag, roles) the write changed: a sidecar rereads just
   * those, not the whole tenant. Omitted when any of the tenant's users may have changed.
   */
  readonly users?: readonly string[];
}

/** Admin writes and reads over one read-write connection. */
export class PolicyAdmin {
  private readonly q: StoreQueries;
  private readonly clock: () => Date;
  private readonly holds: HoldsFn;
  private readonly licenseBound: ReadonlySet<string>;

  constructor(
    private readonly db: Db,
    private readonly catalog: Catalog,
    options: PolicyAdminOptions = {},
  ) {
    this.q = new StoreQueries(db);
    this.clock = options.clock ?? (() => new Date());
    this.holds = options.holds ?? createCurrentHolds(db, catalog);
    this.licenseBound = new Set(options.licenseBoundSystems ?? DEFAULTS.licenseBoundSystems);
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Creates a tenant with the default roles of each enabled system (bootstrap principal only). */
  createTenant(
    actor: Principal,
    req: {
      readonly tenantId?: string;
      readonly name: string;
      readonly systems: readonly string[];
      readonly licenseSeats?: Readonly<Record<string, number>>;
    },
  ): WriteResult & { readonly tenantId: string; readonly roleIds: readonly string[] } {
    const name = checkName("name", req.name);
    const tenantId = checkId("tenant_id", req.tenantId ?? slugify(name));
    return this.write(actor, "CreateTenant", tenantId, () => {
      if (actor.kind !== "bootstrap") {
        throw new StoreError(
          "PERMISSION_DENIED",
          `${principalLabel(actor)} may not create tenants (bootstrap only)`,
        );
      }
      const systems = checkIdList("systems", req.systems, false);
      for (const [i, s] of systems.entries()) this.checkSystem(`systems[${i}]`, s);
      if (this.q.tenantExists(tenantId)) {
        throw new StoreError("ALREADY_EXISTS", `tenant '${tenantId}' already exists`, { field: "tenant_id" });
      }
      const named = this.q.tenantNamed(name);
      if (named !== undefined) {
        throw new StoreError("ALREADY_EXISTS", `tenant '${named}' is already named '${name}'`, {
          field: "name",
        });
      }
      const seats = Object.entries(req.licenseSeats ?? {}).map(([licenseId, n]) => {
        const field = `license_seats[${licenseId}]`;
        this.checkLicense(field, licenseId, systems);
        return [licenseId, checkSeats(field, n)] as const;
      });
      const now = this.clock().toISOString();
      this.db.prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)").run(tenantId, name, now);
      const addSystem = this.db.prepare("INSERT INTO tenant_systems (tenant_id, system_id) VALUES (?, ?)");
      for (const s of systems) addSystem.run(tenantId, s);
      const addSeats = this.db.prepare(
        "INSERT INTO license_pools (tenant_id, license_id, seats) VALUES (?, ?, ?)",
      );
      for (const [licenseId, n] of seats) addSeats.run(tenantId, licenseId, n);
      const roleIds = this.createDefaultRoles(tenantId, systems, now);
      return {
        result: { tenantId, roleIds },
        before: null,
        after: { id: tenantId, name, systems, licenseSeats: Object.fromEntries(seats), roleIds },
      };
    });
  }

  /** Creates a user (active unless said otherwise) holding no role. */
  createUser(
    actor: Principal,
    req: {
      readonly tenantId: string;
      readonly userId: string;
      readonly displayName: string;
      readonly active?: boolean;
    },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    const displayName = checkName("display_name", req.displayName);
    return this.write(actor, "CreateUser", tenantId, () => {
      this.authorize(actor, this.q.tenant(tenantId), []);
      const exists = this.db
        .prepare("SELECT 1 FROM users WHERE tenant_id = ? AND id = ?")
        .get(tenantId, userId);
      if (exists !== undefined) {
        throw new StoreError("ALREADY_EXISTS", `user '${userId}' already exists in tenant '${tenantId}'`, {
          field: "user_id",
        });
      }
      const active = req.active ?? true;
      this.db
        .prepare("INSERT INTO users (tenant_id, id, display_name, active, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(tenantId, userId, displayName, active ? 1 : 0, this.clock().toISOString());
      return { users: [userId], result: {}, before: null, after: this.q.user(tenantId, userId) };
    });
  }

  /** Activates or deactivates a user; activating takes a seat of each license their roles carry. */
  setUserActive(
    actor: Principal,
    req: { readonly tenantId: string; readonly userId: string; readonly active: boolean },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    if (typeof req.active !== "boolean") {
      throw new StoreError("INVALID_ARGUMENT", "active must be true or false", { field: "active" });
    }
    return this.write(actor, "SetUserActive", tenantId, () => {
      this.authorize(actor, this.q.tenant(tenantId), []);
      const before = this.q.user(tenantId, userId);
      const licenses = this.licensesOfRoles(tenantId, before.roleIds);
      const usage = this.usage(tenantId, licenses);
      this.db
        .prepare("UPDATE users SET active = ? WHERE tenant_id = ? AND id = ?")
        .run(req.active ? 1 : 0, tenantId, userId);
      this.checkSeatsNotExceeded(tenantId, usage, `activating user '${userId}'`, "active");
      return { users: [userId], result: {}, before, after: this.q.user(tenantId, userId) };
    });
  }

  /** Creates a custom role, optionally as a copy of another role's grants and licenses. */
  createRole(
    actor: Principal,
    req: {
      readonly tenantId: string;
      readonly name: string;
      readonly basedOnRoleId?: string;
      readonly licenseIds?: readonly string[];
    },
  ): WriteResult & { readonly roleId: string } {
    const tenantId = checkId("tenant_id", req.tenantId);
    const name = checkName("name", req.name);
    const basedOnId =
      req.basedOnRoleId === undefined ? undefined : checkId("based_on_role_id", req.basedOnRoleId);
    const licenseIds =
      req.licenseIds === undefined ? undefined : checkIdList("license_ids", req.licenseIds, true);
    return this.write(actor, "CreateRole", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      const basedOn = basedOnId === undefined ? undefined : this.q.roleState(tenantId, basedOnId);
      const licenses = licenseIds ?? basedOn?.licenseIds ?? [];
      for (const [i, l] of licenses.entries()) this.checkLicense(`license_ids[${i}]`, l, tenant.systems);
      this.authorize(actor, tenant, this.systemsOf(basedOn?.grants ?? [], licenses));
      this.checkRoleNameFree(tenantId, name, null);
      const roleId = this.freeRoleId(tenantId, slugify(name) || "role");
      this.db
        .prepare(
          "INSERT INTO roles (tenant_id, id, name, kind, based_on, created_at) VALUES (?, ?, ?, 'custom', ?, ?)",
        )
        .run(tenantId, roleId, name, basedOn?.id ?? null, this.clock().toISOString());
      this.insertGrants(tenantId, roleId, basedOn?.grants ?? []);
      this.insertLicenses(tenantId, roleId, licenses);
      this.checkLicenseBound(tenantId, roleId);
      return { users: [], result: { roleId }, before: null, after: this.q.roleState(tenantId, roleId) };
    });
  }

  /** Renames a role (default roles too). */
  renameRole(
    actor: Principal,
    req: { readonly tenantId: string; readonly roleId: string; readonly name: string },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const name = checkName("name", req.name);
    return this.write(actor, "RenameRole", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      const before = this.q.roleState(tenantId, roleId);
      this.authorize(actor, tenant, this.systemsOf(before.grants, before.licenseIds));
      this.checkRoleNameFree(tenantId, name, roleId);
      this.db.prepare("UPDATE roles SET name = ? WHERE tenant_id = ? AND id = ?").run(name, tenantId, roleId);
      return { users: [], result: {}, before, after: this.q.roleState(tenantId, roleId) };
    });
  }

  /** Deletes a custom role no user holds. */
  deleteRole(actor: Principal, req: { readonly tenantId: string; readonly roleId: string }): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    return this.write(actor, "DeleteRole", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      const before = this.q.roleState(tenantId, roleId);
      this.authorize(actor, tenant, this.systemsOf(before.grants, before.licenseIds));
      if (before.kind === "default") {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `role '${roleId}' is a default role of ${before.defaultSystem} and cannot be deleted (it can be renamed)`,
          { field: "role_id" },
        );
      }
      const holders = this.q.holderCount(tenantId, roleId);
      if (holders > 0) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `role '${roleId}' is held by ${holders} user${holders === 1 ? "" : "s"}; unassign it from them before deleting it`,
          { field: "role_id" },
        );
      }
      this.db.prepare("DELETE FROM roles WHERE tenant_id = ? AND id = ?").run(tenantId, roleId);
      return { users: [], result: {}, before, after: null };
    });
  }

  /** Grants permissions to a role, with what they require and imply; returns what was added beyond the request. */
  grantPermissions(
    actor: Principal,
    req: { readonly tenantId: string; readonly roleId: string; readonly permissions: readonly string[] },
  ): WriteResult & { readonly granted: readonly string[]; readonly autoGranted: readonly string[] } {
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const keys = checkIdList("permissions", req.permissions, false);
    return this.write(actor, "GrantPermissions", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      for (const [i, k] of keys.entries()) this.checkPermission(`permissions[${i}]`, k, tenant.systems);
      const before = this.q.roleState(tenantId, roleId);
      const added = closeGrants(this.catalog, new Set(before.grants), keys);
      this.authorize(actor, tenant, this.systemsOf([...keys, ...added], []));
      this.insertGrants(tenantId, roleId, added);
      this.checkLicenseBound(tenantId, roleId);
      const requested = new Set(keys);
      return {
        users: [],
        result: { granted: added, autoGranted: added.filter((k) => !requested.has(k)) },
        before,
        after: this.q.roleState(tenantId, roleId),
      };
    });
  }

  /** Revokes permissions from a role; fails while other grants depend on them unless `cascade`. */
  revokePermissions(
    actor: Principal,
    req: {
      readonly tenantId: string;
      readonly roleId: string;
      readonly permissions: readonly string[];
      readonly cascade?: boolean;
    },
  ): WriteResult & { readonly revoked: readonly string[] } {
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const keys = checkIdList("permissions", req.permissions, false);
    return this.write(actor, "RevokePermissions", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      const before = this.q.roleState(tenantId, roleId);
      const held = new Set(before.grants);
      // A key the catalog no longer has can still be revoked when the role holds it.
      for (const [i, k] of keys.entries())
        if (!held.has(k)) this.checkPermission(`permissions[${i}]`, k, null);
      const requested = new Set(keys.filter((k) => held.has(k)));
      let removing: Set<string>;
      if (req.cascade === true) {
        removing = cascadeRevoke(this.catalog, held, requested);
      } else {
        const dependents = findDependents(this.catalog, held, requested);
        if (dependents.size > 0) {
          const list = [...dependents].map(([k, needs]) => `${k} (needs ${needs.join(", ")})`).join("; ");
          throw new StoreError(
            "FAILED_PRECONDITION",
            `cannot revoke from role '${roleId}': still required by ${list}; revoke those too or set cascade`,
            { field: "permissions" },
          );
        }
        removing = requested;
      }
      this.authorize(actor, tenant, this.systemsOf([...removing], []));
      if (before.kind === "default") {
        const required = this.defaultRoleRequired(before).filter((k) => removing.has(k));
        if (required.length > 0) {
          throw new StoreError(
            "FAILED_PRECONDITION",
            `default role '${roleId}' must keep ${required.join(", ")}; it cannot be revoked`,
            { field: "permissions" },
          );
        }
      }
      const revoked = before.grants.filter((k) => removing.has(k));
      const del = this.db.prepare(
        "DELETE FROM role_grants WHERE tenant_id = ? AND role_id = ? AND permission_key = ?",
      );
      for (const k of revoked) del.run(tenantId, roleId, k);
      return { users: [], result: { revoked }, before, after: this.q.roleState(tenantId, roleId) };
    });
  }

  /** Replaces the licenses a role is associated with. */
  setRoleLicenses(
    actor: Principal,
    req: { readonly tenantId: string; readonly roleId: string; readonly licenseIds: readonly string[] },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const licenseIds = checkIdList("license_ids", req.licenseIds, true);
    return this.write(actor, "SetRoleLicenses", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      for (const [i, l] of licenseIds.entries()) this.checkLicense(`license_ids[${i}]`, l, tenant.systems);
      const before = this.q.roleState(tenantId, roleId);
      const changed = [
        ...licenseIds.filter((l) => !before.licenseIds.includes(l)),
        ...before.licenseIds.filter((l) => !licenseIds.includes(l)),
      ];
      this.authorize(actor, tenant, this.systemsOf([], changed));
      // The same list in the same order: rewriting the rows would change the file for nothing.
      if (isDeepStrictEqual(licenseIds, before.licenseIds))
        return { users: [], result: {}, before, after: before };
      const usage = this.usage(tenantId, licenseIds);
      this.db.prepare("DELETE FROM role_licenses WHERE tenant_id = ? AND role_id = ?").run(tenantId, roleId);
      this.insertLicenses(tenantId, roleId, licenseIds);
      this.checkSeatsNotExceeded(tenantId, usage, `associating role '${roleId}' with it`, "license_ids");
      this.checkLicenseBound(tenantId, roleId);
      return { users: [], result: {}, before, after: this.q.roleState(tenantId, roleId) };
    });
  }

  /** Sets how many seats of a license the tenant has; never below the seats in use. */
  setLicenseSeats(
    actor: Principal,
    req: { readonly tenantId: string; readonly licenseId: string; readonly seats: number },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const licenseId = checkId("license_id", req.licenseId);
    const seats = checkSeats("seats", req.seats);
    return this.write(actor, "SetLicenseSeats", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      this.checkLicense("license_id", licenseId, tenant.systems);
      this.authorize(actor, tenant, this.systemsOf([], [licenseId]));
      // Not in the pool (null) differs from 0 seats: a tenant with 0 seats "has" the license.
      const before = this.q.poolSeats(tenantId, licenseId) ?? null;
      const used = this.q.licenseUsed(tenantId, licenseId);
      if (seats < used) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `license '${licenseId}' is used by ${used} active user${used === 1 ? "" : "s"}; cannot lower its seats to ${seats} (deactivate or unassign users first)`,
          { field: "seats" },
        );
      }
      this.db
        .prepare(
          `INSERT INTO license_pools (tenant_id, license_id, seats) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, license_id) DO UPDATE SET seats = excluded.seats`,
        )
        .run(tenantId, licenseId, seats);
      return { users: [], result: {}, before: { licenseId, seats: before }, after: { licenseId, seats } };
    });
  }

  /** Gives a user roles; fails when a license they carry has no free seat. */
  assignRoles(
    actor: Principal,
    req: { readonly tenantId: string; readonly userId: string; readonly roleIds: readonly string[] },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    const roleIds = checkIdList("role_ids", req.roleIds, false);
    return this.write(actor, "AssignRoles", tenantId, () => {
      this.q.tenant(tenantId); // an unknown tenant is named before an unknown user
      const before = this.q.user(tenantId, userId);
      this.authorizeRoleChange(actor, tenantId, roleIds);
      const usage = this.usage(tenantId, this.licensesOfRoles(tenantId, roleIds));
      const insert = this.db.prepare(
        "INSERT OR IGNORE INTO user_roles (tenant_id, user_id, role_id) VALUES (?, ?, ?)",
      );
      for (const r of roleIds) insert.run(tenantId, userId, r);
      this.checkSeatsNotExceeded(tenantId, usage, `assigning user '${userId}'`, "role_ids");
      return { users: [userId], result: {}, before, after: this.q.user(tenantId, userId) };
    });
  }

  /** Takes roles away from a user (roles they do not hold are ignored). */
  unassignRoles(
    actor: Principal,
    req: { readonly tenantId: string; readonly userId: string; readonly roleIds: readonly string[] },
  ): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    const roleIds = checkIdList("role_ids", req.roleIds, false);
    return this.write(actor, "UnassignRoles", tenantId, () => {
      this.q.tenant(tenantId); // an unknown tenant is named before an unknown user
      const before = this.q.user(tenantId, userId);
      this.authorizeRoleChange(actor, tenantId, roleIds);
      const del = this.db.prepare(
        "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ? AND role_id = ?",
      );
      for (const r of roleIds) del.run(tenantId, userId, r);
      return { users: [userId], result: {}, before, after: this.q.user(tenantId, userId) };
    });
  }

  /** Runs several writes as one commit (each still bumps the revision): all of them land, or none. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Registers or replaces an application of a tenant (URL patterns → surfaces) for the browser extension. */
  putApp(actor: Principal, req: { readonly tenantId: string; readonly app: AppRegistration }): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    return this.write(actor, "PutApp", tenantId, () => {
      const tenant = this.q.tenant(tenantId);
      this.authorize(actor, tenant, []);
      const app = checkAppRegistration(this.catalog, tenant.systems, req.app);
      const before = this.listAppsOf(tenantId).find((a) => a.appId === app.appId) ?? null;
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
          this.clock().toISOString(),
        );
      return { users: [], result: {}, before, after: app };
    });
  }

  /** Removes a registered application. */
  deleteApp(actor: Principal, req: { readonly tenantId: string; readonly appId: string }): WriteResult {
    const tenantId = checkId("tenant_id", req.tenantId);
    const appId = checkId("app_id", req.appId);
    return this.write(actor, "DeleteApp", tenantId, () => {
      this.authorize(actor, this.q.tenant(tenantId), []);
      const before = this.listAppsOf(tenantId).find((a) => a.appId === appId);
      if (!before) {
        throw new StoreError("NOT_FOUND", `unknown app '${appId}' in tenant '${tenantId}'`, {
          field: "app_id",
        });
      }
      this.db
        .prepare("DELETE FROM app_registrations WHERE tenant_id = ? AND app_id = ?")
        .run(tenantId, appId);
      return { users: [], result: {}, before, after: null };
    });
  }

  // ---- reads --------------------------------------------------------------------------------

  /** The applications registered for a tenant. */
  listApps(actor: Principal, req: { readonly tenantId: string }): AppRegistration[] {
    return this.read(() => {
      this.authorize(actor, this.q.tenant(req.tenantId), []);
      return this.listAppsOf(req.tenantId);
    });
  }

  private listAppsOf(tenantId: string): AppRegistration[] {
    return readAppRegistrations(this.db).get(tenantId) ?? [];
  }

  /** The tenants the actor may administer (all of them for the bootstrap principal). */
  listTenants(actor: Principal): TenantSummary[] {
    return this.read(() => {
      const ids = this.db.prepare("SELECT id FROM tenants ORDER BY id").pluck().all() as string[];
      const visible = actor.kind === "bootstrap" ? ids : ids.filter((id) => id === actor.tenantId);
      return visible.map((id) => {
        const tenant = this.q.tenant(id);
        // A user who may not administer their own tenant is refused, not shown an empty list.
        this.authorize(actor, tenant, []);
        const seats = this.db
          .prepare(
            "SELECT license_id AS licenseId, seats FROM license_pools WHERE tenant_id = ? ORDER BY license_id",
          )
          .all(id) as { licenseId: string; seats: number }[];
        const count = (table: string): number =>
          this.db.prepare(`SELECT COUNT(*) FROM ${table} WHERE tenant_id = ?`).pluck().get(id) as number;
        return { ...tenant, licenseSeats: seats, userCount: count("users"), roleCount: count("roles") };
      });
    });
  }

  /** The tenant's users with their roles. */
  listUsers(actor: Principal, req: { readonly tenantId: string }): UserState[] {
    return this.read(() => {
      this.authorize(actor, this.q.tenant(req.tenantId), []);
      const ids = this.db
        .prepare("SELECT id FROM users WHERE tenant_id = ? ORDER BY id")
        .pluck()
        .all(req.tenantId) as string[];
      return ids.map((id) => this.q.user(req.tenantId, id));
    });
  }

  /** The tenant's roles, each with its grants, licenses and holder count. */
  listRoles(actor: Principal, req: { readonly tenantId: string }): RoleSummary[] {
    return this.read(() => {
      this.authorize(actor, this.q.tenant(req.tenantId), []);
      return this.q.roles(req.tenantId).map((r) => ({
        ...this.q.roleState(req.tenantId, r.id),
        holderCount: this.q.holderCount(req.tenantId, r.id),
      }));
    });
  }

  /** Seats used (active users holding a role associated with the license) and seats owned. */
  getLicenseUsage(
    actor: Principal,
    req: { readonly tenantId: string; readonly licenseId: string },
  ): { readonly licenseId: string; readonly used: number; readonly seats: number } {
    return this.read(() => {
      const tenant = this.q.tenant(req.tenantId);
      this.checkLicense("license_id", req.licenseId, null);
      this.authorize(actor, tenant, []);
      return {
        licenseId: req.licenseId,
        used: this.q.licenseUsed(req.tenantId, req.licenseId),
        seats: this.q.licenseSeats(req.tenantId, req.licenseId),
      };
    });
  }

  /** Audit events, newest first, a page at a time (`pageToken` from the previous page's `nextPageToken`). */
  listAuditEvents(
    actor: Principal,
    req: { readonly tenantId?: string; readonly pageSize?: number; readonly pageToken?: string } = {},
  ): { readonly events: AuditEvent[]; readonly nextPageToken: string } {
    const pageSize = req.pageSize ?? 100;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `page_size must be an integer from 1 to 1000, got ${pageSize}`,
        {
          field: "page_size",
        },
      );
    }
    const before =
      req.pageToken === undefined || req.pageToken === "" ? Number.MAX_SAFE_INTEGER : Number(req.pageToken);
    if (!Number.isSafeInteger(before) || before < 0) {
      throw new StoreError("INVALID_ARGUMENT", "page_token is not one this server handed out", {
        field: "page_token",
      });
    }
    return this.read(() => {
      if (req.tenantId === undefined) {
        if (actor.kind !== "bootstrap") {
          throw new StoreError(
            "PERMISSION_DENIED",
            `${principalLabel(actor)} must name its tenant to list audit events`,
          );
        }
      } else {
        this.authorize(actor, this.q.tenant(req.tenantId), []);
      }
      const rows = this.db
        .prepare(
          `SELECT id, time, actor, tenant_id, operation, before, after, revision FROM audit_log
           WHERE id < ? AND (? IS NULL OR tenant_id = ?) ORDER BY id DESC LIMIT ?`,
        )
        .all(before, req.tenantId ?? null, req.tenantId ?? null, pageSize + 1) as {
        id: number;
        time: string;
        actor: string;
        tenant_id: string | null;
        operation: string;
        before: string | null;
        after: string | null;
        revision: number;
      }[];
      const page = rows.slice(0, pageSize);
      const events = page.map((r) => ({
        id: r.id,
        time: r.time,
        actor: r.actor,
        tenantId: r.tenant_id,
        operation: r.operation,
        before: r.before === null ? null : (JSON.parse(r.before) as unknown),
        after: r.after === null ? null : (JSON.parse(r.after) as unknown),
        revision: r.revision,
      }));
      const last = page[page.length - 1];
      return { events, nextPageToken: rows.length > pageSize && last !== undefined ? String(last.id) : "" };
    });
  }

  // ---- machinery ----------------------------------------------------------------------------

  private write<T extends object>(
    actor: Principal,
    operation: string,
    tenantId: string,
    body: () => WriteBody<T>,
  ): T & WriteResult {
    // IMMEDIATE: take the write lock before reading, so the checks see what the write commits on.
    return this.db
      .transaction((): T & WriteResult => {
        const out = body();
        // A no-op must not bump the revision: every sidecar would recompile the tenant for nothing.
        if (out.before !== null && isDeepStrictEqual(out.before, out.after))
          return { ...out.result, revision: readRevision(this.db) };
        const revision = bumpRevision(this.db);
        appendChange(this.db, revision, tenantId, operation, {
          operation,
          ...(out.users === undefined ? {} : { users: out.users }),
        });
        this.db
          .prepare(
            "INSERT INTO audit_log (time, actor, tenant_id, operation, before, after, revision) VALUES (?, ?, ?, ?, ?, ?, ?)",
          )
          .run(
            this.clock().toISOString(),
            principalLabel(actor),
            tenantId,
            operation,
            out.before === null ? null : JSON.stringify(out.before),
            out.after === null ? null : JSON.stringify(out.after),
            revision,
          );
        return { ...out.result, revision };
      })
      .immediate();
  }

  private read<T>(body: () => T): T {
    return this.db.transaction(body).deferred();
  }

  /** Giving or taking roles needs the right to administer every system those roles touch. */
  private authorizeRoleChange(actor: Principal, tenantId: string, roleIds: readonly string[]): void {
    const roles = roleIds.map((r, i) =>
      this.q.roleState(tenantId, this.q.role(tenantId, r, `role_ids[${i}]`).id),
    );
    this.authorize(
      actor,
      this.q.tenant(tenantId),
      this.systemsOf(
        roles.flatMap((r) => r.grants),
        roles.flatMap((r) => r.licenseIds),
      ),
    );
  }

  private authorize(actor: Principal, tenant: TenantRow, systems: readonly string[]): void {
    authorizeAdmin(this.catalog, this.holds, actor, tenant.id, systems, tenant.systems);
  }

  /** The systems the given permission keys and license ids belong to. */
  private systemsOf(keys: readonly string[], licenseIds: readonly string[]): string[] {
    const systems = new Set<string>();
    for (const k of keys) {
      const p = this.catalog.permissions.get(k);
      if (p !== undefined) systems.add(p.system);
    }
    for (const l of licenseIds) {
      const license = this.catalog.licenses.get(l);
      if (license !== undefined) systems.add(license.system);
    }
    return [...systems];
  }

  private checkSystem(field: string, systemId: string): void {
    if (!this.catalog.systems.some((s) => s.id === systemId)) {
      const ids = this.catalog.systems.map((s) => s.id);
      throw new StoreError("NOT_FOUND", `unknown system '${systemId}'${didYouMean(systemId, ids)}`, {
        field,
      });
    }
  }

  /** NOT_FOUND for a key the catalog lacks; FAILED_PRECONDITION when its system is not enabled (`enabled` null skips that). */
  private checkPermission(field: string, key: string, enabled: readonly string[] | null): void {
    this.checkCatalogRef("permission", this.catalog.permissions, field, key, enabled);
  }

  /** As checkPermission, for a license id. */
  private checkLicense(field: string, licenseId: string, enabled: readonly string[] | null): void {
    this.checkCatalogRef("license", this.catalog.licenses, field, licenseId, enabled);
  }

  private checkCatalogRef(
    kind: string,
    known: ReadonlyMap<string, { readonly system: string }>,
    field: string,
    id: string,
    enabled: readonly string[] | null,
  ): void {
    const entry = known.get(id);
    if (entry === undefined) {
      throw new StoreError("NOT_FOUND", `unknown ${kind} '${id}'${didYouMean(id, known.keys())}`, { field });
    }
    if (enabled !== null && !enabled.includes(entry.system)) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `${kind} '${id}' belongs to ${entry.system}, which the tenant has not enabled`,
        { field },
      );
    }
  }

  private checkRoleNameFree(tenantId: string, name: string, self: string | null): void {
    const holder = this.q.roleNamed(tenantId, name);
    if (holder !== undefined && holder !== self) {
      throw new StoreError(
        "ALREADY_EXISTS",
        `role '${holder}' is already named '${name}' in tenant '${tenantId}'`,
        {
          field: "name",
        },
      );
    }
  }

  /** `base`, or `base-2`, `base-3`... whichever id the tenant does not use yet. */
  private freeRoleId(tenantId: string, base: string): string {
    const taken = this.db.prepare("SELECT 1 FROM roles WHERE tenant_id = ? AND id = ?");
    let id = base.slice(0, 190);
    for (let n = 2; taken.get(tenantId, id) !== undefined; n++) id = `${base.slice(0, 190)}-${n}`;
    return id;
  }

  private insertGrants(tenantId: string, roleId: string, keys: readonly string[]): void {
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO role_grants (tenant_id, role_id, permission_key) VALUES (?, ?, ?)",
    );
    for (const k of keys) insert.run(tenantId, roleId, k);
  }

  private insertLicenses(tenantId: string, roleId: string, licenseIds: readonly string[]): void {
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO role_licenses (tenant_id, role_id, license_id) VALUES (?, ?, ?)",
    );
    for (const l of licenseIds) insert.run(tenantId, roleId, l);
  }

  private createDefaultRoles(tenantId: string, systems: readonly string[], now: string): string[] {
    const defaults = this.catalog.systems
      .filter((s) => systems.includes(s.id))
      .flatMap((s) => s.defaultRoles.map((r) => ({ system: s, role: r })));
    const nameCount = new Map<string, number>();
    for (const { role } of defaults)
      nameCount.set(role.name.toLowerCase(), (nameCount.get(role.name.toLowerCase()) ?? 0) + 1);
    const insert = this.db.prepare(
      `INSERT INTO roles (tenant_id, id, name, kind, based_on, default_system, default_role, created_at)
       VALUES (?, ?, ?, 'default', NULL, ?, ?, ?)`,
    );
    return defaults.map(({ system, role }) => {
      const roleId = `${system.id}.${role.id}`;
      // Two systems may both have an "Administrator"; the system name tells them apart.
      const name =
        (nameCount.get(role.name.toLowerCase()) ?? 0) > 1 ? `${role.name} (${system.name})` : role.name;
      insert.run(tenantId, roleId, name, system.id, role.id, now);
      // Closed under requirements and implications, like any role the admin writes produce.
      this.insertGrants(tenantId, roleId, closeGrants(this.catalog, new Set(), role.grants));
      this.insertLicenses(tenantId, roleId, role.licenses);
      return roleId;
    });
  }

  private defaultRoleRequired(role: RoleRow): readonly string[] {
    const system = this.catalog.systems.find((s) => s.id === role.defaultSystem);
    return system?.defaultRoles.find((r) => r.id === role.defaultRole)?.required ?? [];
  }

  /** Each license-bound system the role grants permissions of needs one of its licenses on the role. */
  private checkLicenseBound(tenantId: string, roleId: string): void {
    const grants = this.q.grants(tenantId, roleId);
    const licenses = this.q.licenses(tenantId, roleId);
    for (const system of this.licenseBound) {
      const granted = grants.filter((k) => this.catalog.permissions.get(k)?.system === system);
      if (granted.length === 0) continue;
      if (licenses.some((l) => this.catalog.licenses.get(l)?.system === system)) continue;
      const choices = this.catalog.systems.find((s) => s.id === system)?.licenses.map((l) => l.id) ?? [];
      throw new StoreError(
        "FAILED_PRECONDITION",
        `role '${roleId}' grants ${system} permissions (${granted.slice(0, 3).join(", ")}${granted.length > 3 ? ", ..." : ""}) so it must be associated with a ${system} license (one of: ${choices.join(", ")})`,
        { field: "license_ids" },
      );
    }
  }

  private licensesOfRoles(tenantId: string, roleIds: readonly string[]): string[] {
    return [...new Set(roleIds.flatMap((r) => this.q.licenses(tenantId, r)))];
  }

  private usage(tenantId: string, licenseIds: readonly string[]): Map<string, number> {
    return new Map(licenseIds.map((l) => [l, this.q.licenseUsed(tenantId, l)]));
  }

  /** After a change: a license whose usage grew past its seats fails the write, naming used/seats. */
  private checkSeatsNotExceeded(
    tenantId: string,
    before: ReadonlyMap<string, number>,
    doing: string,
    field: string,
  ): void {
    for (const [licenseId, usedBefore] of before) {
      const used = this.q.licenseUsed(tenantId, licenseId);
      const seats = this.q.licenseSeats(tenantId, licenseId);
      if (used > usedBefore && used > seats) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `license '${licenseId}' has no free seat (${usedBefore}/${seats} used) for ${doing}; raise its seats or free one`,
          { field },
        );
      }
    }
  }
}
