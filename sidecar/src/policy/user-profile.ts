/** Who a user is in a snapshot: their roles and the licenses they hold through them. */
import { hasBit } from "./bitset.js";
import { tenantView } from "./custom-catalog.js";
import { tenantOf } from "./evaluator.js";
import type { Snapshot } from "./snapshot.js";
import { userNameAt } from "./user-columns.js";

/** A user's roles and held licenses; empty for an unknown user. */
export interface UserProfile {
  readonly found: boolean;
  readonly active: boolean;
  readonly displayName: string;
  readonly roleIds: string[];
  /** Licenses associated with one of the user's roles that the tenant's pool has. */
  readonly licenseIds: string[];
}

/** The profile of a user; throws `UnknownTenantError` for an unknown tenant. */
export function userProfile(shared: Snapshot, tenantId: string, userId: string): UserProfile {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const u = tenant.userIndex.get(userId);
  if (u === undefined) return { found: false, active: false, displayName: "", roleIds: [], licenseIds: [] };
  const { licenseIds, licenseWords } = snapshot.catalog;
  const roleIds: string[] = [];
  const held = new Set<string>();
  for (let i = tenant.userRoleStart[u]!; i < tenant.userRoleStart[u + 1]!; i++) {
    const r = tenant.userRoles[i]!;
    roleIds.push(tenant.roleIds[r]!);
    for (let l = 0; l < licenseIds.length; l++) {
      if (hasBit(tenant.roleLicenses, l, r * licenseWords) && hasBit(tenant.pool, l))
        held.add(licenseIds[l]!);
    }
  }
  return {
    found: true,
    active: tenant.userActive[u] === 1,
    displayName: userNameAt(tenant.users, u),
    roleIds,
    licenseIds: [...held].sort(),
  };
}
