/**
 * "Does the actor hold this permission?" for admin authorization, answered on the store as it is
 * now — inside the write's own transaction — never on a snapshot that may lag behind it: an
 * admin whose rights were just revoked must not write in the sync's gap, nor while sync is failing.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { compileSnapshot } from "../policy/compiler.js";
import { check } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { HoldsFn } from "./authorize.js";
import type { Db } from "./database.js";
import { readPolicySourceForTenants } from "./read-policy.js";
import { readDatabaseId, readRevision } from "./revision.js";

/**
 * A HoldsFn over `db`. It uses `current()` (the serving snapshot) when that is exactly the store's
 * revision, else compiles the tenant from `db` (memoised per revision and tenant).
 */
export function createCurrentHolds(
  db: Db,
  catalog: Catalog,
  current: () => Snapshot | undefined = () => undefined,
): HoldsFn {
  let fresh: { key: string; snapshot: Snapshot } | undefined;
  const snapshotFor = (tenantId: string): Snapshot => {
    const revision = readRevision(db);
    const databaseId = readDatabaseId(db);
    const serving = current();
    if (serving && serving.revision === revision && serving.databaseId === databaseId) return serving;
    const key = `${databaseId}\0${revision}\0${tenantId}`;
    if (fresh?.key !== key) {
      fresh = { key, snapshot: compileSnapshot(readPolicySourceForTenants(db, catalog, [tenantId])) };
    }
    return fresh.snapshot;
  };
  return (tenantId, userId, key) => {
    try {
      return check(snapshotFor(tenantId), tenantId, userId, { permission: key }).allowed;
    } catch {
      return false; // unknown tenant or permission: holds nothing
    }
  };
}
