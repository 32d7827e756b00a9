/**
 * Tenants with systems of their own (PutSystem) are decided on the vendor catalog extended with
 * them; every other tenant shares the snapshot's compiled catalog. The extended catalog keeps the
 * vendor permissions' indices (its own come after them) and is compiled once per set of documents.
 */
import type { Catalog, CatalogSystem } from "../../../catalog/catalog.js";
import { catalogWithCustomSystems } from "../../../catalog/tenant-catalog.js";
import { compileCatalog } from "./compile-catalog.js";
import { UnknownTenantError } from "./decision.js";
import type { TenantPolicy } from "./policy-source.js";
import type { CompiledCatalog, Snapshot } from "./snapshot.js";

const compiled = new WeakMap<Catalog, CompiledCatalog>();

/** The compiled catalog `tenant` is decided on: `base`, or base extended with the tenant's own systems. */
export function catalogOfTenant(base: CompiledCatalog, tenant: TenantPolicy): CompiledCatalog {
  const custom = tenant.customSystems;
  if (custom === undefined || custom.length === 0) return base;
  const catalog = catalogWithCustomSystems(base.source, custom);
  if (catalog === base.source) return base;
  let out = compiled.get(catalog);
  if (out === undefined) {
    out = compileCatalog(catalog);
    compiled.set(catalog, out);
  }
  return out;
}

/**
 * The snapshot as tenant `tenantId` sees it: its catalog holds the tenant's own systems. Every
 * engine entry point that decides for a tenant runs on this view. An unknown tenant gets the
 * snapshot itself (the caller reports it unknown).
 */
export function tenantView(snapshot: Snapshot, tenantId: string): Snapshot {
  return snapshot.views.get(tenantId) ?? snapshot;
}

/**
 * The systems tenant `tenantId` has in `snapshot`, in catalog order: the vendor systems it
 * enabled and its own. For callers that resolve names over a tenant's systems (AuthZEN's bare
 * action names, CatalogService). Throws `UnknownTenantError` for a tenant the snapshot lacks.
 */
export function systemsOfTenant(snapshot: Snapshot, tenantId: string): readonly CatalogSystem[] {
  const tenant = snapshot.tenants.get(tenantId);
  if (tenant === undefined) throw new UnknownTenantError(tenantId);
  const enabled = new Set(tenant.systems);
  return tenant.catalog.source.systems.filter((s) => enabled.has(s.id));
}

/** The whole catalog tenant `tenantId` is decided on (vendor systems, enabled or not, and its own). */
export function catalogOfTenantIn(snapshot: Snapshot, tenantId: string): Catalog {
  return tenantView(snapshot, tenantId).catalog.source;
}
