/**
 * Compiles one tenant against a compiled catalog: roles to closed grant bitsets and license
 * bitsets, users to role lists, the license pool to a bitset (with the tenant-held licenses every
 * user holds, and the permissions whose tenant licenses the pool lacks). A tenant compiles alone, so an
 * incremental recompile redoes only the tenants that changed.
 */
import { hasBit, orInto, setBit } from "./bitset.js";
import type { TenantPolicy } from "./policy-source.js";
import type { CompiledCatalog, CompiledTenant } from "./snapshot.js";

/** Compiles `tenant`. References the catalog does not know (grants, licenses) are dropped: they can never be held. */
export function compileTenant(catalog: CompiledCatalog, tenant: TenantPolicy): CompiledTenant {
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

  const userCount = tenant.users.length;
  const userIds: string[] = new Array(userCount);
  const userNames: string[] = new Array(userCount);
  const userIndex = new Map<string, number>();
  const userActive = new Uint8Array(userCount);
  const userRoleStart = new Int32Array(userCount + 1);
  let total = 0;
  for (const user of tenant.users) total += user.roleIds.length;
  const userRoles = new Int32Array(total);
  let at = 0;
  for (let u = 0; u < userCount; u++) {
    const user = tenant.users[u]!;
    userIds[u] = user.id;
    userNames[u] = user.displayName;
    userIndex.set(user.id, u);
    userActive[u] = user.active ? 1 : 0;
    userRoleStart[u] = at;
    for (const id of user.roleIds) {
      const r = roleIndex.get(id);
      if (r !== undefined) userRoles[at++] = r;
    }
  }
  userRoleStart[userCount] = at;

  const usersById = new Int32Array(userCount);
  for (let u = 0; u < userCount; u++) usersById[u] = u;
  usersById.sort((a, b) => {
    const x = userIds[a]!;
    const y = userIds[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });

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
    userNames,
    userIndex,
    userActive,
    userRoleStart,
    userRoles: at === total ? userRoles : userRoles.slice(0, at),
    usersById,
  };
}
