/** Roles: create (optionally as a copy of another), rename, delete, list. */
import { slugify } from "../../../../catalog/schema.js";
import type { PolicyStoreReads, RoleState } from "../../store/policy-store.js";
import { type AdminContext, authorize, gate } from "../admin-context.js";
import { checkLicense, systemsOf } from "../catalog-refs.js";
import { checkAssociable, checkGrantable } from "../escalation.js";
import { checkLicenseBound, defaultGrantsOf } from "../license-rules.js";
import { requireTenant, roleState } from "../lookups.js";
import type { Principal } from "../principal.js";
import { checkRoleDeletable, checkRoleNameFree, freeRoleId } from "../role-rules.js";
import { checkId, checkIdList, checkName } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/** A role as ListRoles shows it. */
export interface RoleSummary extends RoleState {
  readonly holderCount: number;
}

/**
 * Creates a custom role, optionally as a copy of another role's grants and licenses; its licenses
 * give it what they grant by default (reported as `autoGranted`).
 */
export function createRole(
  ctx: AdminContext,
  actor: Principal,
  req: {
    readonly tenantId: string;
    readonly name: string;
    readonly basedOnRoleId?: string | undefined;
    readonly licenseIds?: readonly string[];
  },
): Promise<WriteResult & { readonly roleId: string; readonly autoGranted?: readonly string[] }> {
  return runWrite(ctx, actor, "CreateRole", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "edit-roles");
    const tenantId = checkId("tenant_id", req.tenantId);
    const name = checkName("name", req.name);
    const basedOnId =
      req.basedOnRoleId === undefined ? undefined : checkId("based_on_role_id", req.basedOnRoleId);
    const licenseIds =
      req.licenseIds === undefined ? undefined : checkIdList("license_ids", req.licenseIds, true);
    const tenant = await requireTenant(tx, tenantId);
    const basedOn = basedOnId === undefined ? undefined : await roleState(tx, tenantId, basedOnId);
    const licenses = licenseIds ?? basedOn?.licenseIds ?? [];
    for (const [i, l] of licenses.entries())
      checkLicense(ctx.catalog, `license_ids[${i}]`, l, tenant.systems);
    const copied = basedOn?.grants ?? [];
    // A copy keeps what its base holds; only licenses new to it tick their default grants.
    const autoGranted = defaultGrantsOf(
      ctx.catalog,
      copied,
      licenses.filter((l) => !(basedOn?.licenseIds ?? []).includes(l)),
    );
    await authorize(
      ctx,
      actor,
      tenant,
      "edit-roles",
      systemsOf(ctx.catalog, [...copied, ...autoGranted], licenses),
    );
    await checkGrantable(ctx, actor, tenant, copied, `copy role '${basedOnId}'`);
    await checkGrantable(
      ctx,
      actor,
      tenant,
      autoGranted,
      "create a role with licenses that grant permissions by default",
    );
    await checkAssociable(tx, actor, tenant, licenses, "associate a new role with licenses");
    await checkRoleNameFree(tx, tenantId, name, null);
    const roleId = await freeRoleId(tx, tenantId, slugify(name) || "role");
    await tx.insertRole(
      tenantId,
      {
        id: roleId,
        name,
        kind: "custom",
        basedOn: basedOn?.id ?? null,
        defaultSystem: null,
        defaultRole: null,
      },
      ctx.clock().toISOString(),
    );
    await tx.addGrants(tenantId, roleId, [...copied, ...autoGranted]);
    await tx.setRoleLicenses(tenantId, roleId, licenses);
    await checkLicenseBound(tx, ctx.catalog, ctx.licenseBound, tenantId, roleId);
    return {
      users: [],
      result: autoGranted.length === 0 ? { roleId } : { roleId, autoGranted },
      before: null,
      after: await roleState(tx, tenantId, roleId),
    };
  });
}

/**
 * What renaming and deleting share: the right first, then the ids (and `validate`, for the rest
 * of the request), the role as it is, and the right over every system it touches.
 */
async function roleToEdit(
  ctx: AdminContext,
  tx: PolicyStoreReads,
  actor: Principal,
  req: { readonly tenantId: string; readonly roleId: string },
  validate: () => void = () => {},
): Promise<{ readonly tenantId: string; readonly before: RoleState }> {
  await gate(ctx, tx, actor, req.tenantId, "edit-roles");
  const tenantId = checkId("tenant_id", req.tenantId);
  const roleId = checkId("role_id", req.roleId);
  validate();
  const tenant = await requireTenant(tx, tenantId);
  const before = await roleState(tx, tenantId, roleId);
  await authorize(ctx, actor, tenant, "edit-roles", systemsOf(ctx.catalog, before.grants, before.licenseIds));
  return { tenantId, before };
}

/** Renames a role (default roles too). */
export function renameRole(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly roleId: string; readonly name: string },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "RenameRole", req.tenantId, async (tx, ctx) => {
    let name = "";
    const { tenantId, before } = await roleToEdit(ctx, tx, actor, req, () => {
      name = checkName("name", req.name);
    });
    await checkRoleNameFree(tx, tenantId, name, before.id);
    await tx.renameRole(tenantId, before.id, name);
    return { users: [], result: {}, before, after: await roleState(tx, tenantId, before.id) };
  });
}

/** Deletes a custom role no user holds. */
export function deleteRole(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly roleId: string },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "DeleteRole", req.tenantId, async (tx, ctx) => {
    const { tenantId, before } = await roleToEdit(ctx, tx, actor, req);
    await checkRoleDeletable(tx, tenantId, before);
    await tx.deleteRole(tenantId, before.id);
    return { users: [], result: {}, before, after: null };
  });
}

/** The tenant's roles, each with its grants, licenses and holder count. */
export function listRoles(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string },
): Promise<RoleSummary[]> {
  return runRead(ctx, async (tx) => {
    await gate(ctx, tx, actor, req.tenantId, "any");
    await requireTenant(tx, req.tenantId);
    const out: RoleSummary[] = [];
    for (const r of await tx.roles(req.tenantId)) {
      out.push({
        ...(await roleState(tx, req.tenantId, r.id)),
        holderCount: await tx.holderCount(req.tenantId, r.id),
      });
    }
    return out;
  });
}
