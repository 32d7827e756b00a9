/**
 * Every user's effective set as permission keys, for comparing two states of one tenant (what
 * a change would give whom). Not for the check path: it walks every user and permission.
 */
import { hasBit } from "./bitset.js";
import { tenantView } from "./custom-catalog.js";
import { computeEffective } from "./effective-set.js";
import { tenantOf } from "./evaluator.js";
import type { Snapshot } from "./snapshot.js";

/** Per user id, the keys of the permissions in their effective set (empty for inactive users). */
export function effectiveKeysByUser(shared: Snapshot, tenantId: string): Map<string, Set<string>> {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const { permissionKeys, permissionCount } = snapshot.catalog;
  const out = new Map<string, Set<string>>();
  for (const [u, userId] of tenant.userIds.entries()) {
    const keys = new Set<string>();
    if (tenant.userActive[u] === 1) {
      const bits = computeEffective(snapshot.catalog, tenant, u);
      for (let p = 0; p < permissionCount; p++) if (hasBit(bits, p)) keys.add(permissionKeys[p]!);
    }
    out.set(userId, keys);
  }
  return out;
}
