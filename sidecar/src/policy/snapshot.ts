/**
 * The compiled, immutable policy at one store revision: what every check reads. Permission keys
 * and license ids are interned to dense integers (catalog-wide, shared by all tenants), so sets
 * of them are bitsets and a check is a word read and a mask.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { Decision } from "./decision.js";
import type { UserColumns } from "./user-columns.js";

/** Per-permission flag: both the user and the target must hold it. */
export const FLAG_MUTUAL = 1;
/** Per-permission flag: scope `self` (own interactions only). */
export const FLAG_SELF = 2;
/** Per-permission flag: scope `all`. */
export const FLAG_ALL = 4;
/** Per-permission flag: lists license types. */
export const FLAG_LICENSED = 8;
/** Per-permission flag: has a requirement expression. */
export const FLAG_REQUIRES = 16;
/** Per-permission flag: has a requirement only the acting user must meet (never a mutual target). */
export const FLAG_ACTOR_REQUIRES = 32;
/** Per-permission flag: lists licenses the tenant's pool must hold. */
export const FLAG_TENANT_LICENSED = 64;

/** The catalog compiled once and shared by every tenant of every snapshot built from it. */
export interface CompiledCatalog {
  /** The catalog it was compiled from (names, categories, summaries for listings and explanations). */
  readonly source: Catalog;
  /** Structural fingerprint: equal fingerprints mean the same interning and programs. */
  readonly fingerprint: string;
  /**
   * Index → key. The first `permissionCount` entries are catalog permissions; any after them are
   * keys a requirement mentions that the catalog lacks ("phantoms", never grantable).
   */
  readonly permissionKeys: readonly string[];
  /** Number of real catalog permissions. */
  readonly permissionCount: number;
  /** Key → index, real permissions only (a phantom is still an unknown permission to callers). */
  readonly permissionIndex: ReadonlyMap<string, number>;
  /** Words of a permission bitset. */
  readonly words: number;
  /** `FLAG_*` bits per permission index. */
  readonly flags: Uint8Array;
  /** Per permission, its implication closure (itself included): `words` words at `p * words`. */
  readonly closure: Uint32Array;
  /** CSR offsets into `selfTwins`: for a `self` permission, the `all` permissions whose closure holds it. */
  readonly selfTwinStart: Int32Array;
  /** See `selfTwinStart`. */
  readonly selfTwins: Int32Array;
  /** Index → qualified license id. */
  readonly licenseIds: readonly string[];
  /** Qualified license id → index. */
  readonly licenseIndex: ReadonlyMap<string, number>;
  /** Words of a license bitset. */
  readonly licenseWords: number;
  /** CSR offsets into `permissionLicenses`: the license indices a permission lists, in catalog order. */
  readonly permissionLicenseStart: Int32Array;
  /** See `permissionLicenseStart`. */
  readonly permissionLicenses: Int32Array;
  /** Per license, the permissions it unlocks: `words` words at `l * words`. */
  readonly licensePermissions: Uint32Array;
  /** Permissions that list no license (licensed for everyone granted them). */
  readonly licenseFree: Uint32Array;
  /** Licenses held by the tenant itself (`heldBy: tenant`): every user holds them while the pool has them. */
  readonly tenantHeldLicenses: Uint32Array;
  /** CSR offsets into `permissionTenantLicenses`: the licenses a permission needs in the tenant's pool. */
  readonly permissionTenantLicenseStart: Int32Array;
  /** See `permissionTenantLicenseStart`. */
  readonly permissionTenantLicenses: Int32Array;
  /** All requirement programs (permissions and surfaces). */
  readonly program: Int32Array;
  /** Per permission, the offset of its requirement in `program`, or -1. */
  readonly requirementStart: Int32Array;
  /** Per permission, the offset of its acting-user requirement in `program`, or -1. */
  readonly actorRequirementStart: Int32Array;
  /** Permissions with a requirement, dependencies before dependants, so one fixpoint pass usually settles. */
  readonly requirementOrder: Int32Array;
  /** No requirement cycle: one pass over `requirementOrder` reaches the fixpoint. */
  readonly requirementsAcyclic: boolean;
  /** Surface id → offset of its requirement in `program`. */
  readonly surfaceStart: ReadonlyMap<string, number>;
  /** System ids in catalog order. */
  readonly systemIds: readonly string[];
  /** Per system (same order), its permission indices in catalog order. */
  readonly systemPermissions: readonly Int32Array[];
}

/** One tenant compiled; immutable, reused by incremental recompiles when the tenant did not change. */
export interface CompiledTenant {
  readonly id: string;
  readonly name: string;
  /**
   * The catalog this tenant is decided on: the snapshot's own, or — for a tenant with systems of
   * its own (PutSystem) — that catalog extended with them, which no other tenant sees.
   */
  readonly catalog: CompiledCatalog;
  /** Enabled system ids, as stored. */
  readonly systems: readonly string[];
  /** The tenant's license pool as a license bitset. */
  readonly pool: Uint32Array;
  /** Licenses every user of the tenant holds without a role: tenant-held licenses in the pool. */
  readonly poolHeld: Uint32Array;
  /** Permissions (a permission bitset) needing a tenant license the pool lacks: licensed for nobody here. */
  readonly tenantBlocked: Uint32Array;
  /** Index → role id. */
  readonly roleIds: readonly string[];
  /** Index → role name. */
  readonly roleNames: readonly string[];
  /** Role id → index. */
  readonly roleIndex: ReadonlyMap<string, number>;
  /** Per role, direct grants (known keys only): `words` words at `r * words`. */
  readonly roleGrants: Uint32Array;
  /** Per role, grants plus the transitive closure of their implications. */
  readonly roleClosure: Uint32Array;
  /** Per role, associated licenses: `licenseWords` words at `r * licenseWords`. */
  readonly roleLicenses: Uint32Array;
  /** Index → user id. */
  readonly userIds: readonly string[];
  /** The users as read (display names are decoded from here when asked: `userNameAt`). */
  readonly users: UserColumns;
  /** User id → index. */
  readonly userIndex: ReadonlyMap<string, number>;
  /** 1 when the user is active. */
  readonly userActive: Uint8Array;
  /** CSR offsets into `userRoles` (role indices; role ids the tenant lacks are dropped). */
  readonly userRoleStart: Int32Array;
  /** See `userRoleStart`. */
  readonly userRoles: Int32Array;
  /** User indices ordered by user id (code-unit order), for paged lookups. */
  readonly usersById: Int32Array;
}

/** Decisions that name nothing, built once per snapshot so the hot path returns them without allocating. */
export interface CommonDecisions {
  readonly granted: Decision;
  readonly notGranted: Decision;
  readonly userUnknown: Decision;
  readonly userInactive: Decision;
}

/** The whole compiled policy at one revision of one database. */
export interface Snapshot {
  /** The database file it was read from. */
  readonly databaseId: string;
  /** The store revision it was read at. */
  readonly revision: number;
  readonly catalog: CompiledCatalog;
  readonly tenants: ReadonlyMap<string, CompiledTenant>;
  /**
   * Tenants that exist at this revision but are not compiled yet (a large store loads tenant by
   * tenant after a start). A call naming one is never answered from what is there: it waits for
   * the tenant (`PolicyEngine.tenantReady`) or fails UNAVAILABLE (`TenantNotReadyError`).
   */
  readonly pendingTenantIds: ReadonlySet<string>;
  readonly decisions: CommonDecisions;
  /**
   * Per tenant with systems of its own, this snapshot as that tenant sees it: the same revision,
   * tenants and decisions, with the tenant's catalog (`tenantView` in tenant-view.ts). Every
   * decision about such a tenant is made on its view.
   */
  readonly views: ReadonlyMap<string, Snapshot>;
}
