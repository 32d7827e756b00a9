/**
 * "Does the actor hold this permission?" for admin authorization, answered on the store as it is
 * now — inside the write's own transaction — never on a snapshot that may lag behind it: an
 * admin whose rights were just revoked must not write in the sync's gap, nor while sync is failing.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { compileSnapshot } from "../policy/compiler.js";
import { check } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { PolicyStore } from "../store/policy-store.js";
import type { HoldsFn } from "./authorize.js";

/**
 * A HoldsFn over `store`. It uses `current()` (the serving snapshot) when that is exactly the
 * store's revision, else compiles the tenant from the store (memoised per revision and tenant).
 */
export function createCurrentHolds(
  store: PolicyStore,
  catalog: Catalog,
  current: () => Snapshot | undefined = () => undefined,
): HoldsFn {
  let fresh: { key: string; snapshot: Snapshot } | undefined;
  // Joins the caller's transaction when there is one (an admin write), so it sees what it locks.
  const snapshotFor = (tenantId: string): Promise<Snapshot> =>
    store.read(async (tx) => {
      const revision = await tx.revision();
      const databaseId = await tx.databaseId();
      const serving = current();
      if (serving && serving.revision === revision && serving.databaseId === databaseId) return serving;
      const key = `${databaseId}\0${revision}\0${tenantId}`;
      if (fresh?.key !== key) {
        fresh = { key, snapshot: compileSnapshot(await tx.policySource(catalog, [tenantId])) };
      }
      return fresh.snapshot;
    });
  return async (tenantId, userId, key) => {
    try {
      return check(await snapshotFor(tenantId), tenantId, userId, { permission: key }).allowed;
    } catch {
      return false; // unknown tenant or permission: holds nothing
    }
  };
}
