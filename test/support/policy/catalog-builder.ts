/**
 * Builds small in-memory catalogs and policy sources for the engine's tests and benchmark, so
 * they do not depend on the catalog data files or the loader.
 */
import type {
  Catalog,
  CatalogLicense,
  CatalogPermission,
  CatalogSurface,
  CatalogSystem,
} from "../../../catalog/catalog.js";
import type { LicenseHolder, PermissionScope, RequirementExpr } from "../../../catalog/schema.js";
import type { RoleRecord, TenantPolicy, UserRecord } from "../../../sidecar/src/policy/policy-source.js";

/** A permission in shorthand: only `key` (qualified) is required. */
export interface PermissionSpec {
  readonly key: string;
  readonly name?: string;
  readonly licenses?: readonly string[];
  readonly requires?: RequirementExpr | null;
  readonly implies?: readonly string[];
  readonly mutual?: boolean;
  readonly scope?: PermissionScope | null;
  /** What only the acting user must also hold. */
  readonly actorRequires?: RequirementExpr | null;
  /** Qualified licenses the tenant's pool must hold. */
  readonly tenantLicenses?: readonly string[];
}

/** A license in shorthand: its qualified id, or the id with how it is held and what it grants by default. */
export type LicenseSpec =
  | string
  | {
      readonly id: string;
      readonly heldBy?: LicenseHolder;
      readonly purchasable?: boolean;
      readonly defaultGrants?: readonly string[];
    };

/** A system in shorthand: qualified permission keys, license ids and surface ids. */
export interface SystemSpec {
  readonly id: string;
  readonly permissions: readonly PermissionSpec[];
  readonly licenses?: readonly LicenseSpec[];
  readonly surfaces?: readonly {
    readonly id: string;
    readonly label?: string;
    readonly requires: RequirementExpr;
  }[];
}

/** The catalog described by `systems`. */
export function buildCatalog(systems: readonly SystemSpec[]): Catalog {
  const built: CatalogSystem[] = systems.map((s) => {
    const permissions: CatalogPermission[] = s.permissions.map((p) => ({
      key: p.key,
      system: s.id,
      localKey: p.key.slice(p.key.lastIndexOf("/") + 1),
      name: p.name ?? p.key.slice(p.key.lastIndexOf("/") + 1),
      category: "general",
      categoryName: "General",
      summary: "",
      pages: [],
      licenses: p.licenses ?? [],
      requires: p.requires ?? null,
      implies: p.implies ?? [],
      status: "active",
      mutual: p.mutual ?? false,
      scope: p.scope ?? null,
      ...(p.actorRequires === undefined || p.actorRequires === null
        ? {}
        : { actorRequires: p.actorRequires }),
      ...(p.tenantLicenses === undefined || p.tenantLicenses.length === 0
        ? {}
        : { tenantLicenses: p.tenantLicenses }),
    }));
    const licenses: CatalogLicense[] = (s.licenses ?? []).map((spec) => {
      const l = typeof spec === "string" ? { id: spec } : spec;
      return {
        id: l.id,
        system: s.id,
        name: l.id,
        ...(l.heldBy === undefined || l.heldBy === "role" ? {} : { heldBy: l.heldBy }),
        ...(l.purchasable === false ? { purchasable: false } : {}),
        ...(l.defaultGrants === undefined || l.defaultGrants.length === 0
          ? {}
          : { defaultGrants: l.defaultGrants }),
      };
    });
    const surfaces: CatalogSurface[] = (s.surfaces ?? []).map((x) => ({
      id: x.id,
      system: s.id,
      label: x.label ?? x.id,
      kind: "panel",
      location: "",
      urlPattern: "*",
      selector: "",
      requires: x.requires,
    }));
    return {
      id: s.id,
      name: s.id,
      adminRights: [],
      categories: [{ id: "general", name: "General" }],
      licenses,
      defaultRoles: [],
      permissions,
      surfaces,
    };
  });
  return {
    systems: built,
    permissions: new Map(built.flatMap((s) => s.permissions.map((p) => [p.key, p] as const))),
    licenses: new Map(built.flatMap((s) => s.licenses.map((l) => [l.id, l] as const))),
    surfaces: new Map(built.flatMap((s) => s.surfaces.map((x) => [x.id, x] as const))),
  };
}

/** A custom role with the given grants and licenses. */
export function role(
  id: string,
  grants: readonly string[],
  licenseIds: readonly string[] = [],
  name = id,
): RoleRecord {
  return { id, name, kind: "custom", basedOn: null, defaultOf: null, grants, licenseIds };
}

/** An active user holding `roleIds` (display name = id unless given). */
export function user(id: string, roleIds: readonly string[], active = true, displayName = id): UserRecord {
  return { id, displayName, active, roleIds };
}

/** A tenant; `licenses` are the pool's license ids (seats are irrelevant to decisions). */
export function tenant(
  id: string,
  systems: readonly string[],
  roles: readonly RoleRecord[],
  users: readonly UserRecord[],
  licenses: readonly string[] = [],
): TenantPolicy {
  return { id, name: id, systems, roles, users, licenseSeats: new Map(licenses.map((l) => [l, 10])) };
}
