/**
 * The tenant's compiled policy after a simulated write, without rereading the whole tenant: a
 * write changes roles, the license pool or the few users it names, so those are read from the
 * transaction (through the store's ordinary reads, SQLite or PostgreSQL alike) and every other
 * user is carried over from the state before — as the compiled tenant's own columns, with no
 * record per user. Reading (or rebuilding) thousands of users is what made a what-if on a large
 * tenant slow.
 */

import type { Catalog } from "../../../catalog/catalog.js";
import { toRoleRecord } from "../history/tenant-rewind.js";
import { compileSnapshot, recompileTenants } from "../policy/compiler.js";
import { tenantOf } from "../policy/evaluator.js";
import type { RoleRecord, TenantPolicy } from "../policy/policy-source.js";
import type { CompiledTenant, Snapshot } from "../policy/snapshot.js";
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

/**
 * A tenant's users as the compiled tenant holds them, in columns that share its arrays (no record
 * per user): role references are the compiled role indices, so role ids it lacks stay dropped.
 */
function columnsOf(tenant: CompiledTenant): UserColumns {
  return {
    ...tenant.users,
    active: tenant.userActive,
    roleStart: tenant.userRoleStart,
    roleRefs: tenant.userRoles,
    roleTable: tenant.roleIds,
  };
}

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

/** The keys of the bits set in `words` words of `bits` from `offset`, named by `names`. */
function namesOf(bits: Uint32Array, offset: number, words: number, names: readonly string[]): string[] {
  const out: string[] = [];
  for (let w = 0; w < words; w++) {
    let word = bits[offset + w]!;
    while (word !== 0) {
      const low = word & -word;
      word ^= low;
      out.push(names[(w << 5) + (31 - Math.clz32(low))]!);
    }
  }
  return out;
}

/**
 * The tenant's roles as `tx` holds them. Grants and licenses are read only for the roles in
 * `reread` (all when undefined): the others' come from `compiled`, which the write left alone
 * (its compiled grants are the known keys, the only ones compiling keeps anyway).
 */
async function rolesOf(
  tx: PolicyStoreReads,
  tenantId: string,
  compiled: CompiledTenant,
  reread: ReadonlySet<string> | undefined,
): Promise<RoleRecord[]> {
  const { words, licenseWords, permissionKeys, licenseIds: licenseNames } = compiled.catalog;
  const out: RoleRecord[] = [];
  for (const r of await tx.roles(tenantId)) {
    const at = compiled.roleIndex.get(r.id);
    const [grants, licenseIds] =
      reread === undefined || reread.has(r.id) || at === undefined
        ? [await tx.grants(tenantId, r.id), await tx.roleLicenses(tenantId, r.id)]
        : [
            namesOf(compiled.roleGrants, at * words, words, permissionKeys),
            namesOf(compiled.roleLicenses, at * licenseWords, licenseWords, licenseNames),
          ];
    out.push(toRoleRecord({ ...r, grants, licenseIds }));
  }
  return out;
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
  const row = await tx.tenant(tenantId);
  if (row === undefined) return compileSnapshot(await tx.policySource(catalog, [tenantId]));
  const userId = (request as { readonly userId?: unknown }).userId;
  const named = USER_WRITES.has(operation) && typeof userId === "string" ? userId : undefined;
  const compiled = tenantOf(previous, tenantId);
  let userColumns = columnsOf(compiled);
  if (named !== undefined) {
    const u = compiled.userIndex.get(named);
    const fresh = await tx.user(tenantId, named);
    if (u !== undefined && fresh !== undefined) {
      userColumns = withUser(userColumns, u, fresh.active, await tx.userRoles(tenantId, named));
    }
  }
  // The tenant's own systems stay part of its policy (its catalog is built from them).
  const custom = await tx.customSystems(tenantId);
  const tenant: TenantPolicy = {
    id: row.id,
    name: row.name,
    systems: row.systems,
    licenseSeats: new Map((await tx.licensePools(tenantId)).map((p) => [p.licenseId, p.seats])),
    users: [],
    userColumns,
    roles: await rolesOf(tx, tenantId, compiled, rolesToReread(operation, request)),
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
