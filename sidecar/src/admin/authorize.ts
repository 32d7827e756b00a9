/**
 * Who may run admin operations: the bootstrap principal anywhere; a user only in their own
 * tenant, as one of its owners or while holding one of the system's role-administration
 * permissions there.
 * The same rule answers, on the serving snapshot, who may read other users' decisions.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { StoreError } from "../store/store-error.js";
import { type Principal, principalLabel } from "./principal.js";

/** Whether a user holds a permission in a tenant (the engine supplies the full effective-set answer). */
export type HoldsFn = (tenantId: string, userId: string, permissionKey: string) => boolean | Promise<boolean>;

/** The permissions that give role administration of a system (any one suffices). */
export function roleAdministrationKeys(catalog: Catalog, system: string): readonly string[] {
  return catalog.systems.find((s) => s.id === system)?.roleAdministration ?? [];
}

/**
 * Whether a user administers at least one of `enabledSystems`, decided by a synchronous `holds`
 * (the serving snapshot): the right to read other users' decisions in the tenant.
 */
export function administersAnySystem(
  catalog: Catalog,
  holds: (permissionKey: string) => boolean,
  enabledSystems: readonly string[],
): boolean {
  return enabledSystems.some((system) => roleAdministrationKeys(catalog, system).some(holds));
}

/**
 * Rejects with PERMISSION_DENIED unless `actor` may administer `tenantId` for every system in
 * `systems`; with no systems given, holding the role-administration permission of any enabled
 * system (`enabledSystems`) suffices.
 */
export async function authorizeAdmin(
  catalog: Catalog,
  holds: HoldsFn,
  actor: Principal,
  tenant: { readonly id: string; readonly systems: readonly string[]; readonly owners: readonly string[] },
  systems: readonly string[],
): Promise<void> {
  if (actor.kind === "bootstrap") return;
  const { id: tenantId, systems: enabledSystems } = tenant;
  const who = principalLabel(actor);
  if (actor.tenantId !== tenantId) {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${who} may not administer tenant '${tenantId}' (only its own tenant)`,
    );
  }
  if (tenant.owners.includes(actor.userId)) return; // an owner administers every system of the tenant
  const may = async (system: string): Promise<boolean> => {
    for (const key of roleAdministrationKeys(catalog, system)) {
      if (await holds(tenantId, actor.userId, key)) return true;
    }
    return false;
  };
  if (systems.length === 0) {
    for (const system of enabledSystems) if (await may(system)) return;
    const keys = enabledSystems.flatMap((s) => roleAdministrationKeys(catalog, s));
    throw new StoreError(
      "PERMISSION_DENIED",
      `${who} holds no role-administration permission in tenant '${tenantId}' (one of: ${keys.join(", ") || "none defined"})`,
    );
  }
  for (const system of systems) {
    if (!(await may(system))) {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${who} may not administer ${system} in tenant '${tenantId}': needs one of ${roleAdministrationKeys(catalog, system).join(", ") || "(no role-administration permission defined)"}`,
      );
    }
  }
}
