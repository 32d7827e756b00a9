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

/** The users a simulated write may change, by operation: the one its request names. Others change none. */
const USER_WRITES: ReadonlySet<string> = new Set(["assignRoles", "unassignRoles", "setUserActive"]);

/** Writes that change the grants or licenses of the one role `request.roleId` names, and no other role's. */
const ROLE_WRITES: ReadonlySet<string> = new Set([
  "grantPermissions",
  "revokePermissions",
  "setRoleLicenses",
]);

/** Writes that change no role's grants or licenses. */
const ROLE_KEEPING_WRITES: ReadonlySet<string> = new Set([...USER_WRITES, "setLicenseSeats"]);

/** Writes known to change only roles, the pool or the user `request.userId`. */
const KNOWN_WRITES: ReadonlySet<string> = new Set([
  ...USER_WRITES,
  "grantPermissions",
  "revokePermissions",
  "setRoleLicenses",
  "setLicenseSeats",
  "createRole",
  "deleteRole",
]);

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
function rolesToReread(operation: string, request: object): ReadonlySet<string> | undefined {
  if (ROLE_KEEPING_WRITES.has(operation)) return new Set();
  const roleId = (request as { readonly roleId?: unknown }).roleId;
  return ROLE_WRITES.has(operation) && typeof roleId === "string" ? new Set([roleId]) : undefined;
}

/**
 * `tenantId` compiled as the transaction `tx` now holds it, after `operation` with `request`
 * was applied on top of `previous`. Falls back to reading the tenant whole for a write it does
 * not know.
 */
export async function stateAfterWrite(
  tx: PolicyStoreReads,
  catalog: Catalog,
  previous: Snapshot,
  tenantId: string,
  operation: string,
  request: object,
): Promise<Snapshot> {
  const revision = previous.revision;
  if (!KNOWN_WRITES.has(operation)) return compileSnapshot(await tx.policySource(catalog, [tenantId]));
  const userId = (request as { readonly userId?: unknown }).userId;
  const named = USER_WRITES.has(operation) && typeof userId === "string" ? userId : undefined;
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
