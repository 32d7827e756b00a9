/** Users: create, activate or deactivate, list, and give or take roles. */
import type {
  PolicyStoreReads,
  PolicyStoreTx,
  RoleState,
  TenantRow,
  UserState,
} from "../../store/policy-store.js";
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, authorize, gate } from "../admin-context.js";
import { systemsOf } from "../catalog-refs.js";
import { checkAssignable } from "../escalation.js";
import { checkSeatsNotExceeded, licensesOfRoles, seatUsage } from "../license-rules.js";
import { requireTenant, roleState, userState } from "../lookups.js";
import type { Principal } from "../principal.js";
import { checkId, checkIdList, checkName } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/** Creates a user (active unless said otherwise) holding no role. */
export function createUser(
  ctx: AdminContext,
  actor: Principal,
  req: {
    readonly tenantId: string;
    readonly userId: string;
    readonly displayName: string;
    readonly active?: boolean;
  },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "CreateUser", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-users");
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    const displayName = checkName("display_name", req.displayName);
    await requireTenant(tx, tenantId);
    if ((await tx.user(tenantId, userId)) !== undefined) {
      throw new StoreError("ALREADY_EXISTS", `user '${userId}' already exists in tenant '${tenantId}'`, {
        field: "user_id",
      });
    }
    const active = req.active ?? true;
    await tx.insertUser(tenantId, { id: userId, displayName, active }, ctx.clock().toISOString());
    return { users: [userId], result: {}, before: null, after: await userState(tx, tenantId, userId) };
  });
}

/** Activates or deactivates a user; activating takes a seat of each license their roles carry. */
export function setUserActive(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly userId: string; readonly active: boolean },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "SetUserActive", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-users");
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    if (typeof req.active !== "boolean") {
      throw new StoreError("INVALID_ARGUMENT", "active must be true or false", { field: "active" });
    }
    await requireTenant(tx, tenantId);
    const before = await userState(tx, tenantId, userId);
    const usage = await seatUsage(tx, tenantId, await licensesOfRoles(tx, tenantId, before.roleIds));
    await tx.setUserActive(tenantId, userId, req.active);
    await checkSeatsNotExceeded(tx, tenantId, usage, `activating user '${userId}'`, "active");
    return { users: [userId], result: {}, before, after: await userState(tx, tenantId, userId) };
  });
}

/** The tenant's users with their roles. */
export function listUsers(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string },
): Promise<UserState[]> {
  return runRead(ctx, async (tx) => {
    await gate(ctx, tx, actor, req.tenantId, "any");
    await requireTenant(tx, req.tenantId);
    const users: UserState[] = [];
    for (const id of await tx.userIds(req.tenantId)) users.push(await userState(tx, req.tenantId, id));
    return users;
  });
}

/** The roles named, each with its grants and licenses (NOT_FOUND naming `role_ids[i]`). */
async function rolesNamed(
  tx: PolicyStoreReads,
  tenantId: string,
  roleIds: readonly string[],
): Promise<RoleState[]> {
  const roles: RoleState[] = [];
  for (const [i, r] of roleIds.entries()) roles.push(await roleState(tx, tenantId, r, `role_ids[${i}]`));
  return roles;
}

/** Request of AssignRoles and UnassignRoles. */
export interface UserRolesRequest {
  readonly tenantId: string;
  readonly userId: string;
  readonly roleIds: readonly string[];
}

/**
 * The envelope both role changes share: the tenant is named before an unknown user, and the
 * actor must administer every system the roles touch; `change` then edits the user's roles.
 */
function changeUserRoles(
  ctx: AdminContext,
  actor: Principal,
  req: UserRolesRequest,
  operation: string,
  change: (tx: PolicyStoreTx, tenant: TenantRow, userId: string, roles: RoleState[]) => Promise<void>,
): Promise<WriteResult> {
  return runWrite(ctx, actor, operation, req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "assign-roles");
    const tenantId = checkId("tenant_id", req.tenantId);
    const userId = checkId("user_id", req.userId);
    const roleIds = checkIdList("role_ids", req.roleIds, false);
    const tenant = await requireTenant(tx, tenantId); // an unknown tenant is named before an unknown user
    const before = await userState(tx, tenantId, userId);
    const roles = await rolesNamed(tx, tenantId, roleIds);
    // Giving or taking roles needs the right over every system those roles touch.
    const systems = systemsOf(
      ctx.catalog,
      roles.flatMap((r) => r.grants),
      roles.flatMap((r) => r.licenseIds),
    );
    await authorize(ctx, actor, tenant, "assign-roles", systems);
    await change(tx, tenant, userId, roles);
    return { users: [userId], result: {}, before, after: await userState(tx, tenantId, userId) };
  });
}

/** Gives a user roles; fails when a license they carry has no free seat. */
export function assignRoles(
  ctx: AdminContext,
  actor: Principal,
  req: UserRolesRequest,
): Promise<WriteResult> {
  return changeUserRoles(ctx, actor, req, "AssignRoles", async (tx, tenant, userId, roles) => {
    await checkAssignable(ctx, actor, tenant, roles);
    const roleIds = roles.map((r) => r.id);
    const usage = await seatUsage(tx, tenant.id, await licensesOfRoles(tx, tenant.id, roleIds));
    await tx.addUserRoles(tenant.id, userId, roleIds);
    await checkSeatsNotExceeded(tx, tenant.id, usage, `assigning user '${userId}'`, "role_ids");
  });
}

/** Takes roles away from a user (roles they do not hold are ignored). */
export function unassignRoles(
  ctx: AdminContext,
  actor: Principal,
  req: UserRolesRequest,
): Promise<WriteResult> {
  return changeUserRoles(ctx, actor, req, "UnassignRoles", async (tx, tenant, userId, roles) => {
    await tx.removeUserRoles(
      tenant.id,
      userId,
      roles.map((r) => r.id),
    );
  });
}
