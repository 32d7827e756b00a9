/**
 * Phase 4, assembly: once every check passed, the drafts become the `Catalog`, with qualified
 * keys everywhere, normalized requirements and the systems in catalog order.
 */
import type {
  Catalog,
  CatalogDefaultRole,
  CatalogLicense,
  CatalogPermission,
  CatalogSurface,
  CatalogSystem,
} from "../catalog.js";
import { normalizeRequirement, qualifyKey, qualifyRequirement } from "../requirement.js";
import { type Assumption, SYSTEM_IDS } from "../schema.js";
import { assembleAdminRights } from "./admin-rights.js";
import type { SystemDraft } from "./shape.js";

/** Builds the catalog from drafts that passed every check. */
export function assemble(drafts: readonly SystemDraft[]): Catalog {
  // The seed systems in their documented order; any other system after them, by id.
  const rank = (id: string) => {
    const i = (SYSTEM_IDS as readonly string[]).indexOf(id);
    return i < 0 ? SYSTEM_IDS.length : i;
  };
  const ordered = [...drafts].sort(
    (a, b) => rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );

  const systems: CatalogSystem[] = [];
  const permissions = new Map<string, CatalogPermission>();
  const licenses = new Map<string, CatalogLicense>();
  const surfaces = new Map<string, CatalogSurface>();
  for (const d of ordered) {
    const q = (key: string) => qualifyKey(key, d.id);
    const categoryName = new Map(d.categories.map((c) => [c.id, c.name] as const));
    const systemLicenses = d.licenses.map(
      (l): CatalogLicense => ({
        id: q(l.id),
        system: d.id,
        name: l.name,
        ...(l.heldBy === undefined || l.heldBy === "role" ? {} : { heldBy: l.heldBy }),
        ...(l.purchasable === false ? { purchasable: false } : {}),
        ...(l.defaultGrants === undefined || l.defaultGrants.length === 0
          ? {}
          : { defaultGrants: l.defaultGrants.map(q) }),
        ...assumptionsOf(l),
      }),
    );
    const systemPermissions = d.permissions.map(
      (p): CatalogPermission => ({
        key: q(p.key),
        system: d.id,
        localKey: p.key,
        name: p.name,
        category: p.category,
        categoryName: categoryName.get(p.category) ?? p.category,
        summary: p.summary,
        pages: [...p.pages],
        licenses: p.licenses.map(q),
        requires: p.requires === null ? null : normalizeRequirement(qualifyRequirement(p.requires, d.id)),
        implies: p.implies.map(q),
        status: p.status,
        mutual: p.mutual,
        scope: p.scope,
        ...(p.actorRequires === undefined || p.actorRequires === null
          ? {}
          : { actorRequires: normalizeRequirement(qualifyRequirement(p.actorRequires, d.id)) }),
        ...(p.tenantLicenses === undefined || p.tenantLicenses.length === 0
          ? {}
          : { tenantLicenses: p.tenantLicenses.map(q) }),
        ...assumptionsOf(p),
      }),
    );
    const systemSurfaces = d.surfaces.map(
      (s): CatalogSurface => ({
        id: q(s.id),
        system: d.id,
        label: s.label,
        kind: s.kind,
        location: s.location,
        urlPattern: s.urlPattern,
        selector: s.selector,
        requires: normalizeRequirement(qualifyRequirement(s.requires, d.id)),
        ...assumptionsOf(s),
      }),
    );
    const defaultRoles = d.defaultRoles.map(
      (r): CatalogDefaultRole => ({
        id: r.id,
        system: d.id,
        name: r.name,
        grants: r.grants.map(q),
        required: r.required.map(q),
        licenses: r.licenses.map(q),
        template: r.template,
        ...assumptionsOf(r),
      }),
    );
    systems.push({
      id: d.id,
      name: d.name,
      adminRights: assembleAdminRights(d),
      categories: d.categories.map((c) => ({ id: c.id, name: c.name, ...assumptionsOf(c) })),
      licenses: systemLicenses,
      defaultRoles,
      permissions: systemPermissions,
      surfaces: systemSurfaces,
    });
    for (const p of systemPermissions) permissions.set(p.key, p);
    for (const l of systemLicenses) licenses.set(l.id, l);
    for (const s of systemSurfaces) surfaces.set(s.id, s);
  }
  return { systems, permissions, licenses, surfaces };
}

/** `{ assumptions }` when the entry has any, `{}` otherwise (absent means none). */
function assumptionsOf(entry: { readonly assumptions?: readonly Assumption[] }): {
  assumptions?: readonly Assumption[];
} {
  return entry.assumptions === undefined || entry.assumptions.length === 0
    ? {}
    : { assumptions: entry.assumptions.map((a) => ({ ...a })) };
}
