/**
 * Reads of tenant data shared by the admin writes and reads: lookups that fail with NOT_FOUND
 * (naming the field and the closest id), role and user state, license usage.
 */
import { didYouMean } from "../../../catalog/closest-key.js";
import type { Db } from "./database.js";
import { StoreError } from "./store-error.js";

/** A tenant row with its enabled systems. */
export interface TenantRow {
  readonly id: string;
  readonly name: string;
  readonly systems: readonly string[];
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

/** A user row with the roles they hold. */
export interface UserState {
  readonly id: string;
  readonly displayName: string;
  readonly active: boolean;
  readonly roleIds: readonly string[];
}

/** A role with its grants and licenses, as the audit log records it. */
export interface RoleState extends RoleRow {
  readonly grants: readonly string[];
  readonly licenseIds: readonly string[];
}

interface RawRole {
  id: string;
  name: string;
  kind: "default" | "custom";
  based_on: string | null;
  default_system: string | null;
  default_role: string | null;
}

function toRoleRow(r: RawRole): RoleRow {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    basedOn: r.based_on,
    defaultSystem: r.default_system,
    defaultRole: r.default_role,
  };
}

/** Tenant lookups over one connection. Statements are prepared lazily by better-sqlite3's cache. */
export class StoreQueries {
  constructor(private readonly db: Db) {}

  /** The tenant, or NOT_FOUND naming `tenant_id`. */
  tenant(tenantId: string): TenantRow {
    const row = this.db.prepare("SELECT id, name FROM tenants WHERE id = ?").get(tenantId) as
      | { id: string; name: string }
      | undefined;
    if (row === undefined) {
      const ids = this.db.prepare("SELECT id FROM tenants").pluck().all() as string[];
      throw new StoreError("NOT_FOUND", `unknown tenant '${tenantId}'${didYouMean(tenantId, ids)}`, {
        field: "tenant_id",
      });
    }
    const systems = this.db
      .prepare("SELECT system_id FROM tenant_systems WHERE tenant_id = ? ORDER BY rowid")
      .pluck()
      .all(tenantId) as string[];
    return { ...row, systems };
  }

  /** The role, or NOT_FOUND naming `field`. */
  role(tenantId: string, roleId: string, field = "role_id"): RoleRow {
    const row = this.db
      .prepare(
        "SELECT id, name, kind, based_on, default_system, default_role FROM roles WHERE tenant_id = ? AND id = ?",
      )
      .get(tenantId, roleId) as RawRole | undefined;
    if (row === undefined) {
      const ids = this.db
        .prepare("SELECT id FROM roles WHERE tenant_id = ?")
        .pluck()
        .all(tenantId) as string[];
      throw new StoreError(
        "NOT_FOUND",
        `unknown role '${roleId}' in tenant '${tenantId}'${didYouMean(roleId, ids)}`,
        { field },
      );
    }
    return toRoleRow(row);
  }

  /** Every role of the tenant, by creation order. */
  roles(tenantId: string): RoleRow[] {
    const rows = this.db
      .prepare(
        "SELECT id, name, kind, based_on, default_system, default_role FROM roles WHERE tenant_id = ? ORDER BY rowid",
      )
      .all(tenantId) as RawRole[];
    return rows.map(toRoleRow);
  }

  /** The user with their roles, or NOT_FOUND naming `user_id`. */
  user(tenantId: string, userId: string): UserState {
    const row = this.db
      .prepare("SELECT id, display_name, active FROM users WHERE tenant_id = ? AND id = ?")
      .get(tenantId, userId) as { id: string; display_name: string; active: number } | undefined;
    if (row === undefined) {
      const ids = this.db
        .prepare("SELECT id FROM users WHERE tenant_id = ?")
        .pluck()
        .all(tenantId) as string[];
      throw new StoreError(
        "NOT_FOUND",
        `unknown user '${userId}' in tenant '${tenantId}'${didYouMean(userId, ids)}`,
        { field: "user_id" },
      );
    }
    return {
      id: row.id,
      displayName: row.display_name,
      active: row.active === 1,
      roleIds: this.userRoles(tenantId, userId),
    };
  }

  /** The ids of the roles a user holds. */
  userRoles(tenantId: string, userId: string): string[] {
    return this.db
      .prepare("SELECT role_id FROM user_roles WHERE tenant_id = ? AND user_id = ? ORDER BY rowid")
      .pluck()
      .all(tenantId, userId) as string[];
  }

  /** The permission keys a role grants, in the order granted. */
  grants(tenantId: string, roleId: string): string[] {
    return this.db
      .prepare("SELECT permission_key FROM role_grants WHERE tenant_id = ? AND role_id = ? ORDER BY rowid")
      .pluck()
      .all(tenantId, roleId) as string[];
  }

  /** The license ids a role is associated with. */
  licenses(tenantId: string, roleId: string): string[] {
    return this.db
      .prepare("SELECT license_id FROM role_licenses WHERE tenant_id = ? AND role_id = ? ORDER BY rowid")
      .pluck()
      .all(tenantId, roleId) as string[];
  }

  /** A role with its grants and licenses. */
  roleState(tenantId: string, roleId: string): RoleState {
    return {
      ...this.role(tenantId, roleId),
      grants: this.grants(tenantId, roleId),
      licenseIds: this.licenses(tenantId, roleId),
    };
  }

  /** How many users (active or not) hold the role. */
  holderCount(tenantId: string, roleId: string): number {
    return this.db
      .prepare("SELECT COUNT(*) FROM user_roles WHERE tenant_id = ? AND role_id = ?")
      .pluck()
      .get(tenantId, roleId) as number;
  }

  /** Seats used: active users holding at least one role associated with the license. */
  licenseUsed(tenantId: string, licenseId: string): number {
    return this.db
      .prepare(
        `SELECT COUNT(DISTINCT u.id) FROM users u
           JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id
           JOIN role_licenses rl ON rl.tenant_id = ur.tenant_id AND rl.role_id = ur.role_id
         WHERE u.tenant_id = ? AND u.active = 1 AND rl.license_id = ?`,
      )
      .pluck()
      .get(tenantId, licenseId) as number;
  }

  /** Seats the tenant has of a license; 0 when the license is not in its pool. */
  licenseSeats(tenantId: string, licenseId: string): number {
    return this.poolSeats(tenantId, licenseId) ?? 0;
  }

  /** Seats of a license in the tenant's pool; undefined when it is not in the pool (0 seats is). */
  poolSeats(tenantId: string, licenseId: string): number | undefined {
    return this.db
      .prepare("SELECT seats FROM license_pools WHERE tenant_id = ? AND license_id = ?")
      .pluck()
      .get(tenantId, licenseId) as number | undefined;
  }

  /** Whether a tenant id or name is taken (names compare case-insensitively). */
  tenantExists(tenantId: string): boolean {
    return this.db.prepare("SELECT 1 FROM tenants WHERE id = ?").get(tenantId) !== undefined;
  }

  /** The id of the tenant with this name (case-insensitive), if any. */
  tenantNamed(name: string): string | undefined {
    return this.db.prepare("SELECT id FROM tenants WHERE name = ?").pluck().get(name) as string | undefined;
  }

  /** The id of the tenant's role with this name (case-insensitive), if any. */
  roleNamed(tenantId: string, name: string): string | undefined {
    return this.db
      .prepare("SELECT id FROM roles WHERE tenant_id = ? AND name = ?")
      .pluck()
      .get(tenantId, name) as string | undefined;
  }
}
