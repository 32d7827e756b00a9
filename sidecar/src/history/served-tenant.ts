/**
 * A tenant's policy as the store holds it now, rebuilt from the compiled tenant a sidecar already
 * serves instead of read whole: the users are the compiled tenant's own columns (no record per
 * user) and the roles' grants and licenses its bitsets, so only the tenant row, its role rows,
 * license pool and own systems are read. Reading and decoding every user is what made the first
 * ask about a past revision, or a what-if, slow on a large tenant. Valid only when the compiled
 * tenant is of the store's database at the transaction's revision (the caller checks).
 */
import { customSystemTexts } from "../admin/admin-context.js";
import type { RoleRecord, TenantPolicy } from "../policy/policy-source.js";
import type { CompiledTenant, Snapshot } from "../policy/snapshot.js";
import type { UserColumns } from "../policy/user-columns.js";
import type { PolicyStoreReads } from "../store/policy-store.js";
import { toRoleRecord } from "./tenant-rewind.js";

/**
 * The tenant's users in columns that share the compiled tenant's arrays: role references are the
 * compiled role indices, so role ids the tenant lacks stay dropped.
 */
export function compiledUserColumns(tenant: CompiledTenant): UserColumns {
  return {
    ...tenant.users,
    active: tenant.userActive,
    roleStart: tenant.userRoleStart,
    roleRefs: tenant.userRoles,
    roleTable: tenant.roleIds,
  };
}

/** The names of the bits set in `words` words of `bits` from `offset`. */
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
 * `reread` (all when undefined) and those `compiled` lacks; the others' come from `compiled`
 * (its grants are the known keys, the only ones compiling keeps anyway).
 */
async function rolesOf(
  tx: PolicyStoreReads,
  compiled: CompiledTenant,
  reread: ReadonlySet<string> | undefined,
): Promise<RoleRecord[]> {
  const { words, licenseWords, permissionKeys, licenseIds: licenseNames } = compiled.catalog;
  const out: RoleRecord[] = [];
  for (const r of await tx.roles(compiled.id)) {
    const at = compiled.roleIndex.get(r.id);
    const [grants, licenseIds] =
      reread === undefined || reread.has(r.id) || at === undefined
        ? [await tx.grants(compiled.id, r.id), await tx.roleLicenses(compiled.id, r.id)]
        : [
            namesOf(compiled.roleGrants, at * words, words, permissionKeys),
            namesOf(compiled.roleLicenses, at * licenseWords, licenseWords, licenseNames),
          ];
    out.push(toRoleRecord({ ...r, grants, licenseIds }));
  }
  return out;
}

/**
 * `compiled`'s tenant as `tx` holds it, with `users` (default: the compiled tenant's) and the
 * grants and licenses of the roles in `reread` read afresh (undefined: of every role). Undefined
 * when the tenant does not exist in `tx`.
 */
export async function servedTenantPolicy(
  tx: PolicyStoreReads,
  compiled: CompiledTenant,
  reread: ReadonlySet<string> | undefined = new Set(),
  users: UserColumns = compiledUserColumns(compiled),
): Promise<TenantPolicy | undefined> {
  const row = await tx.tenant(compiled.id);
  if (row === undefined) return undefined;
  // The tenant's own systems stay part of its policy (its catalog is built from them).
  const custom = await tx.customSystems(compiled.id);
  return {
    id: row.id,
    name: row.name,
    systems: row.systems,
    licenseSeats: new Map((await tx.licensePools(compiled.id)).map((p) => [p.licenseId, p.seats])),
    users: [],
    userColumns: users,
    roles: await rolesOf(tx, compiled, reread),
    ...(custom.length > 0 ? { customSystems: customSystemTexts(custom) } : {}),
  };
}

/** `tenantId` compiled in `snapshot` when that is exactly what `tx` holds (same database and revision). */
export async function servedTenantIn(
  tx: PolicyStoreReads,
  snapshot: Snapshot | undefined,
  tenantId: string,
): Promise<CompiledTenant | undefined> {
  if (snapshot === undefined) return undefined;
  const tenant = snapshot.tenants.get(tenantId);
  if (tenant === undefined) return undefined;
  if (snapshot.revision !== (await tx.revision()) || snapshot.databaseId !== (await tx.databaseId())) {
    return undefined;
  }
  return tenant;
}
