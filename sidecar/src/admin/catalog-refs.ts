/**
 * References from a request into the catalog: an unknown system, permission or license is
 * NOT_FOUND with the closest key; one of a system the tenant has not enabled is FAILED_PRECONDITION.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { didYouMean } from "../../../catalog/closest-key.js";
import { StoreError } from "../store/store-error.js";

/** NOT_FOUND unless the catalog has the system. */
export function checkSystem(catalog: Catalog, field: string, systemId: string): void {
  if (catalog.systems.some((s) => s.id === systemId)) return;
  const ids = catalog.systems.map((s) => s.id);
  throw new StoreError("NOT_FOUND", `unknown system '${systemId}'${didYouMean(systemId, ids)}`, { field });
}

/** NOT_FOUND for a key the catalog lacks; FAILED_PRECONDITION when its system is not enabled (`enabled` null skips that). */
export function checkPermission(
  catalog: Catalog,
  field: string,
  key: string,
  enabled: readonly string[] | null,
): void {
  checkCatalogRef("permission", catalog.permissions, field, key, enabled);
}

/** As checkPermission, for a license id. */
export function checkLicense(
  catalog: Catalog,
  field: string,
  licenseId: string,
  enabled: readonly string[] | null,
): void {
  checkCatalogRef("license", catalog.licenses, field, licenseId, enabled);
}

function checkCatalogRef(
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

/** The systems the given permission keys and license ids belong to. */
export function systemsOf(
  catalog: Catalog,
  keys: readonly string[],
  licenseIds: readonly string[],
): string[] {
  const systems = new Set<string>();
  for (const k of keys) {
    const p = catalog.permissions.get(k);
    if (p !== undefined) systems.add(p.system);
  }
  for (const l of licenseIds) {
    const license = catalog.licenses.get(l);
    if (license !== undefined) systems.add(license.system);
  }
  return [...systems];
}
