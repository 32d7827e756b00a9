/**
 * What the compiler reads: one consistent view of the store at one revision. The store produces
 * it (in one read transaction); the engine knows nothing of SQLite.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { UserColumns } from "./user-columns.js";

/** A user of a tenant. */
export interface UserRecord {
  readonly id: string;
  readonly displayName: string;
  readonly active: boolean;
  /** Role ids (tenant-wide) the user holds. */
  readonly roleIds: readonly string[];
}

/** A role of a tenant. Roles are tenant-wide and may hold permissions of several systems. */
export interface RoleRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: "default" | "custom";
  /** The role it was created from, if any. */
  readonly basedOn: string | null;
  /** For a default role: the catalog system and local default-role id it came from. */
  readonly defaultOf: { readonly system: string; readonly roleId: string } | null;
  /** Qualified permission keys granted (as stored: auto-granted requirements and implications included). */
  readonly grants: readonly string[];
  /** Qualified license ids the role is associated with. */
  readonly licenseIds: readonly string[];
}

/** One tenant's policy. */
export interface TenantPolicy {
  readonly id: string;
  readonly name: string;
  /** Enabled system ids. */
  readonly systems: readonly string[];
  /** License pool: qualified license id → seats. A tenant "has" a license when it is in the pool. */
  readonly licenseSeats: ReadonlyMap<string, number>;
  /** The users as records; ignored when `userColumns` is given. */
  readonly users: readonly UserRecord[];
  /**
   * The users in columns (the sync reader's form: no object per user), in the store's order. When
   * present it is the tenant's users and `users` is empty.
   */
  readonly userColumns?: UserColumns;
  readonly roles: readonly RoleRecord[];
  /**
   * The tenant's own systems (PutSystem), as stored: the compiler validates them against the
   * catalog and decides this tenant on the catalog extended with them. Default: none.
   */
  readonly customSystems?: readonly CustomSystemDocument[];
}

/** A tenant's own system as stored: its id and the JSON document as put. */
export interface CustomSystemDocument {
  readonly id: string;
  /** JSON text, in the schema of `catalog/data/*.json` (defaults not filled in). */
  readonly document: string;
}

/** Everything the compiler needs, read at one revision. */
export interface PolicySource {
  /** Identifies the database file, so a replaced or restored file is never confused with the one before. */
  readonly databaseId: string;
  /** The store's revision this view was read at. */
  readonly revision: number;
  readonly catalog: Catalog;
  readonly tenants: readonly TenantPolicy[];
  /**
   * Only for an incremental recompile (`recompileTenants`), where `tenants` holds just the changed
   * tenants: the ids of tenants deleted since the previous snapshot. Default: none.
   */
  readonly removedTenantIds?: readonly string[];
}
