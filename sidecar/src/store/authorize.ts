/**
 * Who may run admin operations: the bootstrap principal anywhere; a user only in their own
 * tenant, and only when they hold one of the system's role-administration permissions there.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { Db } from "./database.js";
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

/**
 * A `HoldsFn` over the stored policy, good enough until the engine's effective set is wired in:
 * the user is active, one of their roles grants the key, and, when the permission needs a
 * license, one of their roles is associated with such a license and the tenant has seats for it.
 * Requirements are not evaluated.
 */
export function createStoredHolds(db: Db, catalog: Catalog): HoldsFn {
  const granted = db.prepare(
    `SELECT 1 FROM users u
       JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id
       JOIN role_grants g ON g.tenant_id = ur.tenant_id AND g.role_id = ur.role_id
     WHERE u.tenant_id = ? AND u.id = ? AND u.active = 1 AND g.permission_key = ? LIMIT 1`,
  );
  const licensed = db.prepare(
    `SELECT 1 FROM user_roles ur
       JOIN role_licenses rl ON rl.tenant_id = ur.tenant_id AND rl.role_id = ur.role_id
       JOIN license_pools p ON p.tenant_id = rl.tenant_id AND p.license_id = rl.license_id
     WHERE ur.tenant_id = ? AND ur.user_id = ? AND rl.license_id = ? AND p.seats > 0 LIMIT 1`,
  );
  return (tenantId, userId, key) => {
    if (granted.get(tenantId, userId, key) === undefined) return false;
    const licenses = catalog.permissions.get(key)?.licenses ?? [];
    return licenses.length === 0 || licenses.some((l) => licensed.get(tenantId, userId, l) !== undefined);
  };
}
