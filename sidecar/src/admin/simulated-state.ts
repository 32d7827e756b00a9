/**
 * The tenant's compiled policy after a simulated write, without rereading the whole tenant: a
 * write changes roles, the license pool or the few users it names, so those are read from the
 * transaction (through the store's ordinary reads, SQLite or PostgreSQL alike) and every other
 * user is carried over from the state before. Reading thousands of users back is what made a
 * what-if on a large tenant slow.
 */

import type { Catalog } from "../../../catalog/catalog.js";
import { toRoleRecord } from "../history/tenant-rewind.js";
import { compileSnapshot, recompileTenants } from "../policy/compiler.js";
import { tenantOf } from "../policy/evaluator.js";
import type { RoleRecord, TenantPolicy, UserRecord } from "../policy/policy-source.js";
import type { Snapshot } from "../policy/snapshot.js";
import { userNameAt } from "../policy/user-columns.js";
import type { PolicyStoreReads } from "../store/policy-store.js";

/** The users a simulated write may change, by operation: the one its request names. Others change none. */
const USER_WRITES: ReadonlySet<string> = new Set(["assignRoles", "unassignRoles", "setUserActive"]);

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

/** A tenant's users as the compiled tenant holds them (role ids it lacks were already dropped). */
function usersOf(snapshot: Snapshot, tenantId: string): UserRecord[] {
  const t = tenantOf(snapshot, tenantId);
  return t.userIds.map((id, u) => ({
    id,
    displayName: userNameAt(t.users, u),
    active: t.userActive[u] === 1,
    roleIds: Array.from(
      t.userRoles.subarray(t.userRoleStart[u]!, t.userRoleStart[u + 1]!),
      (r) => t.roleIds[r]!,
    ),
  }));
}

async function rolesOf(tx: PolicyStoreReads, tenantId: string): Promise<RoleRecord[]> {
  const out: RoleRecord[] = [];
  for (const r of await tx.roles(tenantId)) {
    const [grants, licenseIds] = [await tx.grants(tenantId, r.id), await tx.roleLicenses(tenantId, r.id)];
    out.push(toRoleRecord({ ...r, grants, licenseIds }));
  }
  return out;
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
  const row = await tx.tenant(tenantId);
  if (row === undefined) return compileSnapshot(await tx.policySource(catalog, [tenantId]));
  const userId = (request as { readonly userId?: unknown }).userId;
  const named = USER_WRITES.has(operation) && typeof userId === "string" ? userId : undefined;
  const users = usersOf(previous, tenantId);
  if (named !== undefined) {
    const at = users.findIndex((u) => u.id === named);
    const fresh = await tx.user(tenantId, named);
    if (at >= 0 && fresh !== undefined) {
      users[at] = { ...fresh, roleIds: await tx.userRoles(tenantId, named) };
    }
  }
  // The tenant's own systems stay part of its policy (its catalog is built from them).
  const custom = await tx.customSystems(tenantId);
  const tenant: TenantPolicy = {
    id: row.id,
    name: row.name,
    systems: row.systems,
    licenseSeats: new Map((await tx.licensePools(tenantId)).map((p) => [p.licenseId, p.seats])),
    users,
    roles: await rolesOf(tx, tenantId),
    ...(custom.length > 0
      ? { customSystems: custom.map((c) => ({ id: c.systemId, document: c.document })) }
      : {}),
  };
  return recompileTenants(
    previous,
    { databaseId: previous.databaseId, revision, catalog, tenants: [tenant] },
    revision,
  );
}
