/**
 * Who may run which admin action (catalog.ts lists them): the bootstrap principal anywhere; a
 * user only in their own tenant, as one of its owners (every action) or while holding, in the
 * effective set, a permission the catalog says gives the action for each system the write
 * touches. The same rule answers, on the serving snapshot, who may read others' decisions.
 */
import type { AdminAction, Catalog } from "../../../catalog/catalog.js";
import { StoreError } from "../store/store-error.js";
import { type Principal, principalLabel } from "./principal.js";

/** Whether a user holds a permission in a tenant (its effective set, as the engine decides it). */
export type HoldsFn = (tenantId: string, userId: string, permissionKey: string) => boolean | Promise<boolean>;

/** What authorization needs of a tenant. */
export interface TenantRights {
  readonly id: string;
  readonly systems: readonly string[];
  readonly owners: readonly string[];
}

/** An admin read (ListUsers, ListRoles, ...) needs some admin action in the tenant, whichever. */
export type AdminNeed = AdminAction | "any";

/** The permissions that give `action` over `system` (any one suffices). */
export function actionKeys(catalog: Catalog, system: string, need: AdminNeed): readonly string[] {
  const rights = catalog.systems.find((s) => s.id === system)?.adminRights ?? [];
  return rights.filter((r) => need === "any" || r.action === need).flatMap((r) => r.permissions);
}

/**
 * Whether a user may take `need` in a tenant, decided by a synchronous `holds` (the serving
 * snapshot): how the server decides reads of others' decisions (`read-decisions`).
 */
export function mayActOnSnapshot(
  catalog: Catalog,
  holds: (permissionKey: string) => boolean,
  tenant: TenantRights,
  userId: string,
  need: AdminNeed,
): boolean {
  if (tenant.owners.includes(userId)) return true;
  return tenant.systems.some((system) => actionKeys(catalog, system, need).some(holds));
}

/**
 * Refuses a service principal: its token asks decisions, it never administers (not even reads
 * of the admin API), whatever rights its tenant's users hold. Every admin path calls this first.
 */
export function refuseService(actor: Principal): asserts actor is Exclude<Principal, { kind: "service" }> {
  if (actor.kind === "service") {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${principalLabel(actor)} is a service token: it may ask decisions, never administer (create a user's token for admin work)`,
    );
  }
}

function describeNeed(need: AdminNeed): string {
  return need === "any" ? "any admin right" : `the '${need}' right`;
}

/**
 * Rejects with PERMISSION_DENIED unless `actor` may take `need` in the tenant at all: the gate
 * every admin operation passes before it looks at its request, so a principal without the right
 * learns nothing about the tenant's contents.
 */
export async function authorizeTenant(
  catalog: Catalog,
  holds: HoldsFn,
  actor: Principal,
  tenantId: string,
  tenant: TenantRights | undefined,
  need: AdminNeed,
): Promise<void> {
  if (actor.kind === "bootstrap") return;
  refuseService(actor);
  const who = principalLabel(actor);
  if (actor.tenantId !== tenantId || tenant === undefined) {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${who} may not administer tenant '${tenantId}' (only its own tenant)`,
    );
  }
  if (tenant.owners.includes(actor.userId)) return;
  for (const system of tenant.systems) {
    for (const key of actionKeys(catalog, system, need)) if (await holds(tenantId, actor.userId, key)) return;
  }
  const keys = [...new Set(tenant.systems.flatMap((s) => actionKeys(catalog, s, need)))];
  throw new StoreError(
    "PERMISSION_DENIED",
    `${who} holds no role-administration permission giving ${describeNeed(need)} in tenant '${tenantId}' (one of: ${keys.join(", ") || "none; only the tenant's owners"})`,
  );
}

/**
 * Rejects with PERMISSION_DENIED unless `actor` may take `action` for every system in `systems`
 * (the systems a write touches). Owners and the bootstrap principal may always.
 */
export async function authorizeSystems(
  catalog: Catalog,
  holds: HoldsFn,
  actor: Principal,
  tenant: TenantRights,
  action: AdminAction,
  systems: readonly string[],
): Promise<void> {
  if (actor.kind === "bootstrap") return;
  refuseService(actor);
  if (tenant.owners.includes(actor.userId)) return;
  for (const system of systems) {
    const keys = actionKeys(catalog, system, action);
    let may = false;
    for (const key of keys) if (!may && (await holds(tenant.id, actor.userId, key))) may = true;
    if (!may) {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${principalLabel(actor)} may not administer ${system} in tenant '${tenant.id}' (${action}): needs one of ${keys.join(", ") || "(no permission gives it; only the tenant's owners)"}`,
      );
    }
  }
}
