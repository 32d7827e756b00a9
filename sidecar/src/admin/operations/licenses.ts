/** Licenses: which a role is associated with, how many seats a tenant has, and how many are used. */
import { isDeepStrictEqual } from "node:util";
import { type AdminContext, authorize, gate } from "../admin-context.js";
import { checkLicense, systemsOf } from "../catalog-refs.js";
import { checkAssociable, checkGrantable } from "../escalation.js";
import {
  checkLicenseBound,
  checkSeatsCoverUse,
  checkSeatsNotExceeded,
  checkSeatsPurchasable,
  defaultGrantsOf,
  seatUsage,
} from "../license-rules.js";
import { requireTenant, roleState } from "../lookups.js";
import type { Principal } from "../principal.js";
import { checkId, checkIdList, checkSeats } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/**
 * Replaces the licenses a role is associated with; a license newly associated gives the role the
 * permissions it grants by default, reported as `autoGranted`.
 */
export function setRoleLicenses(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly roleId: string; readonly licenseIds: readonly string[] },
): Promise<WriteResult & { readonly autoGranted?: readonly string[] }> {
  return runWrite(ctx, actor, "SetRoleLicenses", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "edit-roles");
    const tenantId = checkId("tenant_id", req.tenantId);
    const roleId = checkId("role_id", req.roleId);
    const licenseIds = checkIdList("license_ids", req.licenseIds, true);
    const tenant = await requireTenant(tx, tenantId);
    for (const [i, l] of licenseIds.entries())
      checkLicense(ctx.catalog, `license_ids[${i}]`, l, tenant.systems);
    const before = await roleState(tx, tenantId, roleId);
    const changed = [
      ...licenseIds.filter((l) => !before.licenseIds.includes(l)),
      ...before.licenseIds.filter((l) => !licenseIds.includes(l)),
    ];
    const added = licenseIds.filter((l) => !before.licenseIds.includes(l));
    const autoGranted = defaultGrantsOf(ctx.catalog, before.grants, added);
    await authorize(ctx, actor, tenant, "edit-roles", systemsOf(ctx.catalog, autoGranted, changed));
    await checkAssociable(tx, actor, tenant, added, `associate role '${roleId}' with licenses`);
    await checkGrantable(
      ctx,
      actor,
      tenant,
      autoGranted,
      `associate role '${roleId}' with licenses that grant permissions by default`,
    );
    // The same list in the same order: rewriting the rows would change the file for nothing.
    if (isDeepStrictEqual(licenseIds, before.licenseIds))
      return { users: [], result: {}, before, after: before };
    const usage = await seatUsage(tx, tenantId, licenseIds);
    await tx.setRoleLicenses(tenantId, roleId, licenseIds);
    await tx.addGrants(tenantId, roleId, autoGranted);
    await checkSeatsNotExceeded(tx, tenantId, usage, `associating role '${roleId}' with it`, "license_ids");
    await checkLicenseBound(tx, ctx.catalog, ctx.licenseBound, tenantId, roleId);
    return {
      users: [],
      result: autoGranted.length === 0 ? {} : { autoGranted },
      before,
      after: await roleState(tx, tenantId, roleId),
    };
  });
}

/** Sets how many seats of a license the tenant has; never below the seats in use, never more of one no longer sold. */
export function setLicenseSeats(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly licenseId: string; readonly seats: number },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "SetLicenseSeats", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-seats");
    const tenantId = checkId("tenant_id", req.tenantId);
    const licenseId = checkId("license_id", req.licenseId);
    const seats = checkSeats("seats", req.seats);
    const tenant = await requireTenant(tx, tenantId);
    checkLicense(ctx.catalog, "license_id", licenseId, tenant.systems);
    await authorize(ctx, actor, tenant, "manage-seats", systemsOf(ctx.catalog, [], [licenseId]));
    // Not in the pool (null) differs from 0 seats: a tenant with 0 seats "has" the license.
    const before = (await tx.poolSeats(tenantId, licenseId)) ?? null;
    checkSeatsPurchasable(ctx.catalog, licenseId, before, seats);
    await checkSeatsCoverUse(tx, tenantId, licenseId, seats);
    await tx.setSeats(tenantId, licenseId, seats);
    return { users: [], result: {}, before: { licenseId, seats: before }, after: { licenseId, seats } };
  });
}

/** Seats used (active users holding a role associated with the license) and seats owned. */
export function getLicenseUsage(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly licenseId: string },
): Promise<{ readonly licenseId: string; readonly used: number; readonly seats: number }> {
  return runRead(ctx, async (tx) => {
    await gate(ctx, tx, actor, req.tenantId, "any");
    await requireTenant(tx, req.tenantId);
    checkLicense(ctx.catalog, "license_id", req.licenseId, null);
    return {
      licenseId: req.licenseId,
      used: await tx.licenseUsed(req.tenantId, req.licenseId),
      seats: (await tx.poolSeats(req.tenantId, req.licenseId)) ?? 0,
    };
  });
}
