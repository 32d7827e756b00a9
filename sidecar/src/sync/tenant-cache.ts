/**
 * The tenants as of the store reader's last read, so a change to a few users of a large tenant
 * rereads just those users: reading a 5,000-user tenant whole took most of a sync. The cache is
 * good only at exactly the revision and database it was filled at; the reader asks with the state
 * its caller has applied, and anything else finds nothing (and then reads tenants whole).
 */
import type { RoleRecord, TenantPolicy, UserRecord } from "../policy/policy-source.js";
import { type UserColumns, UserColumnsBuilder, userIdAt } from "../policy/user-columns.js";

/** The revision of one database file. */
export interface CacheState {
  readonly revision: number;
  readonly databaseId: string;
}

/** Tenants at one state of the store. */
export class TenantCache {
  #state: CacheState | undefined;
  #tenants = new Map<string, TenantPolicy>();

  /** The tenant as of `state`, or undefined when the cache is not at `state` or lacks the tenant. */
  get(state: CacheState, tenantId: string): TenantPolicy | undefined {
    if (this.#state?.revision !== state.revision || this.#state.databaseId !== state.databaseId)
      return undefined;
    return this.#tenants.get(tenantId);
  }

  /** After a full read: every tenant at `state`. */
  fill(state: CacheState, tenants: readonly TenantPolicy[]): void {
    this.#state = state;
    this.#tenants = new Map(tenants.map((t) => [t.id, t]));
  }

  /**
   * After an incremental read from `from` to `to`: the changed tenants as read, the removed ones
   * gone, the others unchanged. A cache that was not at `from` keeps only what was just read.
   */
  advance(
    from: CacheState,
    to: CacheState,
    changed: readonly TenantPolicy[],
    removedIds: readonly string[],
  ): void {
    const current = this.#state?.revision === from.revision && this.#state.databaseId === from.databaseId;
    if (!current) this.#tenants = new Map();
    for (const t of changed) this.#tenants.set(t.id, t);
    for (const id of removedIds) this.#tenants.delete(id);
    this.#state = to;
  }

  /** Forgets everything (a resync, a reopened file). */
  clear(): void {
    this.#state = undefined;
    this.#tenants = new Map();
  }
}

/** SQLite's BINARY collation (the order users are read in) compares UTF-8 bytes, not UTF-16 units. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * `cached` brought up to date by `fresh`: a read of the same tenant with only the users named in
 * `userIds` (those still in the store). Everything but the users comes from `fresh`; the named
 * users are replaced, added in order, or dropped when `fresh` no longer has them.
 */
export function withFreshUsers(
  cached: TenantPolicy,
  fresh: TenantPolicy,
  userIds: readonly string[],
): TenantPolicy {
  if (cached.userColumns !== undefined && fresh.userColumns !== undefined) {
    const columns =
      userIds.length === 0
        ? cached.userColumns
        : mergeColumns(cached.userColumns, fresh.userColumns, userIds);
    return { ...fresh, users: [], userColumns: columns };
  }
  if (userIds.length === 0) return { ...fresh, users: cached.users };
  const named = new Set(userIds);
  const freshById = new Map(fresh.users.map((u) => [u.id, u]));
  const kept: UserRecord[] = [];
  for (const u of cached.users) {
    if (!named.has(u.id)) kept.push(u);
    else {
      const now = freshById.get(u.id);
      if (now) kept.push(now);
      freshById.delete(u.id);
    }
  }
  if (freshById.size === 0) return { ...fresh, users: kept };
  // What is left is new: merge it in, in the store's order (one pass, however many there are).
  const added = [...freshById.values()].sort((a, b) => byUtf8(a.id, b.id));
  const users: UserRecord[] = [];
  let i = 0;
  for (const u of kept) {
    while (i < added.length && byUtf8(added[i]!.id, u.id) < 0) users.push(added[i++]!);
    users.push(u);
  }
  while (i < added.length) users.push(added[i++]!);
  return { ...fresh, users };
}

/**
 * `fresh` (a read of the tenant with only the roles named in `roleIds`) with the other roles taken
 * from `cached`, listed in `order` (the store's role order). Undefined when they do not add up —
 * a role in `order` neither named nor cached — and the tenant must be read whole.
 */
export function withFreshRoles(
  cached: TenantPolicy,
  fresh: TenantPolicy,
  roleIds: readonly string[],
  order: readonly string[],
): TenantPolicy | undefined {
  const named = new Set(roleIds);
  const freshById = new Map(fresh.roles.map((r) => [r.id, r]));
  const cachedById = new Map(cached.roles.map((r) => [r.id, r]));
  const roles: RoleRecord[] = [];
  for (const id of order) {
    const role = named.has(id) ? freshById.get(id) : cachedById.get(id);
    if (role === undefined) return undefined;
    roles.push(role);
  }
  return { ...fresh, roles };
}

/** Compares user `a` of `x` with user `b` of `y` by id bytes (the store's order). */
function compareIds(x: UserColumns, a: number, y: UserColumns, b: number): number {
  const xs = x.idStart[a]!;
  const xe = x.idStart[a + 1]!;
  const ys = y.idStart[b]!;
  const ye = y.idStart[b + 1]!;
  for (let i = xs, j = ys; i < xe && j < ye; i++, j++) {
    const d = x.idBytes[i]! - y.idBytes[j]!;
    if (d !== 0) return d;
  }
  return xe - xs - (ye - ys);
}

/**
 * The columns `cached` brought up to date by `fresh` (the users named in `userIds` that the store
 * still has, in its order): one merge by id bytes; a named user missing from `fresh` is dropped.
 * Shared memory like the columns it replaces, so the main thread receives it without a copy.
 */
function mergeColumns(cached: UserColumns, fresh: UserColumns, userIds: readonly string[]): UserColumns {
  const named = new Set(userIds);
  const out = new UserColumnsBuilder(cached.roleTable);
  let f = 0;
  for (let u = 0; u < cached.count; u++) {
    while (f < fresh.count && compareIds(fresh, f, cached, u) < 0) out.copyUser(fresh, f++);
    if (f < fresh.count && compareIds(fresh, f, cached, u) === 0) out.copyUser(fresh, f++);
    else if (!named.has(userIdAt(cached, u))) out.copyUser(cached, u);
  }
  while (f < fresh.count) out.copyUser(fresh, f++);
  return out.build("shared");
}
