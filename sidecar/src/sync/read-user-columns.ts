/**
 * Reads a tenant's users straight into columns (UserColumns), in the store's order: the users and
 * their role assignments as two ordered scans merged as they stream, with no record per user, no
 * map of (tenant, user) keys and no second copy. Runs in the sync worker, in its read transaction.
 */
import type { Statement } from "better-sqlite3";
import { type ColumnMemory, type UserColumns, UserColumnsBuilder } from "../policy/user-columns.js";
import type { Db } from "../store/database.js";

interface Statements {
  readonly users: Statement;
  readonly assignments: Statement;
  readonly someUsers: Statement;
  readonly someAssignments: Statement;
}

const prepared = new WeakMap<Db, Statements>();

function statements(db: Db): Statements {
  let s = prepared.get(db);
  if (s === undefined) {
    // Both orders are the users' primary key order (BINARY collation), so the scans line up;
    // a user's roles come in the order they were assigned (rowid).
    const someIds = "AND id IN (SELECT value FROM json_each(?))";
    const someUserIds = "AND user_id IN (SELECT value FROM json_each(?))";
    s = {
      users: db.prepare("SELECT id, display_name, active FROM users WHERE tenant_id = ? ORDER BY id").raw(),
      assignments: db
        .prepare("SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? ORDER BY user_id, rowid")
        .raw(),
      someUsers: db
        .prepare(`SELECT id, display_name, active FROM users WHERE tenant_id = ? ${someIds} ORDER BY id`)
        .raw(),
      someAssignments: db
        .prepare(
          `SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? ${someUserIds} ORDER BY user_id, rowid`,
        )
        .raw(),
    };
    prepared.set(db, s);
  }
  return s;
}

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
  const s = statements(db);
  const args = userIds === undefined ? [tenantId] : [tenantId, JSON.stringify(userIds)];
  const users = (userIds === undefined ? s.users : s.someUsers).iterate(...args) as IterableIterator<
    [string, string, number]
  >;
  const assignments = (userIds === undefined ? s.assignments : s.someAssignments).iterate(
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
