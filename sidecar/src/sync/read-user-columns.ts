/**
 * Reads a tenant's users straight into columns (UserColumns), in the store's order: the users and
 * their role assignments as two ordered scans merged as they stream, with no record per user, no
 * map of (tenant, user) keys and no second copy. Runs in the sync worker, in its read transaction.
 */
import { type ColumnMemory, type UserColumns, UserColumnsBuilder } from "../policy/user-columns.js";
import type { Db } from "../store/database.js";
import { cachedStatement } from "../store/statement-cache.js";

// Both orders are the users' primary key order (BINARY collation), so the scans line up; a
// user's roles come in the order they were assigned (rowid).
const USERS = "SELECT id, display_name, active FROM users WHERE tenant_id = ? ORDER BY id";
const ASSIGNMENTS = "SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? ORDER BY user_id, rowid";
const SOME_USERS =
  "SELECT id, display_name, active FROM users WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id";
const SOME_ASSIGNMENTS =
  "SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, rowid";

/**
 * The users of `tenantId` (or only those in `userIds`) as columns. `roleIds` (the tenant's roles,
 * in order) start the role table, so each reference is already the role's index when compiled.
 */
export function readUserColumns(
  db: Db,
  tenantId: string,
  roleIds: readonly string[],
  userIds?: readonly string[],
  memory: ColumnMemory = "shared",
): UserColumns {
  const some = userIds !== undefined;
  const args = some ? [tenantId, JSON.stringify(userIds)] : [tenantId];
  const users = cachedStatement(db, some ? SOME_USERS : USERS, "raw").iterate(...args) as IterableIterator<
    [string, string, number]
  >;
  const assignments = cachedStatement(db, some ? SOME_ASSIGNMENTS : ASSIGNMENTS, "raw").iterate(
    ...args,
  ) as IterableIterator<[string, string]>;
  const builder = new UserColumnsBuilder(roleIds);
  let next = assignments.next();
  try {
    for (const [id, name, active] of users) {
      builder.addUser(id, name, active === 1);
      // Assignments of users before this one cannot exist (foreign key); skip any defensively.
      while (!next.done && next.value[0] !== id && byteOrder(next.value[0], id) < 0)
        next = assignments.next();
      while (!next.done && next.value[0] === id) {
        builder.addRole(next.value[1]);
        next = assignments.next();
      }
    }
  } finally {
    // Closing an unfinished iterator frees its statement for the next call.
    assignments.return?.();
  }
  return builder.build(memory);
}

/** SQLite's BINARY order of two strings (UTF-8 bytes). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
