/**
 * Decisions on a snapshot, exactly per the decision semantics of docs/architecture.md: single and batch
 * checks, a user's effective permissions, users holding a permission, and UI surfaces.
 *
 * Every function takes an optional `EffectiveLookup` so the engine can serve effective sets from
 * its cache; without one they are computed afresh (correct, just slower).
 */
import { hasBit } from "./bitset.js";
import { tenantView } from "./custom-catalog.js";
import {
  type CheckRequest,
  type Decision,
  decision,
  type Reason,
  TenantNotReadyError,
  UnknownPermissionError,
  UnknownSurfaceError,
  UnknownTenantError,
} from "./decision.js";
import { computeFresh, type EffectiveBits, type EffectiveLookup } from "./effective-set.js";
import { collectMissing, holds } from "./requirement-program.js";
import {
  type CompiledTenant,
  FLAG_ACTOR_REQUIRES,
  FLAG_LICENSED,
  FLAG_MUTUAL,
  FLAG_SELF,
  FLAG_TENANT_LICENSED,
  type Snapshot,
} from "./snapshot.js";

// Module-local copies of what the hot path reads: some loaders (tsx, vitest) compile imported
// bindings to getter calls, which every check would otherwise pay for.
const MUTUAL = FLAG_MUTUAL;
const SELF = FLAG_SELF;
const ACTOR = FLAG_ACTOR_REQUIRES;
const MORE_THAN_HOLDING = FLAG_MUTUAL | FLAG_SELF | FLAG_ACTOR_REQUIRES;

/** One row of a user's effective permission listing. */
export interface EffectivePermission {
  /** Qualified permission key. */
  readonly permission: string;
  readonly allowed: boolean;
  readonly reason: Reason;
  readonly missing: readonly string[];
  /** The user's roles whose grants (implications included) contain it. */
  readonly grantedByRoleIds: readonly string[];
}

/** Whether a UI surface shows for a user, and what it lacks. */
export interface SurfaceDecision {
  /** Qualified surface id. */
  readonly surface: string;
  readonly allowed: boolean;
  /** `GRANTED`, `REQUIREMENT_MISSING`, `USER_UNKNOWN` or `USER_INACTIVE`. */
  readonly reason: Reason;
  /** Permission keys whose absence hides it. */
  readonly missing: readonly string[];
}

/** Paging of `lookupUsers`. */
export interface LookupPage {
  /** Return only user ids strictly greater than this one (code-unit order). Default: from the start. */
  readonly after?: string;
  /** At most this many ids. Default: all. */
  readonly limit?: number;
}

/** The tenant, or throws `UnknownTenantError` (or `TenantNotReadyError` while it is still loading). */
export function tenantOf(snapshot: Snapshot, tenantId: string): CompiledTenant {
  const tenant = snapshot.tenants.get(tenantId);
  if (tenant === undefined) {
    if (snapshot.pendingTenantIds.has(tenantId)) throw new TenantNotReadyError(tenantId);
    throw new UnknownTenantError(tenantId);
  }
  return tenant;
}

/** The permission's index, or throws `UnknownPermissionError` naming the closest key. */
export function permissionOf(snapshot: Snapshot, key: string): number {
  const p = snapshot.catalog.permissionIndex.get(key);
  if (p === undefined) throw new UnknownPermissionError(key, snapshot.catalog.permissionIndex.keys());
  return p;
}

/** Checks one permission for one user. Throws only for an unknown tenant or permission. */
export function check(
  snapshot: Snapshot,
  tenantId: string,
  userId: string,
  request: CheckRequest,
  lookup: EffectiveLookup = computeFresh,
): Decision {
  const tenant = tenantOf(snapshot, tenantId);
  // A tenant with systems of its own is decided on its view; the test is one pointer compare.
  const s = tenant.catalog === snapshot.catalog ? snapshot : tenantView(snapshot, tenantId);
  const p = permissionOf(s, request.permission);
  return checkIndexed(s, tenant, tenant.userIndex.get(userId), p, request, lookup);
}

/** Checks several permissions for one user, in order. Every key is validated before any is decided. */
export function checkMany(
  snapshot: Snapshot,
  tenantId: string,
  userId: string,
  requests: readonly CheckRequest[],
  lookup: EffectiveLookup = computeFresh,
): Decision[] {
  const tenant = tenantOf(snapshot, tenantId);
  const s = tenant.catalog === snapshot.catalog ? snapshot : tenantView(snapshot, tenantId);
  const indices = requests.map((r) => permissionOf(s, r.permission));
  const u = tenant.userIndex.get(userId);
  return requests.map((r, i) => checkIndexed(s, tenant, u, indices[i]!, r, lookup));
}

/** Rules 1–5 on interned ids; the hot path: allocation-free when allowed or plainly not granted. */
export function checkIndexed(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  u: number | undefined,
  p: number,
  request: CheckRequest,
  lookup: EffectiveLookup,
): Decision {
  if (u === undefined) return snapshot.decisions.userUnknown;
  if (tenant.userActive[u] === 0) return snapshot.decisions.userInactive;
  const bits = lookup(snapshot, tenant, u);
  if (((bits[p >>> 5]! >>> (p & 31)) & 1) === 0) return denial(snapshot, tenant, p, bits);
  const flags = snapshot.catalog.flags[p]!;
  if ((flags & MORE_THAN_HOLDING) === 0) return snapshot.decisions.granted;
  if ((flags & ACTOR) !== 0 && !actorRequirementHolds(snapshot, p, bits)) {
    return actorDenial(snapshot, p, bits);
  }
  const target = request.targetUserId;
  if ((flags & MUTUAL) !== 0 && target !== undefined && !allowedFor(snapshot, tenant, target, p, lookup)) {
    return decision(false, "TARGET_LACKS_PERMISSION", [target], snapshot.revision);
  }
  const resource = request.resource;
  if ((flags & SELF) !== 0 && resource !== undefined) {
    const userId = tenant.userIds[u]!;
    if (resource.ownerUserId !== userId && !resource.participantUserIds.includes(userId)) {
      const { selfTwinStart, selfTwins } = snapshot.catalog;
      const end = selfTwinStart[p + 1]!;
      for (let i = selfTwinStart[p]!; i < end; i++) {
        if (hasBit(bits, selfTwins[i]!)) return snapshot.decisions.granted;
      }
      const twins: string[] = [];
      for (let i = selfTwinStart[p]!; i < end; i++)
        twins.push(snapshot.catalog.permissionKeys[selfTwins[i]!]!);
      return decision(false, "OUT_OF_SCOPE", twins, snapshot.revision);
    }
  }
  return snapshot.decisions.granted;
}

/**
 * Whether permission `p` is in the effective set of user `userId` (rules 1–4): the target of a
 * mutual check must hold it, and need not meet what only the acting user must (rule 4b).
 */
function allowedFor(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  userId: string,
  p: number,
  lookup: EffectiveLookup,
): boolean {
  const t = tenant.userIndex.get(userId);
  if (t === undefined || tenant.userActive[t] === 0) return false;
  return hasBit(lookup(snapshot, tenant, t), p);
}

/** Why `p` is not in the effective set `bits` (rules 2–4, in order). */
export function denial(snapshot: Snapshot, tenant: CompiledTenant, p: number, bits: EffectiveBits): Decision {
  const catalog = snapshot.catalog;
  const W = catalog.words;
  if (!hasBit(bits, p, W)) return snapshot.decisions.notGranted;
  if ((catalog.flags[p]! & FLAG_TENANT_LICENSED) !== 0 && hasBit(tenant.tenantBlocked, p)) {
    return decision(false, "LICENSE_MISSING", tenantLicensesMissing(snapshot, tenant, p), snapshot.revision);
  }
  if ((catalog.flags[p]! & FLAG_LICENSED) !== 0 && !holdsLicenseFor(snapshot, p, bits)) {
    return decision(false, "LICENSE_MISSING", licensesThatWouldDo(snapshot, tenant, p), snapshot.revision);
  }
  return decision(false, "REQUIREMENT_MISSING", missingRequirement(snapshot, p, bits), snapshot.revision);
}

/**
 * The decision for `p` by rules 2–4b: `granted` when it is in the effective set `bits` and its
 * acting-user requirement (if any) holds on it, else the denial.
 */
export function decideHeld(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  p: number,
  bits: EffectiveBits,
): Decision {
  if (!hasBit(bits, p)) return denial(snapshot, tenant, p, bits);
  if ((snapshot.catalog.flags[p]! & ACTOR) !== 0 && !actorRequirementHolds(snapshot, p, bits)) {
    return actorDenial(snapshot, p, bits);
  }
  return snapshot.decisions.granted;
}

/** Whether `p`'s acting-user requirement holds on the effective set `bits` (true when it has none). */
export function actorRequirementHolds(snapshot: Snapshot, p: number, bits: EffectiveBits): boolean {
  const start = snapshot.catalog.actorRequirementStart[p]!;
  return start < 0 || holds(snapshot.catalog.program, start, bits);
}

/** Rule 4b's denial: `REQUIREMENT_MISSING`, naming what the acting user lacks. */
function actorDenial(snapshot: Snapshot, p: number, bits: EffectiveBits): Decision {
  const { program, actorRequirementStart, permissionKeys } = snapshot.catalog;
  const out = new Set<number>();
  collectMissing(program, actorRequirementStart[p]!, bits, out);
  return decision(
    false,
    "REQUIREMENT_MISSING",
    Array.from(out, (i) => permissionKeys[i]!),
    snapshot.revision,
  );
}

/** The licenses `p` needs in the tenant's pool that the pool lacks. */
export function tenantLicensesMissing(snapshot: Snapshot, tenant: CompiledTenant, p: number): string[] {
  const { permissionTenantLicenseStart: start, permissionTenantLicenses, licenseIds } = snapshot.catalog;
  const out: string[] = [];
  for (let i = start[p]!; i < start[p + 1]!; i++) {
    const l = permissionTenantLicenses[i]!;
    if (!hasBit(tenant.pool, l)) out.push(licenseIds[l]!);
  }
  return out;
}

/** Whether the user (licenses at `2 * words` of `bits`) holds one of the licenses `p` lists. */
function holdsLicenseFor(snapshot: Snapshot, p: number, bits: EffectiveBits): boolean {
  const { permissionLicenseStart, permissionLicenses, words } = snapshot.catalog;
  for (let i = permissionLicenseStart[p]!; i < permissionLicenseStart[p + 1]!; i++) {
    if (hasBit(bits, permissionLicenses[i]!, 2 * words)) return true;
  }
  return false;
}

/** The licenses `p` lists that the tenant has (a role associated with one would do), or all it lists when the tenant has none. */
export function licensesThatWouldDo(snapshot: Snapshot, tenant: CompiledTenant, p: number): string[] {
  const { permissionLicenseStart, permissionLicenses, licenseIds } = snapshot.catalog;
  const listed = Array.from(
    permissionLicenses.subarray(permissionLicenseStart[p]!, permissionLicenseStart[p + 1]!),
  );
  const inPool = listed.filter((l) => hasBit(tenant.pool, l));
  return (inPool.length > 0 ? inPool : listed).map((l) => licenseIds[l]!);
}

/** The permission keys whose absence makes `p`'s requirement fail on `bits`. */
function missingRequirement(snapshot: Snapshot, p: number, bits: EffectiveBits): string[] {
  const { program, requirementStart, permissionKeys } = snapshot.catalog;
  const out = new Set<number>();
  const start = requirementStart[p]!;
  if (start >= 0) collectMissing(program, start, bits, out);
  return Array.from(out, (i) => permissionKeys[i]!);
}

/** Every permission of the tenant's enabled systems (or of `system` only), with the user's decision and the roles granting it. */
export function listEffective(
  shared: Snapshot,
  tenantId: string,
  userId: string,
  system?: string,
  lookup: EffectiveLookup = computeFresh,
): EffectivePermission[] {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const catalog = snapshot.catalog;
  const u = tenant.userIndex.get(userId);
  const known = u !== undefined && tenant.userActive[u] === 1;
  const bits = known ? lookup(snapshot, tenant, u) : undefined;
  const rows: EffectivePermission[] = [];
  for (const [s, systemId] of catalog.systemIds.entries()) {
    if (!tenant.systems.includes(systemId) || (system !== undefined && system !== systemId)) continue;
    for (const p of catalog.systemPermissions[s]!) {
      const d =
        u === undefined
          ? snapshot.decisions.userUnknown
          : bits === undefined
            ? snapshot.decisions.userInactive
            : decideHeld(snapshot, tenant, p, bits);
      rows.push({
        permission: catalog.permissionKeys[p]!,
        allowed: d.allowed,
        reason: d.reason,
        missing: d.missing,
        grantedByRoleIds: u === undefined ? [] : rolesGranting(snapshot, tenant, u, p),
      });
    }
  }
  return rows;
}

/** Ids of user `u`'s roles whose closure contains `p`. */
export function rolesGranting(snapshot: Snapshot, tenant: CompiledTenant, u: number, p: number): string[] {
  const W = snapshot.catalog.words;
  const out: string[] = [];
  for (let i = tenant.userRoleStart[u]!; i < tenant.userRoleStart[u + 1]!; i++) {
    const r = tenant.userRoles[i]!;
    if (hasBit(tenant.roleClosure, p, r * W)) out.push(tenant.roleIds[r]!);
  }
  return out;
}

/** Whether one of user `u`'s roles grants `p` (its closure contains it); allocation-free. */
function anyRoleGrants(snapshot: Snapshot, tenant: CompiledTenant, u: number, p: number): boolean {
  const W = snapshot.catalog.words;
  for (let i = tenant.userRoleStart[u]!; i < tenant.userRoleStart[u + 1]!; i++) {
    if (hasBit(tenant.roleClosure, p, tenant.userRoles[i]! * W)) return true;
  }
  return false;
}

/** Ids of the tenant's users for whom `permission` is allowed (rules 1–4b), sorted by id, paged. */
export function lookupUsers(
  shared: Snapshot,
  tenantId: string,
  permission: string,
  page: LookupPage = {},
  lookup: EffectiveLookup = computeFresh,
): string[] {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const p = permissionOf(snapshot, permission);
  const limit = page.limit ?? Number.POSITIVE_INFINITY;
  const { usersById, userIds } = tenant;
  let i = 0;
  if (page.after !== undefined) {
    // Binary search for the first id after the cursor.
    let hi = usersById.length;
    while (i < hi) {
      const mid = (i + hi) >>> 1;
      if (userIds[usersById[mid]!]! <= page.after) i = mid + 1;
      else hi = mid;
    }
  }
  const out: string[] = [];
  for (; i < usersById.length && out.length < limit; i++) {
    const u = usersById[i]!;
    if (tenant.userActive[u] === 0) continue;
    // Most users lack most permissions: skip those no role grants before computing their set.
    if (!anyRoleGrants(snapshot, tenant, u, p)) continue;
    const bits = lookup(snapshot, tenant, u);
    if (hasBit(bits, p) && actorRequirementHolds(snapshot, p, bits)) out.push(userIds[u]!);
  }
  return out;
}

/** Each surface's requirement evaluated on the user's effective set. Throws `UnknownSurfaceError` for an unknown id. */
export function resolveSurfaces(
  shared: Snapshot,
  tenantId: string,
  userId: string,
  surfaces: readonly string[],
  lookup: EffectiveLookup = computeFresh,
): SurfaceDecision[] {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const { surfaceStart, program, permissionKeys } = snapshot.catalog;
  const starts = surfaces.map((id) => {
    const start = surfaceStart.get(id);
    if (start === undefined) throw new UnknownSurfaceError(id, surfaceStart.keys());
    return start;
  });
  const u = tenant.userIndex.get(userId);
  if (u === undefined || tenant.userActive[u] === 0) {
    const reason: Reason = u === undefined ? "USER_UNKNOWN" : "USER_INACTIVE";
    return surfaces.map((surface) => ({ surface, allowed: false, reason, missing: [] }));
  }
  const bits = lookup(snapshot, tenant, u);
  return surfaces.map((surface, i) => {
    const start = starts[i]!;
    if (holds(program, start, bits)) return { surface, allowed: true, reason: "GRANTED", missing: [] };
    const out = new Set<number>();
    collectMissing(program, start, bits, out);
    return {
      surface,
      allowed: false,
      reason: "REQUIREMENT_MISSING",
      missing: Array.from(out, (q) => permissionKeys[q]!),
    };
  });
}
