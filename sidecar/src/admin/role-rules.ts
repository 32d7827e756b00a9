/**
 * Rules about roles as records: names are unique per tenant, ids are derived from names, and a
 * role cannot be deleted while it is a default role or while any user holds it (iAdvize: a role
 * can only be deleted when no user has it).
 */
import type { PolicyStoreReads, RoleState } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";

/** ALREADY_EXISTS when another role of the tenant has this name (`self` may keep its own). */
export async function checkRoleNameFree(
  tx: PolicyStoreReads,
  tenantId: string,
  name: string,
  self: string | null,
): Promise<void> {
  const holder = await tx.roleNamed(tenantId, name);
  if (holder !== undefined && holder !== self) {
    throw new StoreError(
      "ALREADY_EXISTS",
      `role '${holder}' is already named '${name}' in tenant '${tenantId}'`,
      {
        field: "name",
      },
    );
  }
}

/** `base`, or `base-2`, `base-3`... whichever id the tenant does not use yet. */
export async function freeRoleId(tx: PolicyStoreReads, tenantId: string, base: string): Promise<string> {
  let id = base.slice(0, 190);
  for (let n = 2; (await tx.role(tenantId, id)) !== undefined; n++) id = `${base.slice(0, 190)}-${n}`;
  return id;
}

/** FAILED_PRECONDITION for a default role, or a role any user holds. */
export async function checkRoleDeletable(
  tx: PolicyStoreReads,
  tenantId: string,
  role: RoleState,
): Promise<void> {
  if (role.kind === "default") {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `role '${role.id}' is a default role of ${role.defaultSystem} and cannot be deleted (it can be renamed)`,
      { field: "role_id" },
    );
  }
  const holders = await tx.holderCount(tenantId, role.id);
  if (holders > 0) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `role '${role.id}' is held by ${holders} user${holders === 1 ? "" : "s"}; unassign it from them before deleting it`,
      { field: "role_id" },
    );
  }
}
