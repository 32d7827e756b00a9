/**
 * Compiles one tenant against a compiled catalog: roles to closed grant bitsets and license
 * bitsets, users to role lists, the license pool to a bitset (with the tenant-held licenses every
 * user holds, and the permissions whose tenant licenses the pool lacks). A tenant compiles alone, so an
 * incremental recompile redoes only the tenants that changed.
 */
import { hasBit, orInto, setBit } from "./bitset.js";
import type { TenantPolicy } from "./policy-source.js";
import type { CompiledCatalog, CompiledTenant } from "./snapshot.js";
import { decodeUserIds, type UserColumns, userColumnsOf } from "./user-columns.js";

/**
 * Compiles `tenant`. References the catalog does not know (grants, licenses) are dropped: they can
 * never be held. With `previous` (the same tenant compiled before), its user id index is reused
 * when the ids did not change — most changes touch roles, and decoding and indexing every id of a
 * large tenant was most of a recompile.
 */
export function compileTenant(
  catalog: CompiledCatalog,
  tenant: TenantPolicy,
  previous?: CompiledTenant,
): CompiledTenant {
  const { words, licenseWords } = catalog;

  const pool = new Uint32Array(licenseWords);
  for (const id of tenant.licenseSeats.keys()) {
    const l = catalog.licenseIndex.get(id);
    if (l !== undefined) setBit(pool, l);
  }
  const poolHeld = new Uint32Array(licenseWords);
  for (let w = 0; w < licenseWords; w++) poolHeld[w] = pool[w]! & catalog.tenantHeldLicenses[w]!;
  const tenantBlocked = new Uint32Array(words);
  const { permissionTenantLicenseStart: start, permissionTenantLicenses: needed } = catalog;
  for (let p = 0; p < catalog.permissionCount; p++) {
    for (let i = start[p]!; i < start[p + 1]!; i++) {
      if (!hasBit(pool, needed[i]!)) {
        setBit(tenantBlocked, p);
        break;
      }
    }
  }

  const roleCount = tenant.roles.length;
  const roleIds: string[] = new Array(roleCount);
  const roleNames: string[] = new Array(roleCount);
  const roleIndex = new Map<string, number>();
  const roleGrants = new Uint32Array(roleCount * words);
  const roleClosure = new Uint32Array(roleCount * words);
  const roleLicenses = new Uint32Array(roleCount * licenseWords);
  for (let r = 0; r < roleCount; r++) {
    const role = tenant.roles[r]!;
    roleIds[r] = role.id;
    roleNames[r] = role.name;
    roleIndex.set(role.id, r);
    for (const key of role.grants) {
      const p = catalog.permissionIndex.get(key);
      if (p === undefined) continue;
      setBit(roleGrants, p, r * words);
      orInto(roleClosure, r * words, catalog.closure, p * words, words);
    }
    for (const id of role.licenseIds) {
      const l = catalog.licenseIndex.get(id);
      if (l !== undefined) setBit(roleLicenses, l, r * licenseWords);
    }
  }

  const users = tenant.userColumns ?? userColumnsOf(tenant.users);
  const { userRoleStart, userRoles } = compileUserRoles(users, roleIndex, roleCount);
  const { userIds, userIndex, usersById } =
    previous !== undefined && sameIds(previous.users, users)
      ? previous
      : indexUsers(users, tenant.userColumns === undefined ? tenant.users.map((u) => u.id) : undefined);

  return {
    id: tenant.id,
    name: tenant.name,
    catalog,
    systems: tenant.systems,
    pool,
    poolHeld,
    tenantBlocked,
    roleIds,
    roleNames,
    roleIndex,
    roleGrants,
    roleClosure,
    roleLicenses,
    userIds,
    users,
    userIndex,
    userActive: users.active,
    userRoleStart,
    userRoles,
    usersById,
  };
}

/**
 * The users' roles as compiled role indices. When every reference already is one (the sync
 * reader numbers a tenant's roles in order), the columns' own arrays serve as they are.
 */
function compileUserRoles(
  users: UserColumns,
  roleIndex: ReadonlyMap<string, number>,
  roleCount: number,
): { userRoleStart: Int32Array; userRoles: Int32Array } {
  const table = users.roleTable;
  const toRole = new Int32Array(table.length);
  let identity = true;
  for (let i = 0; i < table.length; i++) {
    const r = roleIndex.get(table[i]!) ?? -1;
    toRole[i] = r;
    if (r !== i || i >= roleCount) identity = false;
  }
  if (identity) return { userRoleStart: users.roleStart, userRoles: users.roleRefs };
  // Otherwise map each reference, dropping role ids the tenant lacks.
  const { roleStart, roleRefs, count } = users;
  const userRoleStart = new Int32Array(count + 1);
  const userRoles = new Int32Array(roleRefs.length);
  let at = 0;
  for (let u = 0; u < count; u++) {
    userRoleStart[u] = at;
    for (let i = roleStart[u]!; i < roleStart[u + 1]!; i++) {
      const r = toRole[roleRefs[i]!]!;
      if (r >= 0) userRoles[at++] = r;
    }
  }
  userRoleStart[count] = at;
  return { userRoleStart, userRoles: at === userRoles.length ? userRoles : userRoles.slice(0, at) };
}

/** The users' ids (decoded unless given), indexed and ordered. */
function indexUsers(
  users: UserColumns,
  ids: string[] = decodeUserIds(users),
): Pick<CompiledTenant, "userIds" | "userIndex" | "usersById"> {
  const userIds = ids;
  const userIndex = new Map<string, number>();
  for (let u = 0; u < users.count; u++) userIndex.set(userIds[u]!, u);
  return { userIds, userIndex, usersById: orderById(userIds) };
}

/** Whether two columns hold the same ids in the same order (a byte comparison, no decoding). */
function sameIds(a: UserColumns, b: UserColumns): boolean {
  if (a === b) return true;
  if (a.count !== b.count || a.idBytes.length !== b.idBytes.length) return false;
  const view = (x: Uint8Array | Int32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return view(a.idStart).equals(view(b.idStart)) && view(a.idBytes).equals(view(b.idBytes));
}

/** User indices ordered by id (code-unit order); the store's order usually is that already. */
function orderById(userIds: readonly string[]): Int32Array {
  const n = userIds.length;
  const order = new Int32Array(n);
  let sorted = true;
  for (let u = 0; u < n; u++) {
    order[u] = u;
    if (u > 0 && userIds[u - 1]! > userIds[u]!) sorted = false;
  }
  if (sorted) return order;
  return order.sort((a, b) => {
    const x = userIds[a]!;
    const y = userIds[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
