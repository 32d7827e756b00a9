/**
 * Who would gain or lose what between two compiled states of one tenant (what-if). Effective sets
 * are compared as bitsets and computed once per distinct set of roles held; a user's surfaces are
 * re-evaluated only where a surface mentions a permission the user gains or loses, so a change
 * on a role thousands of users hold costs a bitset comparison per user, not a full resolution.
 */

import { hasBit } from "../policy/bitset.js";
import { tenantView } from "../policy/custom-catalog.js";
import { computeEffective } from "../policy/effective-set.js";
import { actorRequirementHolds, tenantOf } from "../policy/evaluator.js";
import { holds, LEAF } from "../policy/requirement-program.js";
import type { CompiledCatalog, Snapshot } from "../policy/snapshot.js";

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
  /** Per user id; absent for an unknown user, `NOTHING` for an inactive one. */
  readonly users: ReadonlyMap<string, Held>;
  /** Surface ids of the tenant's systems, in catalog order. */
  readonly surfaces: readonly string[];
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

/** The access of every user of `tenantId` on `snapshot`. */
export function tenantAccess(shared: Snapshot, tenantId: string): TenantAccess {
  const tenant = tenantOf(shared, tenantId);
  // A tenant with systems of its own is decided on its own view (its catalog holds them).
  const snapshot = tenantView(shared, tenantId);
  const catalog = snapshot.catalog.source;
  const byRoles = new Map<string, Held>();
  const users = new Map<string, Held>();
  for (const [u, userId] of tenant.userIds.entries()) {
    if (tenant.userActive[u] === 0) {
      users.set(userId, NOTHING);
      continue;
    }
    // The effective set depends only on the roles held (and the tenant): share it.
    // One character per role index: a cheap key (a tenant has far fewer than 65,536 roles).
    const key = String.fromCharCode.apply(
      null,
      tenant.userRoles.subarray(
        tenant.userRoleStart[u]!,
        tenant.userRoleStart[u + 1]!,
      ) as unknown as number[],
    );
    let held = byRoles.get(key);
    if (held === undefined) {
      const bits = computeEffective(snapshot.catalog, tenant, u);
      held = { bits, allowed: allowedOf(snapshot, bits) };
      byRoles.set(key, held);
    }
    users.set(userId, held);
  }
  const surfaces = [...catalog.surfaces.values()]
    .filter((s) => tenant.systems.includes(s.system))
    .map((s) => s.id);
  return { snapshot, shared, users, surfaces };
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

/** Whether `a` has a permission `b` lacks (the first `words` words). */
function hasMore(a: Uint32Array, b: Uint32Array, words: number): boolean {
  for (let w = 0; w < words; w++) if (((a[w] ?? 0) & ~(b[w] ?? 0)) !== 0) return true;
  return false;
}

/** How many users gain something and how many lose something from `before` to `after`. */
export function countChanged(before: TenantAccess, after: TenantAccess): { gaining: number; losing: number } {
  const W = after.snapshot.catalog.words;
  let gaining = 0;
  let losing = 0;
  for (const [user, now] of after.users) {
    const had = before.users.get(user) ?? NOTHING;
    if (had === now) continue;
    if (hasMore(now.allowed, had.allowed, W)) gaining++;
    if (hasMore(had.allowed, now.allowed, W)) losing++;
  }
  for (const [user, had] of before.users) {
    if (!after.users.has(user) && hasMore(had.allowed, NOTHING.allowed, W)) losing++;
  }
  return { gaining, losing };
}

/** One user whose access differs between two states. */
export interface UserAccessChange {
  readonly userId: string;
  readonly permissionsGained: readonly string[];
  readonly permissionsLost: readonly string[];
  readonly surfacesGained: readonly string[];
  readonly surfacesLost: readonly string[];
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

/** Every user whose permissions differ between `before` and `after`, by id, with what changed. */
export function accessChanges(before: TenantAccess, after: TenantAccess): UserAccessChange[] {
  const W = after.snapshot.catalog.words;
  const mentioning = surfacesMentioning(after.snapshot.catalog);
  const tenantSurfaces = new Set(after.surfaces);
  const ids = new Set([...before.users.keys(), ...after.users.keys()]);
  const out: UserAccessChange[] = [];
  for (const userId of [...ids].sort()) {
    const had = before.users.get(userId) ?? NOTHING;
    const now = after.users.get(userId) ?? NOTHING;
    if (had === now) continue;
    const changed = changedPermissions(had.bits, now.bits, W);
    if (changed.length === 0) continue;
    // Becoming active or inactive can change a surface that needs nothing; otherwise only the
    // surfaces mentioning a changed permission can change.
    const candidates =
      had === NOTHING || now === NOTHING
        ? after.surfaces
        : [...new Set(changed.flatMap((p) => mentioning.get(p) ?? []))].filter((s) => tenantSurfaces.has(s));
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
    if (
      permissionsGained.length + permissionsLost.length + surfacesGained.length + surfacesLost.length ===
      0
    ) {
      continue;
    }
    out.push({
      userId,
      permissionsGained,
      permissionsLost,
      surfacesGained: surfacesGained.sort(),
      surfacesLost: surfacesLost.sort(),
    });
  }
  return out;
}

/** Seats used per license of `pools` after the change: active users holding a role associated with it. */
export function seatsUsed(
  access: TenantAccess,
  tenantId: string,
  pools: readonly { readonly licenseId: string; readonly seats: number }[],
): { licenseId: string; used: number; seats: number }[] {
  const { snapshot } = access;
  const tenant = tenantOf(snapshot, tenantId);
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
