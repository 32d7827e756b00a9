/** Users: create, activate or deactivate, list, and give or take roles. */
import type { PolicyStoreReads, PolicyStoreTx, UserState } from "../../store/policy-store.js";
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, authorize } from "../admin-context.js";
import { systemsOf } from "../catalog-refs.js";
import { checkSeatsNotExceeded, licensesOfRoles, seatUsage } from "../license-rules.js";
import { requireRole, requireTenant, roleState, userState } from "../lookups.js";
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
  const tenantId = checkId("tenant_id", req.tenantId);
  const userId = checkId("user_id", req.userId);
  const displayName = checkName("display_name", req.displayName);
  return runWrite(ctx, actor, "CreateUser", tenantId, async (tx) => {
    await authorize(ctx, actor, await requireTenant(tx, tenantId), []);
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
  const tenantId = checkId("tenant_id", req.tenantId);
  const userId = checkId("user_id", req.userId);
  if (typeof req.active !== "boolean") {
    throw new StoreError("INVALID_ARGUMENT", "active must be true or false", { field: "active" });
  }
  return runWrite(ctx, actor, "SetUserActive", tenantId, async (tx) => {
    await authorize(ctx, actor, await requireTenant(tx, tenantId), []);
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
    await authorize(ctx, actor, await requireTenant(tx, req.tenantId), []);
    const users: UserState[] = [];
    for (const id of await tx.userIds(req.tenantId)) users.push(await userState(tx, req.tenantId, id));
    return users;
  });
}

/** Giving or taking roles needs the right to administer every system those roles touch. */
async function authorizeRoleChange(
  ctx: AdminContext,
  tx: PolicyStoreReads,
  actor: Principal,
  tenantId: string,
  roleIds: readonly string[],
): Promise<void> {
  const grants: string[] = [];
  const licenses: string[] = [];
  for (const [i, r] of roleIds.entries()) {
    const role = await roleState(tx, tenantId, (await requireRole(tx, tenantId, r, `role_ids[${i}]`)).id);
    grants.push(...role.grants);
    licenses.push(...role.licenseIds);
  }
  await authorize(ctx, actor, await requireTenant(tx, tenantId), systemsOf(ctx.catalog, grants, licenses));
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
  change: (tx: PolicyStoreTx, tenantId: string, userId: string, roleIds: string[]) => Promise<void>,
): Promise<WriteResult> {
  const tenantId = checkId("tenant_id", req.tenantId);
  const userId = checkId("user_id", req.userId);
  const roleIds = checkIdList("role_ids", req.roleIds, false);
  return runWrite(ctx, actor, operation, tenantId, async (tx) => {
    await requireTenant(tx, tenantId);
    const before = await userState(tx, tenantId, userId);
    await authorizeRoleChange(ctx, tx, actor, tenantId, roleIds);
    await change(tx, tenantId, userId, roleIds);
    return { users: [userId], result: {}, before, after: await userState(tx, tenantId, userId) };
  });
}

/** Gives a user roles; fails when a license they carry has no free seat. */
export function assignRoles(
  ctx: AdminContext,
  actor: Principal,
  req: UserRolesRequest,
): Promise<WriteResult> {
  return changeUserRoles(ctx, actor, req, "AssignRoles", async (tx, tenantId, userId, roleIds) => {
    const usage = await seatUsage(tx, tenantId, await licensesOfRoles(tx, tenantId, roleIds));
    await tx.addUserRoles(tenantId, userId, roleIds);
    await checkSeatsNotExceeded(tx, tenantId, usage, `assigning user '${userId}'`, "role_ids");
  });
}

/** Takes roles away from a user (roles they do not hold are ignored). */
export function unassignRoles(
  ctx: AdminContext,
  actor: Principal,
  req: UserRolesRequest,
): Promise<WriteResult> {
  return changeUserRoles(ctx, actor, req, "UnassignRoles", (tx, tenantId, userId, roleIds) =>
    Promise.resolve(tx.removeUserRoles(tenantId, userId, roleIds)),
  );
}
