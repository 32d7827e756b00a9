/**
 * Two users side by side (ServiceNow's "compare two users, differences only"): every permission
 * and surface of the tenant's systems with both decisions, the rows that differ first. Both sides
 * are decided on one snapshot.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { tenantView } from "./custom-catalog.js";
import type { Decision, Reason } from "./decision.js";
import { computeFresh, type EffectiveBits, type EffectiveLookup } from "./effective-set.js";
import { decideHeld, rolesGranting, tenantOf } from "./evaluator.js";
import { collectMissing, holds } from "./requirement-program.js";
import type { CompiledTenant, Snapshot } from "./snapshot.js";

/** One user's side of a row. */
export interface Side {
  readonly allowed: boolean;
  readonly reason: Reason;
  readonly missing: readonly string[];
  /** The user's roles granting the permission (empty for a surface). */
  readonly grantedByRoleIds: readonly string[];
}

/** A permission or surface with both users' decisions. */
export interface ComparedRow {
  /** Permission key or surface id. */
  readonly id: string;
  readonly system: string;
  readonly user: Side;
  readonly other: Side;
  /** Whether the decisions differ (allowed, or why not). */
  readonly differs: boolean;
}

/** What `compareUsers` answers. */
export interface Comparison {
  readonly permissions: readonly ComparedRow[];
  readonly surfaces: readonly ComparedRow[];
  readonly permissionDifferences: number;
  readonly surfaceDifferences: number;
  readonly revision: number;
}

/** Options of `compareUsers`. */
export interface CompareOptions {
  /** Only this system. Default: every system the tenant enables. */
  readonly system?: string | undefined;
  /** Also return the rows where both decisions are the same. Default false. */
  readonly includeSame?: boolean;
  /** Where effective sets come from (the serving engine's cache). Default: computed afresh. */
  readonly lookup?: EffectiveLookup;
}

const differs = (a: Side, b: Side): boolean => a.allowed !== b.allowed || a.reason !== b.reason;

/** Differences first (each group in catalog order), the same rows only when asked. */
function arrange(rows: ComparedRow[], includeSame: boolean): ComparedRow[] {
  return includeSame ? [...rows.filter((r) => r.differs), ...rows.filter((r) => !r.differs)] : rows;
}

/** One user of the comparison: index and effective bits (none when unknown or inactive). */
interface Subject {
  readonly u: number | undefined;
  readonly bits: EffectiveBits | undefined;
}

function subjectOf(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  userId: string,
  lookup: EffectiveLookup,
): Subject {
  const u = tenant.userIndex.get(userId);
  const active = u !== undefined && tenant.userActive[u] === 1;
  return { u, bits: active ? lookup(snapshot, tenant, u) : undefined };
}

/** The subject's decision for permission `p` (shared, allocation-free decisions in the common cases). */
function decide(snapshot: Snapshot, tenant: CompiledTenant, s: Subject, p: number): Decision {
  if (s.u === undefined) return snapshot.decisions.userUnknown;
  if (s.bits === undefined) return snapshot.decisions.userInactive;
  return decideHeld(snapshot, tenant, p, s.bits);
}

const sideOf = (snapshot: Snapshot, tenant: CompiledTenant, s: Subject, p: number, d: Decision): Side => ({
  allowed: d.allowed,
  reason: d.reason,
  missing: d.missing,
  grantedByRoleIds: s.u === undefined ? [] : rolesGranting(snapshot, tenant, s.u, p),
});

/** Whether the subject sees the surface whose program starts at `start`, and why not. */
function surfaceSide(snapshot: Snapshot, s: Subject, start: number): Side {
  if (s.bits === undefined) {
    const reason: Reason = s.u === undefined ? "USER_UNKNOWN" : "USER_INACTIVE";
    return { allowed: false, reason, missing: [], grantedByRoleIds: [] };
  }
  const { program, permissionKeys } = snapshot.catalog;
  if (holds(program, start, s.bits))
    return { allowed: true, reason: "GRANTED", missing: [], grantedByRoleIds: [] };
  // Called only for rows that are returned: what is missing is worked out only for them.
  const out = new Set<number>();
  collectMissing(program, start, s.bits, out);
  return {
    allowed: false,
    reason: "REQUIREMENT_MISSING",
    missing: Array.from(out, (q) => permissionKeys[q]!),
    grantedByRoleIds: [],
  };
}

/** A side of a surface row in one number: unknown, inactive, shown, not shown. */
const surfaceState = (s: Subject, shown: boolean): number =>
  s.bits === undefined ? (s.u === undefined ? 0 : 1) : shown ? 2 : 3;

/** The surfaces of a tenant's systems, in catalog order, with their programs' offsets. */
interface TenantSurfaces {
  readonly ids: readonly string[];
  readonly systems: readonly string[];
  readonly starts: Int32Array;
}

const surfacesByTenant = new WeakMap<CompiledTenant, TenantSurfaces>();

function tenantSurfaces(
  catalog: Catalog,
  compiled: Snapshot["catalog"],
  tenant: CompiledTenant,
): TenantSurfaces {
  let out = surfacesByTenant.get(tenant);
  if (out === undefined) {
    const mine = [...catalog.surfaces.values()].filter((s) => tenant.systems.includes(s.system));
    out = {
      ids: mine.map((s) => s.id),
      systems: mine.map((s) => s.system),
      starts: Int32Array.from(mine, (s) => compiled.surfaceStart.get(s.id)!),
    };
    surfacesByTenant.set(tenant, out);
  }
  return out;
}

/**
 * Compares `userId` with `otherUserId` in `tenantId` on `snapshot`. Decided permission by
 * permission on interned ids: a row is built (granting roles, what is missing) only when it is
 * returned, so comparing two users costs about what listing one user's permissions does.
 */
export function compareUsers(
  shared: Snapshot,
  tenantId: string,
  userId: string,
  otherUserId: string,
  options: CompareOptions = {},
): Comparison {
  const includeSame = options.includeSame ?? false;
  const lookup = options.lookup ?? computeFresh;
  const tenant = tenantOf(shared, tenantId);
  // A tenant with systems of its own is decided on its own view of the snapshot.
  const snapshot = tenantView(shared, tenantId);
  const catalog = snapshot.catalog.source;
  const compiled = snapshot.catalog;
  const me = subjectOf(snapshot, tenant, userId, lookup);
  const them = subjectOf(snapshot, tenant, otherUserId, lookup);
  const systemWanted = (system: string) =>
    tenant.systems.includes(system) && (options.system === undefined || options.system === system);

  const permissions: ComparedRow[] = [];
  let permissionDifferences = 0;
  for (const [i, system] of compiled.systemIds.entries()) {
    if (!systemWanted(system)) continue;
    for (const p of compiled.systemPermissions[i]!) {
      const mine = decide(snapshot, tenant, me, p);
      const theirs = decide(snapshot, tenant, them, p);
      const different = mine.allowed !== theirs.allowed || mine.reason !== theirs.reason;
      if (different) permissionDifferences++;
      else if (!includeSame) continue;
      permissions.push({
        id: compiled.permissionKeys[p]!,
        system,
        user: sideOf(snapshot, tenant, me, p, mine),
        other: sideOf(snapshot, tenant, them, p, theirs),
        differs: different,
      });
    }
  }

  const surfaces: ComparedRow[] = [];
  let surfaceDifferences = 0;
  const list = tenantSurfaces(catalog, compiled, tenant);
  for (let i = 0; i < list.ids.length; i++) {
    const system = list.systems[i]!;
    if (options.system !== undefined && options.system !== system) continue;
    const start = list.starts[i]!;
    // The common case first: both see it, or both do not for the same reason.
    const mineShown = me.bits !== undefined && holds(compiled.program, start, me.bits);
    const theirsShown = them.bits !== undefined && holds(compiled.program, start, them.bits);
    if (!includeSame && surfaceState(me, mineShown) === surfaceState(them, theirsShown)) continue;
    const user = surfaceSide(snapshot, me, start);
    const other = surfaceSide(snapshot, them, start);
    const different = differs(user, other);
    if (different) surfaceDifferences++;
    else if (!includeSame) continue;
    surfaces.push({ id: list.ids[i]!, system, user, other, differs: different });
  }

  return {
    permissions: arrange(permissions, includeSame),
    surfaces: arrange(surfaces, includeSame),
    permissionDifferences,
    surfaceDifferences,
    revision: snapshot.revision,
  };
}
