/**
 * A small hand-built catalog for the store's tests, mimicking the rules of the five seed systems
 * (licenses and any-of requirements in Calabrio ONE, CONTACTS_* keys in CxEngage, the Manager
 * template role in iAdvize) without depending on the real data files.
 */
import {
  ADMIN_ACTIONS,
  type AdminAction,
  type Catalog,
  type CatalogAdminRight,
  type CatalogDefaultRole,
  type CatalogLicense,
  type CatalogPermission,
  type CatalogSurface,
  type CatalogSystem,
} from "../../../catalog/catalog.js";
import { qualifyKey, qualifyRequirement } from "../../../catalog/requirement.js";
import type { PermissionScope, RequirementExpr } from "../../../catalog/schema.js";

/** A permission in local keys, with defaults for everything a test does not care about. */
interface PermissionSpec {
  readonly key: string;
  readonly licenses?: readonly string[];
  readonly requires?: RequirementExpr;
  readonly implies?: readonly string[];
  readonly mutual?: boolean;
  readonly scope?: PermissionScope;
}

/** A system in local keys. */
interface SystemSpec {
  readonly id: string;
  readonly name: string;
  /**
   * Local keys that give every admin action, the way the single role-administration list of the
   * catalog did before per-action rights, so the store's admin tests keep their meaning.
   */
  readonly adminAll: readonly string[];
  /** Further rights for one action each, in local keys. */
  readonly adminRights?: readonly { readonly action: AdminAction; readonly permissions: readonly string[] }[];
  readonly licenses?: readonly string[];
  readonly permissions: readonly PermissionSpec[];
  readonly defaultRoles?: readonly Omit<CatalogDefaultRole, "system">[];
  readonly surfaces?: readonly {
    readonly id: string;
    readonly label: string;
    readonly requires: RequirementExpr;
  }[];
}

/** A right of the test catalog; its citation only says where it comes from. */
function adminRight(action: AdminAction, permissions: readonly string[]): CatalogAdminRight {
  return {
    action,
    permissions,
    document: "test-catalog.ts",
    section: "test system",
    reason: "chosen for the store's tests",
    assumed: true,
  };
}

function buildSystem(spec: SystemSpec): CatalogSystem {
  const q = (k: string): string => qualifyKey(k, spec.id);
  const licenses: CatalogLicense[] = (spec.licenses ?? []).map((l) => ({
    id: q(l),
    system: spec.id,
    name: l,
  }));
  const permissions: CatalogPermission[] = spec.permissions.map((p) => ({
    key: q(p.key),
    system: spec.id,
    localKey: p.key,
    name: p.key,
    category: "general",
    categoryName: "General",
    summary: `Lets a user ${p.key}.`,
    pages: [],
    licenses: (p.licenses ?? []).map(q),
    requires: p.requires === undefined ? null : qualifyRequirement(p.requires, spec.id),
    implies: (p.implies ?? []).map(q),
    status: "active",
    mutual: p.mutual ?? false,
    scope: p.scope ?? null,
  }));
  const surfaces: CatalogSurface[] = (spec.surfaces ?? []).map((s) => ({
    id: q(s.id),
    system: spec.id,
    label: s.label,
    kind: "panel",
    location: s.label,
    urlPattern: `/${spec.id}/*`,
    selector: `#${s.id}`,
    requires: qualifyRequirement(s.requires, spec.id),
  }));
  return {
    id: spec.id,
    name: spec.name,
    adminRights: [
      ...(spec.adminAll.length === 0
        ? []
        : ADMIN_ACTIONS.map((action) => adminRight(action, spec.adminAll.map(q)))),
      ...(spec.adminRights ?? []).map((r) => adminRight(r.action, r.permissions.map(q))),
    ],
    categories: [{ id: "general", name: "General" }],
    licenses,
    defaultRoles: (spec.defaultRoles ?? []).map((r) => ({
      ...r,
      system: spec.id,
      grants: r.grants.map(q),
      required: r.required.map(q),
      licenses: r.licenses.map(q),
    })),
    permissions,
    surfaces,
  };
}

/** Builds the lookup maps of a catalog from its systems. */
export function catalogFromSystems(systems: readonly CatalogSystem[]): Catalog {
  return {
    systems,
    permissions: new Map(systems.flatMap((s) => s.permissions.map((p) => [p.key, p] as const))),
    licenses: new Map(systems.flatMap((s) => s.licenses.map((l) => [l.id, l] as const))),
    surfaces: new Map(systems.flatMap((s) => s.surfaces.map((x) => [x.id, x] as const))),
  };
}

/** The ten permissions CxEngage's Contact Management panel needs. */
export const CONTACT_PANEL_KEYS: readonly string[] = [
  "CONTACTS_CREATE",
  "CONTACTS_UPDATE",
  "CONTACTS_READ",
  "CONTACTS_MERGE_UNMERGE",
  "CONTACTS_DELETE",
  "CONTACTS_ATTRIBUTES_READ",
  "CONTACTS_LAYOUTS_READ",
  "CONTACTS_ASSIGN_INTERACTION",
  "CONTACTS_INTERACTION_HISTORY_READ",
  "ARTIFACTS_CREATE_ALL",
];

/** How many plain (no license, no requirement) MaxContact permissions the test catalog has. */
export const PLAIN_PERMISSION_COUNT = 60;

/** The test catalog: five small systems. */
export function testCatalog(): Catalog {
  const calabrio = buildSystem({
    id: "calabrio-one",
    name: "Calabrio ONE",
    adminAll: ["administer-roles", "assign-user-roles"],
    licenses: ["quality-management", "analytics", "data-management"],
    permissions: [
      { key: "view-contacts", licenses: ["quality-management", "analytics"] },
      { key: "view-scored-contacts", licenses: ["quality-management"] },
      {
        key: "play-recordings",
        licenses: ["quality-management"],
        requires: { any: ["view-contacts", "view-scored-contacts"] },
      },
      { key: "view-content", licenses: ["quality-management"] },
      { key: "create-content", licenses: ["quality-management"], implies: ["view-content"] },
      { key: "edit-evaluations", licenses: ["quality-management"], requires: { all: ["play-recordings"] } },
      { key: "administer-roles" },
      { key: "assign-user-roles", requires: "administer-roles" },
      { key: "view-dashboards", licenses: ["analytics"] },
      { key: "monitor-agents", licenses: ["quality-management"], mutual: true },
    ],
    defaultRoles: [
      {
        id: "administrator",
        name: "Administrator",
        grants: ["administer-roles", "assign-user-roles", "view-contacts"],
        required: ["administer-roles", "assign-user-roles"],
        licenses: ["quality-management", "data-management"],
        template: false,
      },
      {
        id: "agent",
        name: "Agent",
        grants: ["view-contacts"],
        required: ["view-contacts"],
        licenses: ["quality-management"],
        template: false,
      },
      {
        id: "supervisor",
        name: "Supervisor",
        grants: ["view-contacts", "play-recordings", "monitor-agents"],
        required: ["view-contacts"],
        licenses: ["quality-management", "analytics"],
        template: false,
      },
    ],
  });
  const zoom = buildSystem({
    id: "zoom-contact-center",
    name: "Zoom Contact Center",
    adminAll: ["RoleManagement:Edit", "UserManagement:Edit"],
    permissions: [
      { key: "RptWallboard:Read" },
      { key: "RptWallboard:Edit", implies: ["RptWallboard:Read"] },
      { key: "RoleManagement:Read" },
      { key: "RoleManagement:Edit", implies: ["RoleManagement:Read"] },
      { key: "UserManagement:Edit" },
    ],
  });
  const cxengage = buildSystem({
    id: "cxengage",
    name: "CxEngage",
    adminAll: ["PLATFORM_ROLES_UPDATE"],
    permissions: [
      ...CONTACT_PANEL_KEYS.map((key) => ({ key })),
      { key: "NOTES_READ_ALL", scope: "all", implies: ["NOTES_READ_SELF"] },
      { key: "NOTES_READ_SELF", scope: "self" },
      { key: "PLATFORM_ROLES_UPDATE" },
    ],
    surfaces: [
      { id: "contact-management-panel", label: "Contact Management", requires: { all: CONTACT_PANEL_KEYS } },
    ],
  });
  const maxcontact = buildSystem({
    id: "maxcontact",
    name: "MaxContact",
    adminAll: ["manage-users"],
    permissions: [
      { key: "manage-users" },
      ...Array.from({ length: PLAIN_PERMISSION_COUNT }, (_, i) => ({ key: `campaign-${i}` })),
    ],
  });
  const iadvize = buildSystem({
    id: "iadvize",
    name: "iAdvize",
    adminAll: ["access-to-people"],
    permissions: [
      { key: "access-to-reports" },
      { key: "access-to-people" },
      { key: "export-reports", requires: "access-to-reports" },
      { key: "view-statistics", requires: "access-to-reports" },
      { key: "manage-conversations" },
    ],
    defaultRoles: [
      {
        id: "manager",
        name: "Manager",
        grants: ["access-to-reports", "access-to-people", "manage-conversations"],
        required: [],
        licenses: [],
        template: true,
      },
    ],
  });
  return catalogFromSystems([calabrio, zoom, cxengage, maxcontact, iadvize]);
}
