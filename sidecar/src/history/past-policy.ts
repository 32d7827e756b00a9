/**
 * A tenant's policy as it stood at a past revision, rebuilt in one read transaction: the tenant
 * as it is now, with the audit rows committed since walked back newest first (tenant-rewind.ts).
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { RoleRecord, TenantPolicy } from "../policy/policy-source.js";
import type { AuditRow, PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { canUndo, TenantRewind, toRoleRecord } from "./tenant-rewind.js";

/** Audit rows read per page while walking back. */
const PAGE = 500;

/**
 * Calls `visit` for each of the tenant's audit rows above `downTo`, newest first, after undoing
 * it on `rewind` (so `rewind` then stands just before that row's write); `visit` returning
 * false stops the walk. Starts below audit id `beforeId` (default: the newest row). Returns the
 * id of the last row undone (`beforeId` when none was). Throws FAILED_PRECONDITION at a row that
 * cannot be undone.
 */
export async function walkBack(
  tx: PolicyStoreReads,
  rewind: TenantRewind,
  downTo: number,
  visit?: (row: AuditRow) => boolean,
  beforeId = Number.MAX_SAFE_INTEGER,
): Promise<number> {
  let lastUndone = beforeId;
  for (;;) {
    const rows = await tx.auditPage(rewind.tenantId, beforeId, PAGE);
    for (const row of rows) {
      if (row.revision <= downTo) return lastUndone;
      if (!canUndo(row.operation)) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `revision ${row.revision} (${row.operation}) cannot be rebuilt from the audit log; ask for revision ${row.revision} or later`,
        );
      }
      rewind.undo(row);
      lastUndone = row.id;
      if (visit !== undefined && !visit(row)) return lastUndone;
    }
    if (rows.length < PAGE) return lastUndone;
    beforeId = rows[rows.length - 1]!.id;
  }
}

/** The tenant as it is now: every user, or only `userId` (with every role, held or not). */
export async function currentTenant(
  tx: PolicyStoreReads,
  catalog: Catalog,
  tenantId: string,
  userId?: string,
): Promise<TenantPolicy | undefined> {
  if (userId === undefined) return (await tx.policySource(catalog, [tenantId])).tenants[0];
  const tenant = await tx.tenant(tenantId);
  if (tenant === undefined) return undefined;
  const pools = await tx.licensePools(tenantId);
  const roles: RoleRecord[] = [];
  for (const r of await tx.roles(tenantId)) {
    roles.push(
      toRoleRecord({
        ...r,
        grants: await tx.grants(tenantId, r.id),
        licenseIds: await tx.roleLicenses(tenantId, r.id),
      }),
    );
  }
  const user = await tx.user(tenantId, userId);
  return {
    id: tenant.id,
    name: tenant.name,
    systems: tenant.systems,
    licenseSeats: new Map(pools.map((p) => [p.licenseId, p.seats])),
    users: user === undefined ? [] : [{ ...user, roleIds: await tx.userRoles(tenantId, userId) }],
    roles,
  };
}

/** A tenant's whole policy at a revision, and where in the audit log the walk to it stopped. */
export interface PastState {
  readonly revision: number;
  /** `undefined`: the tenant did not exist then. */
  readonly policy: TenantPolicy | undefined;
  /** The audit rows of ids below this one (and revisions at or below `revision`) are not undone. */
  readonly beforeId: number;
}

/**
 * The tenant's whole policy at `revision`: walked back from `from` (a state already rebuilt at a
 * revision at or above it), else from the tenant as it is now.
 */
export async function pastTenant(
  tx: PolicyStoreReads,
  catalog: Catalog,
  tenantId: string,
  revision: number,
  from?: PastState,
): Promise<PastState> {
  const start = from ?? {
    revision: await tx.revision(),
    policy: await currentTenant(tx, catalog, tenantId),
    beforeId: Number.MAX_SAFE_INTEGER,
  };
  const rewind = new TenantRewind(tenantId, start.policy);
  const beforeId = await walkBack(tx, rewind, revision, undefined, start.beforeId);
  return { revision, policy: rewind.policy(), beforeId };
}
