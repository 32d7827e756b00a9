/**
 * The loaded, validated catalog: every key qualified as `system/key`. Produced by the loader
 * (`catalog/loader.ts`) from the data files; consumed by the store, the engine and CatalogService.
 */
import type {
  Assumption,
  LicenseHolder,
  PermissionScope,
  PermissionStatus,
  RequirementExpr,
  SurfaceKind,
} from "./schema.js";

/** A permission with every reference qualified (`calabrio-one/view-contacts`). */
export interface CatalogPermission {
  /** Qualified key `system/key`. */
  readonly key: string;
  readonly system: string;
  /** The key inside its system (`view-contacts`). */
  readonly localKey: string;
  readonly name: string;
  /** Category id, local to the system. */
  readonly category: string;
  /** Category name as shown to people. */
  readonly categoryName: string;
  readonly summary: string;
  readonly pages: readonly string[];
  /** Qualified license ids, any one of which suffices; empty means none needed. */
  readonly licenses: readonly string[];
  /** Requirement over qualified keys, or `null`. */
  readonly requires: RequirementExpr | null;
  /** Qualified keys granted along with this one (direct, not transitive). */
  readonly implies: readonly string[];
  readonly status: PermissionStatus;
  readonly mutual: boolean;
  readonly scope: PermissionScope | null;
  /** Requirement over qualified keys that only the acting user must meet (never a mutual target). Absent: none. */
  readonly actorRequires?: RequirementExpr;
  /** Qualified license ids the tenant's pool must hold, every one. Absent: none. */
  readonly tenantLicenses?: readonly string[];
  /** What we derived rather than read in the document. Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A license type, qualified (`calabrio-one/quality-management`). */
export interface CatalogLicense {
  readonly id: string;
  readonly system: string;
  readonly name: string;
  /** `tenant`: every user of a tenant with it in its pool holds it, no role needed. Absent: `role`. */
  readonly heldBy?: LicenseHolder;
  /** `false`: no seats can be added. Absent: purchasable. */
  readonly purchasable?: boolean;
  /** Qualified keys a role is granted when it becomes associated with the license. Absent: none. */
  readonly defaultGrants?: readonly string[];
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A default role of a system, with qualified permission and license references. */
export interface CatalogDefaultRole {
  /** Local id (`administrator`); the store derives the tenant's role id from it. */
  readonly id: string;
  readonly system: string;
  readonly name: string;
  readonly grants: readonly string[];
  readonly required: readonly string[];
  readonly licenses: readonly string[];
  readonly template: boolean;
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/** A UI surface with its qualified id and requirement. */
export interface CatalogSurface {
  /** Qualified id (`cxengage/contact-management-panel`). */
  readonly id: string;
  readonly system: string;
  readonly label: string;
  readonly kind: SurfaceKind;
  readonly location: string;
  readonly urlPattern: string;
  readonly selector: string;
  readonly requires: RequirementExpr;
  /** Absent: none. */
  readonly assumptions?: readonly Assumption[];
}

/**
 * The admin actions a principal may be given. Each admin write is one of them; tenant owners
 * (outside any catalog) may do all.
 */
export const ADMIN_ACTIONS = [
  /** Create, rename and delete roles; grant and revoke their permissions; set their licenses. */
  "edit-roles",
  /** Assign roles to users and take them away. */
  "assign-roles",
  /** Create users, activate and deactivate them. */
  "manage-users",
  /** Set how many seats of a license the tenant has. */
  "manage-seats",
  /** Register, replace and remove the tenant's apps (pages → surfaces) for the extension. */
  "manage-apps",
  /** Read other users' decisions, explanations and effective permissions, and LookupUsers. */
  "read-decisions",
  /** Add, replace and remove the tenant's own systems. */
  "manage-systems",
] as const;

/** One admin action. */
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** Which permissions of a system give an admin action over that system, and on what authority. */
export interface CatalogAdminRight {
  readonly action: AdminAction;
  /** Qualified permission keys, any one of which gives the action. */
  readonly permissions: readonly string[];
  /** The document the right comes from (a seed file name) and its section. */
  readonly document: string;
  readonly section: string;
  /** Why, in our own words. */
  readonly reason: string;
  /** True when the document does not say so and we chose (the reason says why). */
  readonly assumed: boolean;
}

/** One system of the catalog. */
export interface CatalogSystem {
  readonly id: string;
  readonly name: string;
  /** The admin actions this system's permissions give (none: only tenant owners administer it). */
  readonly adminRights: readonly CatalogAdminRight[];
  readonly categories: readonly {
    readonly id: string;
    readonly name: string;
    readonly assumptions?: readonly Assumption[];
  }[];
  readonly licenses: readonly CatalogLicense[];
  readonly defaultRoles: readonly CatalogDefaultRole[];
  readonly permissions: readonly CatalogPermission[];
  readonly surfaces: readonly CatalogSurface[];
}

/** The whole catalog, with lookup maps by qualified id. */
export interface Catalog {
  readonly systems: readonly CatalogSystem[];
  readonly permissions: ReadonlyMap<string, CatalogPermission>;
  readonly licenses: ReadonlyMap<string, CatalogLicense>;
  readonly surfaces: ReadonlyMap<string, CatalogSurface>;
}
