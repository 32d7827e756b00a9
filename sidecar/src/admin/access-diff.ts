/**
 * Who would gain or lose what between two compiled states of one tenant (what-if). Effective sets
 * are compared as bitsets, computed once per distinct set of roles held and, after a change, only
 * for the holders of the roles it changed; users are indexed as the compiled tenant indexes them
 * (no map or record per user), and what changed is worked out once per pair of role sets, so a
 * change on a role thousands of users hold costs a bitset comparison per user.
 */

import { hasBit } from "../policy/bitset.js";
import { tenantView } from "../policy/custom-catalog.js";
import { computeEffective, effectiveWords } from "../policy/effective-set.js";
import { actorRequirementHolds, tenantOf } from "../policy/evaluator.js";
import { holds, LEAF } from "../policy/requirement-program.js";
import type { CompiledCatalog, CompiledTenant, Snapshot } from "../policy/snapshot.js";

/**
 * One user's access: the effective set (words `[0, W)` of `bits`; surfaces are decided on it) and
 * the permissions a check allows (`allowed`: the effective set less those whose acting-user
 * requirement is unmet — held, yet denied when the user acts). Gains and losses are reported on
 * `allowed`, so a what-if says what checks will answer.
 */
interface Held {
  readonly bits: Uint32Array;
  readonly allowed: Uint32Array;
}

/** Every user's access in one tenant of one snapshot. */
export interface TenantAccess {
  /** The tenant's view: the snapshot with its own systems in the catalog (decide on this). */
  readonly snapshot: Snapshot;
  /** The snapshot the view was taken of (recompile from this). */
  readonly shared: Snapshot;
  /** The compiled tenant: user `u` is `tenant.userIds[u]`. */
  readonly tenant: CompiledTenant;
  /**
   * Per user index, its access (`NOTHING` for an inactive user). Users holding the same roles
   * share one object, so "did anything change?" is often a reference comparison.
   */
  readonly held: readonly Held[];
  /** Surface ids of the tenant's systems, in catalog order. */
  readonly surfaces: readonly string[];
  /** How many distinct accesses were computed (role sets, where nothing was carried over). */
  readonly distinct: number;
  /** The same surfaces, to look up. */
  readonly surfaceSet: ReadonlySet<string>;
}

/** The access of an unknown or inactive user: nothing, and no surface. */
const NOTHING: Held = { bits: new Uint32Array(0), allowed: new Uint32Array(0) };

/** Per catalog, per permission index, the surfaces whose requirement mentions it. */
const surfacesByPermission = new WeakMap<CompiledCatalog, ReadonlyMap<number, readonly string[]>>();

function surfacesMentioning(catalog: CompiledCatalog): ReadonlyMap<number, readonly string[]> {
  let index = surfacesByPermission.get(catalog);
  if (index === undefined) {
    const out = new Map<number, string[]>();
    const code = catalog.program;
    for (const [surface, start] of catalog.surfaceStart) {
      // Programs are prefix-ordered: the root's extent holds exactly its leaves and groups.
      const end = code[start] === LEAF ? start + 2 : code[start + 1]!;
      for (let pc = start; pc < end; pc += 2) {
        if (code[pc] !== LEAF) continue;
        const p = code[pc + 1]!;
        const list = out.get(p) ?? [];
        if (list.at(-1) !== surface) list.push(surface);
        out.set(p, list);
      }
    }
    index = out;
    surfacesByPermission.set(catalog, index);
  }
  return index;
}

/** A key for user `u`'s set of roles: one character per role index (a tenant has far fewer than 65,536). */
function roleSetKey(tenant: CompiledTenant, u: number): string {
  const start = tenant.userRoleStart[u]!;
  const end = tenant.userRoleStart[u + 1]!;
  const roles = tenant.userRoles;
  let key = "";
  for (let i = start; i < end; i++) key += String.fromCharCode(roles[i]!);
  return key;
}

/**
 * Per role of `after.tenant`, 1 when a user holding it may hold something else than before: its
 * closure or licenses changed. Undefined when users cannot be carried over at all (another
 * catalog, pool, user list or numbering of roles: every user is recomputed).
 */
function changedRoles(
  before: TenantAccess,
  after: Omit<TenantAccess, "held" | "distinct">,
): Uint8Array | undefined {
  const a = before.tenant;
  const b = after.tenant;
  if (before.snapshot.catalog !== after.snapshot.catalog || a.userIds !== b.userIds) return undefined;
  if (!sameWords(a.pool, b.pool) || !sameWords(a.poolHeld, b.poolHeld)) return undefined;
  if (!sameWords(a.tenantBlocked, b.tenantBlocked)) return undefined;
  const { words: W, licenseWords: LW } = after.snapshot.catalog;
  const out = new Uint8Array(b.roleIds.length);
  for (let r = 0; r < b.roleIds.length; r++) {
    // The users' role indices are shared, so index r must name the same role on both sides.
    if (r >= a.roleIds.length || a.roleIds[r] !== b.roleIds[r]) return undefined;
    const same =
      sameWords(a.roleClosure, b.roleClosure, r * W, W) &&
      sameWords(a.roleLicenses, b.roleLicenses, r * LW, LW);
    if (!same) out[r] = 1;
  }
  return out;
}

/** Whether user `u` may hold something else in `b` than in `a`: other flag, other roles, or a changed role. */
function touched(a: CompiledTenant, b: CompiledTenant, u: number, dirty: Uint8Array): boolean {
  if (a.userActive[u] !== b.userActive[u]) return true;
  const start = b.userRoleStart[u]!;
  const end = b.userRoleStart[u + 1]!;
  // Shared arrays (a write on roles only) need no comparison; a write on one user replaced them.
  if (a.userRoles !== b.userRoles || a.userRoleStart !== b.userRoleStart) {
    const from = a.userRoleStart[u]!;
    if (a.userRoleStart[u + 1]! - from !== end - start) return true;
    for (let i = 0; i < end - start; i++) if (a.userRoles[from + i] !== b.userRoles[start + i]) return true;
  }
  for (let i = start; i < end; i++) if (dirty[b.userRoles[i]!] === 1) return true;
  return false;
}

/** Whether `a` and `b` hold the same `length` words from `offset` (all of them by default). */
function sameWords(a: Uint32Array, b: Uint32Array, offset = 0, length = a.length): boolean {
  if (a.length !== b.length) return false;
  for (let w = offset; w < offset + length; w++) if (a[w] !== b[w]) return false;
  return true;
}

/**
 * Zeroed buffers of `size` words, handed out as views into chunks: thousands of users' effective
 * sets cost a few allocations, not one buffer (and its garbage) each.
 */
class Slab {
  private chunk = new Uint32Array(0);
  private at = 0;

  constructor(private readonly size: number) {}

  next(): Uint32Array {
    if (this.at + this.size > this.chunk.length) {
      this.chunk = new Uint32Array(this.size * 256);
      this.at = 0;
    }
    const out = this.chunk.subarray(this.at, this.at + this.size);
    this.at += this.size;
    return out;
  }
}

/** Most distinct role sets a served state is kept with (beyond it, its memory outweighs a recompute). */
const MAX_KEPT_ROLE_SETS = 50_000;

/** Per served snapshot, the tenants' access on it: dropped with the snapshot. */
const servedAccess = new WeakMap<Snapshot, Map<string, TenantAccess>>();

/**
 * `tenantAccess(served, tenantId)`, kept with the snapshot a sidecar serves: simulations between
 * two policy changes all start from it (an admin tries several what-ifs on one revision).
 */
export function servedTenantAccess(served: Snapshot, tenantId: string): TenantAccess {
  let tenants = servedAccess.get(served);
  const kept = tenants?.get(tenantId);
  if (kept !== undefined) return kept;
  const access = tenantAccess(served, tenantId);
  if (access.distinct <= MAX_KEPT_ROLE_SETS) {
    if (tenants === undefined) {
      tenants = new Map();
      servedAccess.set(served, tenants);
    }
    // A few tenants at most: the ones being simulated on now.
    if (tenants.size >= 4) tenants.delete(tenants.keys().next().value!);
    tenants.set(tenantId, access);
  }
  return access;
}

/**
 * The access of every user of `tenantId` on `shared`. With `from` (the same tenant before a
 * change), a user none of whose roles changed keeps `from`'s access as it is: a grant on one
 * role recomputes only its holders.
 */
export function tenantAccess(shared: Snapshot, tenantId: string, from?: TenantAccess): TenantAccess {
  const tenant = tenantOf(shared, tenantId);
  // A tenant with systems of its own is decided on its own view (its catalog holds them).
  const snapshot = tenantView(shared, tenantId);
  const catalog = snapshot.catalog.source;
  const surfaces = [...catalog.surfaces.values()]
    .filter((s) => tenant.systems.includes(s.system))
    .map((s) => s.id);
  const partial = { snapshot, shared, tenant, surfaces, surfaceSet: new Set(surfaces) };
  const dirty = from === undefined ? undefined : changedRoles(from, partial);
  const { userActive } = tenant;
  const n = tenant.userIds.length;
  const byRoles = new Map<string, Held>();
  const held: Held[] = new Array(n);
  const slab = new Slab(effectiveWords(snapshot.catalog));
  for (let u = 0; u < n; u++) {
    if (userActive[u] === 0) {
      held[u] = NOTHING;
      continue;
    }
    if (dirty !== undefined && !touched(from!.tenant, tenant, u, dirty)) {
      held[u] = from!.held[u]!;
      continue;
    }
    // The effective set depends only on the roles held (and the tenant): share it.
    const key = roleSetKey(tenant, u);
    let h = byRoles.get(key);
    if (h === undefined) {
      const bits = computeEffective(snapshot.catalog, tenant, u, slab.next());
      h = { bits, allowed: allowedOf(snapshot, bits) };
      byRoles.set(key, h);
    }
    held[u] = h;
  }
  return { ...partial, held, distinct: byRoles.size };
}

/** Per catalog, the permissions with a requirement only the acting user must meet. */
const actorPermissionsByCatalog = new WeakMap<CompiledCatalog, readonly number[]>();

function actorPermissions(catalog: CompiledCatalog): readonly number[] {
  let out = actorPermissionsByCatalog.get(catalog);
  if (out === undefined) {
    const list: number[] = [];
    for (let p = 0; p < catalog.permissionCount; p++) {
      if (catalog.actorRequirementStart[p]! >= 0) list.push(p);
    }
    out = list;
    actorPermissionsByCatalog.set(catalog, out);
  }
  return out;
}

/** `bits` less the permissions whose acting-user requirement it does not meet (the same array when none). */
function allowedOf(snapshot: Snapshot, bits: Uint32Array): Uint32Array {
  let out = bits;
  for (const p of actorPermissions(snapshot.catalog)) {
    if (!hasBit(bits, p) || actorRequirementHolds(snapshot, p, bits)) continue;
    if (out === bits) out = bits.slice(0, snapshot.catalog.words);
    out[p >>> 5]! &= ~(1 << (p & 31));
  }
  return out;
}

/** Whether `held` shows the surface (false for an unknown or inactive user). */
function shows(snapshot: Snapshot, held: Held, surface: string): boolean {
  if (held === NOTHING) return false;
  return holds(snapshot.catalog.program, snapshot.catalog.surfaceStart.get(surface)!, held.bits);
}

/** For each user of `after`, its index in `before` (-1 when new); null when both list the same users alike. */
function alignment(before: TenantAccess, after: TenantAccess): Int32Array | null {
  const a = before.tenant;
  const b = after.tenant;
  if (a.userIds === b.userIds) return null;
  const out = new Int32Array(b.userIds.length);
  let same = a.userIds.length === b.userIds.length;
  for (let u = 0; u < out.length; u++) {
    const i = a.userIndex.get(b.userIds[u]!) ?? -1;
    out[u] = i;
    if (i !== u) same = false;
  }
  return same ? null : out;
}

/** The indices in `before` of its users `after` no longer has. */
function removedUsers(before: TenantAccess, after: TenantAccess): number[] {
  if (before.tenant.userIds === after.tenant.userIds) return [];
  const out: number[] = [];
  for (const [u, id] of before.tenant.userIds.entries()) if (!after.tenant.userIndex.has(id)) out.push(u);
  return out;
}

/** Whether `a` has a permission `b` lacks (the first `words` words). */
function hasMore(a: Uint32Array, b: Uint32Array, words: number): boolean {
  for (let w = 0; w < words; w++) if (((a[w] ?? 0) & ~(b[w] ?? 0)) !== 0) return true;
  return false;
}

/** How many users gain something and how many lose something from `before` to `after`. */
export function countChanged(before: TenantAccess, after: TenantAccess): { gaining: number; losing: number } {
  const W = after.snapshot.catalog.words;
  const align = alignment(before, after);
  let gaining = 0;
  let losing = 0;
  for (let u = 0; u < after.held.length; u++) {
    const b = align === null ? u : align[u]!;
    const had = b < 0 ? NOTHING : before.held[b]!;
    const now = after.held[u]!;
    if (had === now) continue;
    if (hasMore(now.allowed, had.allowed, W)) gaining++;
    if (hasMore(had.allowed, now.allowed, W)) losing++;
  }
  for (const b of removedUsers(before, after)) {
    if (hasMore(before.held[b]!.allowed, NOTHING.allowed, W)) losing++;
  }
  return { gaining, losing };
}

/** What changed for one user (shared by every user whose access changed alike). */
interface AccessDiff {
  readonly permissionsGained: readonly string[];
  readonly permissionsLost: readonly string[];
  readonly surfacesGained: readonly string[];
  readonly surfacesLost: readonly string[];
}

/** One user whose access differs between two states. */
export interface UserAccessChange extends AccessDiff {
  readonly userId: string;
}

/** The keys of the permissions in `a` and not in `b`, sorted. */
function keysOnlyIn(snapshot: Snapshot, a: Uint32Array, b: Uint32Array): string[] {
  const { permissionKeys, permissionCount } = snapshot.catalog;
  const out: string[] = [];
  for (let w = 0; w * 32 < permissionCount; w++) {
    let word = (a[w] ?? 0) & ~(b[w] ?? 0);
    while (word !== 0) {
      const low = word & -word;
      const p = (w << 5) + (31 - Math.clz32(low));
      word ^= low;
      if (p < permissionCount) out.push(permissionKeys[p]!);
    }
  }
  return out.sort();
}

/** The indices of the permissions in `a` xor `b`. */
function changedPermissions(a: Uint32Array, b: Uint32Array, words: number): number[] {
  const out: number[] = [];
  for (let w = 0; w < words; w++) {
    let word = (a[w] ?? 0) ^ (b[w] ?? 0);
    while (word !== 0) {
      const low = word & -word;
      out.push((w << 5) + (31 - Math.clz32(low)));
      word ^= low;
    }
  }
  return out;
}

/** What changes from `had` (on `before`) to `now` (on `after`); undefined when no answer does. */
function diffOf(before: TenantAccess, after: TenantAccess, had: Held, now: Held): AccessDiff | undefined {
  const W = after.snapshot.catalog.words;
  const changed = changedPermissions(had.bits, now.bits, W);
  if (changed.length === 0) return undefined;
  // Becoming active or inactive can change a surface that needs nothing; otherwise only the
  // surfaces mentioning a changed permission can change.
  const mentioning = surfacesMentioning(after.snapshot.catalog);
  const candidates =
    had === NOTHING || now === NOTHING
      ? after.surfaces
      : [...new Set(changed.flatMap((p) => mentioning.get(p) ?? []))].filter((s) => after.surfaceSet.has(s));
  const surfacesGained: string[] = [];
  const surfacesLost: string[] = [];
  for (const surface of candidates) {
    const was = shows(before.snapshot, had, surface);
    const is = shows(after.snapshot, now, surface);
    if (is && !was) surfacesGained.push(surface);
    if (was && !is) surfacesLost.push(surface);
  }
  const permissionsGained = keysOnlyIn(after.snapshot, now.allowed, had.allowed);
  const permissionsLost = keysOnlyIn(after.snapshot, had.allowed, now.allowed);
  // Held changed, yet no answer did (an acting-user requirement still unmet): nothing to report.
  if (permissionsGained.length + permissionsLost.length + surfacesGained.length + surfacesLost.length === 0) {
    return undefined;
  }
  return Object.freeze({
    permissionsGained: Object.freeze(permissionsGained),
    permissionsLost: Object.freeze(permissionsLost),
    surfacesGained: Object.freeze(surfacesGained.sort()),
    surfacesLost: Object.freeze(surfacesLost.sort()),
  });
}

/** A user's row sharing `d`'s lists (a literal: spreading a frozen object is a slow path). */
function rowOf(userId: string, d: AccessDiff): UserAccessChange {
  return {
    userId,
    permissionsGained: d.permissionsGained,
    permissionsLost: d.permissionsLost,
    surfacesGained: d.surfacesGained,
    surfacesLost: d.surfacesLost,
  };
}

/**
 * Every user whose permissions differ between `before` and `after`, by id, with what changed.
 * Users whose access changed alike (the same roles) share one diff: it is computed once.
 */
export function accessChanges(before: TenantAccess, after: TenantAccess): UserAccessChange[] {
  const align = alignment(before, after);
  const diffs = new Map<Held, Map<Held, AccessDiff | null>>();
  const diff = (had: Held, now: Held): AccessDiff | null => {
    let row = diffs.get(had);
    if (row === undefined) {
      row = new Map();
      diffs.set(had, row);
    }
    let d = row.get(now);
    if (d === undefined) {
      d = diffOf(before, after, had, now) ?? null;
      row.set(now, d);
    }
    return d;
  };
  const out: UserAccessChange[] = [];
  const { usersById, userIds } = after.tenant;
  for (let k = 0; k < usersById.length; k++) {
    const u = usersById[k]!;
    const b = align === null ? u : align[u]!;
    const had = b < 0 ? NOTHING : before.held[b]!;
    const now = after.held[u]!;
    if (had === now) continue;
    const d = diff(had, now);
    if (d !== null) out.push(rowOf(userIds[u]!, d));
  }
  const removed = removedUsers(before, after);
  for (const b of removed) {
    const d = diff(before.held[b]!, NOTHING);
    if (d !== null) out.push(rowOf(before.tenant.userIds[b]!, d));
  }
  // By id, in code-unit order (as `usersById` is).
  if (removed.length > 0) out.sort((x, y) => (x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : 0));
  return out;
}

/** Seats used per license of `pools` after the change: active users holding a role associated with it. */
export function seatsUsed(
  access: TenantAccess,
  pools: readonly { readonly licenseId: string; readonly seats: number }[],
): { licenseId: string; used: number; seats: number }[] {
  const { snapshot, tenant } = access;
  const LW = snapshot.catalog.licenseWords;
  const counts = new Map<number, number>();
  const mine = new Uint32Array(LW);
  for (let u = 0; u < tenant.userIds.length; u++) {
    if (tenant.userActive[u] === 0) continue;
    mine.fill(0);
    for (let i = tenant.userRoleStart[u]!; i < tenant.userRoleStart[u + 1]!; i++) {
      const r = tenant.userRoles[i]!;
      for (let w = 0; w < LW; w++) mine[w]! |= tenant.roleLicenses[r * LW + w]!;
    }
    for (let w = 0; w < LW; w++) {
      let word = mine[w]!;
      while (word !== 0) {
        const low = word & -word;
        const l = (w << 5) + (31 - Math.clz32(low));
        word ^= low;
        counts.set(l, (counts.get(l) ?? 0) + 1);
      }
    }
  }
  return pools.map((p) => {
    const l = snapshot.catalog.licenseIndex.get(p.licenseId);
    return { licenseId: p.licenseId, used: l === undefined ? 0 : (counts.get(l) ?? 0), seats: p.seats };
  });
}
