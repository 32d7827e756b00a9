/**
 * Builds snapshots from a `PolicySource`: in full, or incrementally by recompiling only the
 * tenants that changed and reusing the rest of the previous snapshot as they are.
 */
import { vendorCatalogOf } from "../../../catalog/tenant-catalog.js";
import { catalogFingerprint, compileCatalog } from "./compile-catalog.js";
import { compileTenant } from "./compile-tenant.js";
import { catalogOfTenant } from "./custom-catalog.js";
import { decision, NOTHING_MISSING } from "./decision.js";
import type { PolicySource } from "./policy-source.js";
import type { CommonDecisions, CompiledCatalog, CompiledTenant, Snapshot } from "./snapshot.js";

/** Thrown by `recompileTenants` when it cannot reuse the previous snapshot; the caller compiles in full. */
export class IncrementalCompileError extends Error {
  override readonly name = "IncrementalCompileError";
}

/**
 * Compiles a whole source into a new snapshot. With `pendingTenantIds`, the source is the first
 * part of a store loaded tenant by tenant: those tenants exist but are not compiled yet, and calls
 * naming them wait (`withTenants` adds them as they come).
 */
export function compileSnapshot(source: PolicySource, pendingTenantIds: Iterable<string> = []): Snapshot {
  // Tenants' own systems come from the source's tenants, never from a catalog already extended.
  const catalog = compileCatalog(vendorCatalogOf(source.catalog));
  const tenants = new Map<string, CompiledTenant>();
  for (const tenant of source.tenants) {
    tenants.set(tenant.id, compileTenant(catalogOfTenant(catalog, tenant), tenant));
  }
  const pending = new Set(pendingTenantIds);
  for (const id of tenants.keys()) pending.delete(id);
  return makeSnapshot(source.databaseId, source.revision, catalog, tenants, pending);
}

/**
 * `prev` with more of its pending tenants compiled, at the same revision: the next part of a
 * store loaded tenant by tenant. Throws IncrementalCompileError for another database or revision.
 */
export function withTenants(prev: Snapshot, more: PolicySource): Snapshot {
  if (more.databaseId !== prev.databaseId || more.revision !== prev.revision) {
    throw new IncrementalCompileError(
      `cannot add tenants of '${more.databaseId}' at revision ${more.revision} to a snapshot of '${prev.databaseId}' at ${prev.revision}`,
    );
  }
  const catalog = sameCatalog(prev.catalog, more);
  const tenants = new Map(prev.tenants);
  const pending = new Set(prev.pendingTenantIds);
  for (const tenant of more.tenants) {
    tenants.set(tenant.id, compileTenant(catalogOfTenant(catalog, tenant), tenant));
    pending.delete(tenant.id);
  }
  // The same revision: the common decisions (and answers built from them) stay valid.
  return makeSnapshot(prev.databaseId, prev.revision, catalog, tenants, pending, prev.decisions);
}

/**
 * A snapshot at `revision` equal to `prev` except for the tenants in `changed` (recompiled) and
 * those in `changed.removedTenantIds` (dropped). Throws `IncrementalCompileError` when `changed`
 * comes from another database or a catalog that compiles differently, since interned indices
 * would no longer line up.
 */
export function recompileTenants(prev: Snapshot, changed: PolicySource, revision: number): Snapshot {
  if (changed.databaseId !== prev.databaseId) {
    throw new IncrementalCompileError(
      `cannot recompile database '${changed.databaseId}' on a snapshot of '${prev.databaseId}'`,
    );
  }
  const catalog = sameCatalog(prev.catalog, changed);
  const tenants = new Map(prev.tenants);
  const pending = new Set(prev.pendingTenantIds);
  for (const id of changed.removedTenantIds ?? []) {
    tenants.delete(id);
    pending.delete(id);
  }
  for (const tenant of changed.tenants) {
    tenants.set(
      tenant.id,
      compileTenant(catalogOfTenant(catalog, tenant), tenant, prev.tenants.get(tenant.id)),
    );
    pending.delete(tenant.id);
  }
  return makeSnapshot(prev.databaseId, revision, catalog, tenants, pending);
}

/** The previous compiled catalog when `changed` carries the same catalog, else throws. */
function sameCatalog(prev: CompiledCatalog, changed: PolicySource): CompiledCatalog {
  const vendor = vendorCatalogOf(changed.catalog);
  if (vendor === prev.source) return prev;
  if (catalogFingerprint(vendor) === prev.fingerprint) return prev;
  throw new IncrementalCompileError("the catalog changed; compile the whole source");
}

function makeSnapshot(
  databaseId: string,
  revision: number,
  catalog: CompiledCatalog,
  tenants: ReadonlyMap<string, CompiledTenant>,
  pendingTenantIds: ReadonlySet<string>,
  // At the same revision the common decisions stay valid: pass them on.
  decisions: CommonDecisions = Object.freeze({
    granted: decision(true, "GRANTED", NOTHING_MISSING, revision),
    notGranted: decision(false, "NOT_GRANTED", NOTHING_MISSING, revision),
    userUnknown: decision(false, "USER_UNKNOWN", NOTHING_MISSING, revision),
    userInactive: decision(false, "USER_INACTIVE", NOTHING_MISSING, revision),
  }),
): Snapshot {
  const views = new Map<string, Snapshot>();
  const snapshot: Snapshot = Object.freeze({
    databaseId,
    revision,
    catalog,
    tenants,
    pendingTenantIds,
    decisions,
    views,
  });
  // A tenant with systems of its own is decided on a view whose catalog holds them.
  for (const tenant of tenants.values()) {
    if (tenant.catalog !== catalog) {
      views.set(tenant.id, Object.freeze({ ...snapshot, catalog: tenant.catalog }));
    }
  }
  return snapshot;
}
