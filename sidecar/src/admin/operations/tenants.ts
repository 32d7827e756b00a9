/** Tenants: create one (bootstrap only) with the default roles of its systems; list those visible. */
import { slugify } from "../../../../catalog/schema.js";
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, gate } from "../admin-context.js";
import { checkLicense, checkSystem } from "../catalog-refs.js";
import { createDefaultRoles } from "../default-roles.js";
import { requireTenant } from "../lookups.js";
import { type Principal, principalLabel } from "../principal.js";
import { checkId, checkIdList, checkName, checkSeats } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/** A tenant as ListTenants shows it. */
export interface TenantSummary {
  readonly id: string;
  readonly name: string;
  readonly systems: readonly string[];
  readonly owners: readonly string[];
  readonly licenseSeats: readonly { readonly licenseId: string; readonly seats: number }[];
  readonly userCount: number;
  readonly roleCount: number;
}

/** Creates a tenant with the default roles of each enabled system (bootstrap principal only). */
export function createTenant(
  ctx: AdminContext,
  actor: Principal,
  req: {
    readonly tenantId?: string | undefined;
    readonly name: string;
    readonly systems: readonly string[];
    readonly licenseSeats?: Readonly<Record<string, number>>;
    /** Users (created or not yet) who may run every admin operation in the tenant. */
    readonly ownerUserIds?: readonly string[];
  },
): Promise<WriteResult & { readonly tenantId: string; readonly roleIds: readonly string[] }> {
  const name = checkName("name", req.name);
  const tenantId = checkId("tenant_id", req.tenantId ?? slugify(name));
  return runWrite(ctx, actor, "CreateTenant", tenantId, async (tx) => {
    if (actor.kind !== "bootstrap") {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${principalLabel(actor)} may not create tenants (bootstrap only)`,
      );
    }
    // No vendor system at all is a tenant that will hold only its own systems (PutSystem).
    const systems = checkIdList("systems", req.systems, true);
    for (const [i, s] of systems.entries()) checkSystem(ctx.catalog, `systems[${i}]`, s);
    if ((await tx.tenant(tenantId)) !== undefined) {
      throw new StoreError("ALREADY_EXISTS", `tenant '${tenantId}' already exists`, { field: "tenant_id" });
    }
    const named = await tx.tenantNamed(name);
    if (named !== undefined) {
      throw new StoreError("ALREADY_EXISTS", `tenant '${named}' is already named '${name}'`, {
        field: "name",
      });
    }
    const seats = Object.entries(req.licenseSeats ?? {}).map(([licenseId, n]) => {
      const field = `license_seats[${licenseId}]`;
      checkLicense(ctx.catalog, field, licenseId, systems);
      return [licenseId, checkSeats(field, n)] as const;
    });
    const owners = checkOwners(req.ownerUserIds ?? []);
    const now = ctx.clock().toISOString();
    await tx.insertTenant({ id: tenantId, name, systems, owners }, now);
    for (const [licenseId, n] of seats) await tx.setSeats(tenantId, licenseId, n);
    const roleIds = await createDefaultRoles(tx, ctx.catalog, tenantId, systems, now);
    return {
      result: { tenantId, roleIds },
      before: null,
      after: { id: tenantId, name, systems, owners, licenseSeats: Object.fromEntries(seats), roleIds },
    };
  });
}

/** Owner ids are user ids (sorted, no repeats); they may name users not created yet. */
function checkOwners(userIds: readonly string[]): string[] {
  return [...new Set(checkIdList("owner_user_ids", userIds, true))].sort();
}

/**
 * Replaces a tenant's owners. Only the bootstrap principal or a current owner may: owners are
 * the one principal kind no catalog permission can make.
 */
export function setTenantOwners(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly ownerUserIds: readonly string[] },
): Promise<WriteResult> {
  const tenantId = checkId("tenant_id", req.tenantId);
  return runWrite(ctx, actor, "SetTenantOwners", tenantId, async (tx) => {
    const isOwner = actor.kind === "user" && actor.tenantId === tenantId;
    const tenant = isOwner || actor.kind === "bootstrap" ? await requireTenant(tx, tenantId) : undefined;
    if (tenant === undefined || (actor.kind === "user" && !tenant.owners.includes(actor.userId))) {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${principalLabel(actor)} may not change the owners of tenant '${tenantId}' (its owners or the bootstrap principal only)`,
      );
    }
    const owners = checkOwners(req.ownerUserIds);
    await tx.setOwners(tenantId, owners);
    return { result: {}, before: { owners: tenant.owners }, after: { owners } };
  });
}

/** The tenants the actor may administer (all of them for the bootstrap principal). */
export function listTenants(ctx: AdminContext, actor: Principal): Promise<TenantSummary[]> {
  return runRead(ctx, async (tx) => {
    const ids = await tx.tenantIds();
    const visible = actor.kind === "bootstrap" ? ids : ids.filter((id) => id === actor.tenantId);
    const out: TenantSummary[] = [];
    for (const id of visible) {
      // A user who may not administer their own tenant is refused, not shown an empty list.
      await gate(ctx, tx, actor, id, "any");
      const tenant = await requireTenant(tx, id);
      out.push({
        ...tenant,
        licenseSeats: await tx.licensePools(id),
        userCount: await tx.userCount(id),
        roleCount: await tx.roleCount(id),
      });
    }
    return out;
  });
}
