/**
 * A tenant's policy as it stood at a past revision, rebuilt in one read transaction: the tenant
 * as it is now (as a sidecar serves it, when it serves the store's revision), with the audit rows
 * committed since walked back newest first (tenant-rewind.ts).
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { customSystemTexts } from "../admin/admin-context.js";
import type { RoleRecord, TenantPolicy } from "../policy/policy-source.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { AuditRow, PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { servedTenantIn, servedTenantPolicy } from "./served-tenant.js";
import { canUndo, TenantRewind, toRoleRecord, touchedKind } from "./tenant-rewind.js";

/** Audit rows read per page while walking back. */
const PAGE = 500;

/**
 * Pages through the tenant's audit rows above `downTo`, newest first, starting below audit id
 * `beforeId`; `each` returning false stops. At a row that cannot be undone, before `each` sees
 * it: `atBarrier` is called and the walk ends, or without it FAILED_PRECONDITION is thrown.
 */
async function eachRowAbove(
  tx: PolicyStoreReads,
  tenantId: string,
  downTo: number,
  beforeId: number,
  each: (row: AuditRow) => boolean,
  atBarrier?: (row: AuditRow) => void,
): Promise<void> {
  let below = beforeId;
  for (;;) {
    const rows = await tx.auditPage(tenantId, below, PAGE);
    for (const row of rows) {
      if (row.revision <= downTo) return;
      if (!canUndo(row.operation)) {
        if (atBarrier !== undefined) return atBarrier(row);
        throw new StoreError(
          "FAILED_PRECONDITION",
          `revision ${row.revision} (${row.operation}) cannot be rebuilt from the audit log; ask for revision ${row.revision} or later`,
        );
      }
      if (!each(row)) return;
    }
    if (rows.length < PAGE) return;
    below = rows[rows.length - 1]!.id;
  }
}

/**
 * Calls `visit` for each of the tenant's audit rows above `downTo`, newest first, after undoing
 * it on `rewind` (so `rewind` then stands just before that row's write); `visit` returning
 * false stops the walk. A write that cannot be undone (PutSystem, DeleteSystem) ends it too:
 * returns its revision, the oldest whose state the walk knows (undefined when none was met).
 */
export async function walkBack(
  tx: PolicyStoreReads,
  rewind: TenantRewind,
  downTo: number,
  visit: (row: AuditRow) => boolean,
): Promise<number | undefined> {
  let barrier: number | undefined;
  await eachRowAbove(
    tx,
    rewind.tenantId,
    downTo,
    Number.MAX_SAFE_INTEGER,
    (row) => {
      rewind.undo(row);
      return visit(row);
    },
    (row) => {
      barrier = row.revision;
    },
  );
  return barrier;
}

/**
 * Walks `rewind` back to `downTo` as `walkBack` does, undoing only what decides the result: of
 * the rows about one role or one user, the state before the oldest is the state at `downTo`, so
 * the newer ones (the bulk of the audit log's bytes) are never parsed. Returns the id of the
 * last row passed.
 */
async function rewindTo(
  tx: PolicyStoreReads,
  rewind: TenantRewind,
  downTo: number,
  beforeId: number,
): Promise<number> {
  const rows: AuditRow[] = [];
  await eachRowAbove(tx, rewind.tenantId, downTo, beforeId, (row) => rows.push(row) > 0);
  const oldest = new Map<string, AuditRow>();
  for (const row of rows) {
    const key = entityOf(row);
    if (key !== undefined) oldest.set(key, row); // rows come newest first: the last one kept is the oldest
  }
  for (const row of rows) {
    const key = entityOf(row);
    if (key === undefined || oldest.get(key) === row) rewind.undo(row);
  }
  return rows.length === 0 ? beforeId : rows[rows.length - 1]!.id;
}

// The stored states begin with the role's or user's id (`{"id":"…"` — roleState and userState
// spread the row first); anything else is undone row by row.
const LEADING_ID = /^\{"id":("(?:[^"\\]|\\.)*")/;

/** "role:ID" or "user:ID" for a row about one role or one user, read without parsing the row. */
function entityOf(row: AuditRow): string | undefined {
  const kind = touchedKind(row.operation);
  if (kind === undefined) return undefined;
  const match = LEADING_ID.exec(row.before ?? row.after ?? "");
  return match === null ? undefined : `${kind}:${match[1]}`;
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
  const custom = await tx.customSystems(tenantId);
  return {
    id: tenant.id,
    name: tenant.name,
    systems: tenant.systems,
    licenseSeats: new Map(pools.map((p) => [p.licenseId, p.seats])),
    users: user === undefined ? [] : [{ ...user, roleIds: await tx.userRoles(tenantId, userId) }],
    roles,
    ...(custom.length === 0 ? {} : { customSystems: customSystemTexts(custom) }),
  };
}

/** The tenant as it is now, from `served` when that is the store now (no read of every user). */
async function tenantNow(
  tx: PolicyStoreReads,
  catalog: Catalog,
  tenantId: string,
  served: Snapshot | undefined,
): Promise<TenantPolicy | undefined> {
  const compiled = await servedTenantIn(tx, served, tenantId);
  return compiled === undefined ? currentTenant(tx, catalog, tenantId) : servedTenantPolicy(tx, compiled);
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
 * revision at or above it), else from the tenant as it is now — taken from `served` (the snapshot
 * a sidecar serves) when that is exactly the store now, else read whole from the store.
 */
export async function pastTenant(
  tx: PolicyStoreReads,
  catalog: Catalog,
  tenantId: string,
  revision: number,
  from?: PastState,
  served?: Snapshot,
): Promise<PastState> {
  const start = from ?? {
    revision: await tx.revision(),
    policy: await tenantNow(tx, catalog, tenantId, served),
    beforeId: Number.MAX_SAFE_INTEGER,
  };
  const rewind = new TenantRewind(tenantId, start.policy);
  const beforeId = await rewindTo(tx, rewind, revision, start.beforeId);
  return { revision, policy: rewind.policy(), beforeId };
}
