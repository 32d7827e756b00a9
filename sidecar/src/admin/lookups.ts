/**
 * Lookups that fail with NOT_FOUND naming the field and the closest id ("unknown role 'agnet' in
 * tenant 'demo' (did you mean 'agent'?)"), and the role and user state the audit log records.
 */
import { didYouMean } from "../../../catalog/closest-key.js";
import type { PolicyStoreReads, RoleRow, RoleState, TenantRow, UserState } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";

/** The tenant, or NOT_FOUND naming `tenant_id`. */
export async function requireTenant(tx: PolicyStoreReads, tenantId: string): Promise<TenantRow> {
  const tenant = await tx.tenant(tenantId);
  if (tenant !== undefined) return tenant;
  throw new StoreError(
    "NOT_FOUND",
    `unknown tenant '${tenantId}'${didYouMean(tenantId, await tx.tenantIds())}`,
    {
      field: "tenant_id",
    },
  );
}

/** The role, or NOT_FOUND naming `field`. */
export async function requireRole(
  tx: PolicyStoreReads,
  tenantId: string,
  roleId: string,
  field = "role_id",
): Promise<RoleRow> {
  const role = await tx.role(tenantId, roleId);
  if (role !== undefined) return role;
  const ids = (await tx.roles(tenantId)).map((r) => r.id);
  throw new StoreError(
    "NOT_FOUND",
    `unknown role '${roleId}' in tenant '${tenantId}'${didYouMean(roleId, ids)}`,
    {
      field,
    },
  );
}

/** The role with its grants and licenses, or NOT_FOUND naming `field`. */
export async function roleState(
  tx: PolicyStoreReads,
  tenantId: string,
  roleId: string,
  field = "role_id",
): Promise<RoleState> {
  const role = await requireRole(tx, tenantId, roleId, field);
  return {
    ...role,
    grants: await tx.grants(tenantId, roleId),
    licenseIds: await tx.roleLicenses(tenantId, roleId),
  };
}

/** The user with their roles, or NOT_FOUND naming `user_id`. */
export async function userState(tx: PolicyStoreReads, tenantId: string, userId: string): Promise<UserState> {
  const user = await tx.user(tenantId, userId);
  if (user === undefined) {
    const ids = await tx.userIds(tenantId);
    throw new StoreError(
      "NOT_FOUND",
      `unknown user '${userId}' in tenant '${tenantId}'${didYouMean(userId, ids)}`,
      {
        field: "user_id",
      },
    );
  }
  return { ...user, roleIds: await tx.userRoles(tenantId, userId) };
}
