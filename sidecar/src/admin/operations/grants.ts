/**
 * Grants: granting adds what the permissions require and imply (grant-closure.ts) and reports
 * it; revoking what other grants require fails unless `cascade`; default roles keep theirs.
 */
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, authorize, gate } from "../admin-context.js";
import { checkPermission, systemsOf } from "../catalog-refs.js";
import { checkDefaultRoleKeeps } from "../default-roles.js";
import { checkGrantable } from "../escalation.js";
import { cascadeRevoke, closeGrants, findDependents, requirementCycleOf } from "../grant-closure.js";
import { checkLicenseBound } from "../license-rules.js";
import { requireTenant, roleState } from "../lookups.js";
import type { Principal } from "../principal.js";
import { checkId, checkIdList } from "../validate.js";
import { runWrite, type WriteResult } from "../write.js";

/** Grants permissions to a role, with what they require and imply; returns what was added beyond the request. */
export function grantPermissions(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly roleId: string; readonly permissions: readonly string[] },
): Promise<WriteResult & { readonly granted: readonly string[]; readonly autoGranted: readonly string[] }> {
  return runWrite(ctx, actor, "GrantPermissions", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "edit-roles");
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const keys = checkIdList("permissions", req.permissions, false);
    const tenant = await requireTenant(tx, tenantId);
    for (const [i, k] of keys.entries()) checkPermission(ctx.catalog, `permissions[${i}]`, k, tenant.systems);
    const before = await roleState(tx, tenantId, roleId);
    const added = closeGrants(ctx.catalog, new Set(before.grants), keys);
    await authorize(ctx, actor, tenant, "edit-roles", systemsOf(ctx.catalog, [...keys, ...added], []));
    await checkGrantable(ctx, actor, tenant, [...keys, ...added], `grant to role '${roleId}'`);
    await tx.addGrants(tenantId, roleId, added);
    await checkLicenseBound(tx, ctx.catalog, ctx.licenseBound, tenantId, roleId);
    const requested = new Set(keys);
    return {
      users: [],
      result: { granted: added, autoGranted: added.filter((k) => !requested.has(k)) },
      before,
      after: await roleState(tx, tenantId, roleId),
    };
  });
}

/** Revokes permissions from a role; fails while other grants depend on them unless `cascade`. */
export function revokePermissions(
  ctx: AdminContext,
  actor: Principal,
  req: {
    readonly tenantId: string;
    readonly roleId: string;
    readonly permissions: readonly string[];
    readonly cascade?: boolean;
  },
): Promise<WriteResult & { readonly revoked: readonly string[] }> {
  return runWrite(ctx, actor, "RevokePermissions", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "edit-roles");
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const keys = checkIdList("permissions", req.permissions, false);
    const tenant = await requireTenant(tx, tenantId);
    const before = await roleState(tx, tenantId, roleId);
    const held = new Set(before.grants);
    // A key the catalog no longer has can still be revoked when the role holds it.
    for (const [i, k] of keys.entries())
      if (!held.has(k)) checkPermission(ctx.catalog, `permissions[${i}]`, k, null);
    const requested = new Set(keys.filter((k) => held.has(k)));
    let removing: Set<string>;
    if (req.cascade === true) {
      removing = cascadeRevoke(ctx.catalog, held, requested);
    } else {
      const dependents = findDependents(ctx.catalog, held, requested);
      if (dependents.size > 0) {
        const list = [...dependents].map(([k, needs]) => `${k} (needs ${needs.join(", ")})`).join("; ");
        const cycles = [...requested]
          .map((k) => [k, ...requirementCycleOf(ctx.catalog, held, k)])
          .filter((members) => members.length > 1)
          .map((members) => `${members.join(" and ")} require each other`);
        throw new StoreError(
          "FAILED_PRECONDITION",
          `cannot revoke from role '${roleId}': still required by ${list}; ${cycles.length > 0 ? `${[...new Set(cycles)].join("; ")}, so revoke them together or set cascade` : "revoke those too or set cascade"}`,
          { field: "permissions" },
        );
      }
      removing = requested;
    }
    await authorize(ctx, actor, tenant, "edit-roles", systemsOf(ctx.catalog, [...removing], []));
    checkDefaultRoleKeeps(ctx.catalog, before, removing);
    const revoked = before.grants.filter((k) => removing.has(k));
    await tx.removeGrants(tenantId, roleId, revoked);
    return { users: [], result: { revoked }, before, after: await roleState(tx, tenantId, roleId) };
  });
}
