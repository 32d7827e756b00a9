/**
 * The tenant's compiled policy after a simulated write, without rereading the whole tenant: a
 * write changes roles, the license pool or the few users it names, so those are read from the
 * transaction (through the store's ordinary reads, SQLite or PostgreSQL alike) and every other
 * user is carried over from the state before — as the compiled tenant's own columns, with no
 * record per user. Reading (or rebuilding) thousands of users is what made a what-if on a large
 * tenant slow.
 */

import type { Catalog } from "../../../catalog/catalog.js";
import { compiledUserColumns, servedTenantPolicy } from "../history/served-tenant.js";
import { compileSnapshot, recompileTenants } from "../policy/compiler.js";
import { tenantOf } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { UserColumns } from "../policy/user-columns.js";
import type { PolicyStoreReads } from "../store/policy-store.js";
import type { SimulatedOperation } from "./simulate.js";

/**
 * What each write a simulation proposes may change beyond the pool, so the state after it rereads
 * only that: `user` — the user `request.userId` names (and no role); `role` — the grants or
 * licenses of the role `request.roleId` names; `roles` — which roles exist (every role is
 * reread); `none` — no user and no role. A Record, so a new proposable write must be placed here.
 */
const WRITE_REACH: Readonly<Record<SimulatedOperation, "user" | "role" | "roles" | "none">> = {
  assignRoles: "user",
  unassignRoles: "user",
  setUserActive: "user",
  grantPermissions: "role",
  revokePermissions: "role",
  setRoleLicenses: "role",
  setLicenseSeats: "none",
  createRole: "roles",
  deleteRole: "roles",
};

/** `columns` with user `u`'s flag and roles replaced (new arrays; the others are shared). */
function withUser(columns: UserColumns, u: number, active: boolean, roleIds: readonly string[]): UserColumns {
  const roleTable = [...columns.roleTable];
  const refs = roleIds.map((id) => {
    const at = roleTable.indexOf(id);
    return at >= 0 ? at : roleTable.push(id) - 1;
  });
  const { roleStart, roleRefs } = columns;
  const from = roleStart[u]!;
  const to = roleStart[u + 1]!;
  const nextRefs = new Int32Array(roleRefs.length - (to - from) + refs.length);
  nextRefs.set(roleRefs.subarray(0, from));
  nextRefs.set(refs, from);
  nextRefs.set(roleRefs.subarray(to), from + refs.length);
  const nextStart = roleStart.slice();
  const shift = refs.length - (to - from);
  for (let v = u + 1; v < nextStart.length; v++) nextStart[v]! += shift;
  const nextActive = columns.active.slice();
  nextActive[u] = active ? 1 : 0;
  return { ...columns, active: nextActive, roleStart: nextStart, roleRefs: nextRefs, roleTable };
}

/** The roles whose grants and licenses `operation` may have changed (undefined: any). */
function rolesToReread(operation: SimulatedOperation, request: object): ReadonlySet<string> | undefined {
  const reach = WRITE_REACH[operation];
  if (reach === "user" || reach === "none") return new Set();
  const roleId = (request as { readonly roleId?: unknown }).roleId;
  return reach === "role" && typeof roleId === "string" ? new Set([roleId]) : undefined;
}

/**
 * `tenantId` compiled as the transaction `tx` now holds it, after `operation` with `request`
 * was applied on top of `previous`: only what the write may have changed is reread.
 */
export async function stateAfterWrite(
  tx: PolicyStoreReads,
  catalog: Catalog,
  previous: Snapshot,
  tenantId: string,
  operation: SimulatedOperation,
  request: object,
): Promise<Snapshot> {
  const revision = previous.revision;
  const userId = (request as { readonly userId?: unknown }).userId;
  const named = WRITE_REACH[operation] === "user" && typeof userId === "string" ? userId : undefined;
  const compiled = tenantOf(previous, tenantId);
  let users = compiledUserColumns(compiled);
  if (named !== undefined) {
    const u = compiled.userIndex.get(named);
    const fresh = await tx.user(tenantId, named);
    if (u !== undefined && fresh !== undefined) {
      users = withUser(users, u, fresh.active, await tx.userRoles(tenantId, named));
    }
  }
  const tenant = await servedTenantPolicy(tx, compiled, rolesToReread(operation, request), users);
  if (tenant === undefined) return compileSnapshot(await tx.policySource(catalog, [tenantId]));
  return recompileTenants(
    previous,
    { databaseId: previous.databaseId, revision, catalog, tenants: [tenant] },
    revision,
  );
}
