/**
 * Who may run admin operations: the bootstrap principal anywhere; a user only in their own
 * tenant, and only when they hold one of the system's role-administration permissions there.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { StoreError } from "./store-error.js";

/** Who is asking: the bootstrap token, or a user of a tenant (from an admin token). */
export type Principal =
  | { readonly kind: "bootstrap" }
  | { readonly kind: "user"; readonly tenantId: string; readonly userId: string };

/** Whether a user holds a permission in a tenant (the engine supplies the full effective-set answer). */
export type HoldsFn = (tenantId: string, userId: string, permissionKey: string) => boolean;

/** How a principal is written in the audit log: `bootstrap` or `user:<tenant>/<user>`. */
export function principalLabel(actor: Principal): string {
  return actor.kind === "bootstrap" ? "bootstrap" : `user:${actor.tenantId}/${actor.userId}`;
}

/**
 * Throws PERMISSION_DENIED unless `actor` may administer `tenantId` for every system in
 * `systems`; with no systems given, holding the role-administration permission of any enabled
 * system (`enabledSystems`) suffices.
 */
export function authorizeAdmin(
  catalog: Catalog,
  holds: HoldsFn,
  actor: Principal,
  tenantId: string,
  systems: readonly string[],
  enabledSystems: readonly string[],
): void {
  if (actor.kind === "bootstrap") return;
  const who = principalLabel(actor);
  if (actor.tenantId !== tenantId) {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${who} may not administer tenant '${tenantId}' (only its own tenant)`,
    );
  }
  const keysOf = (system: string): readonly string[] =>
    catalog.systems.find((s) => s.id === system)?.roleAdministration ?? [];
  const may = (system: string): boolean => keysOf(system).some((k) => holds(tenantId, actor.userId, k));
  if (systems.length === 0) {
    if (enabledSystems.some(may)) return;
    const keys = enabledSystems.flatMap(keysOf);
    throw new StoreError(
      "PERMISSION_DENIED",
      `${who} holds no role-administration permission in tenant '${tenantId}' (one of: ${keys.join(", ") || "none defined"})`,
    );
  }
  for (const system of systems) {
    if (!may(system)) {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${who} may not administer ${system} in tenant '${tenantId}': needs one of ${keysOf(system).join(", ") || "(no role-administration permission defined)"}`,
      );
    }
  }
}
