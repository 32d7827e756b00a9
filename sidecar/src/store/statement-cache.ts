/**
 * Statements prepared once per connection. better-sqlite3 compiles the SQL on every `prepare()`,
 * and the sync reader runs the same few texts on every change it reads (a follower: every commit
 * anywhere in the fleet), where compiling them cost more than running them.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "./database.js";

/** How a statement returns rows: objects (default), arrays (`raw`), or the first column (`pluck`). */
export type RowMode = "objects" | "raw" | "pluck";

const caches = new WeakMap<Db, Record<RowMode, Map<string, Statement>>>();

/**
 * `sql` prepared on `db`, compiled on first use. The texts are the program's own (a fixed set),
 * so the cache needs no bound; it goes with the connection.
 */
export function cachedStatement(db: Db, sql: string, mode: RowMode = "objects"): Statement {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = { objects: new Map(), raw: new Map(), pluck: new Map() };
    caches.set(db, cache);
  }
  let statement = cache[mode].get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    if (mode === "raw") statement.raw(true);
    else if (mode === "pluck") statement.pluck(true);
    cache[mode].set(sql, statement);
  }
  return statement;
}
