/**
 * Two users side by side (ServiceNow's "compare two users, differences only"): every permission
 * and surface of the tenant's systems with both decisions, the rows that differ first. Both sides
 * are decided on one snapshot.
 */
import { catalogOfTenantIn } from "./custom-catalog.js";
import type { Reason } from "./decision.js";
import { type EffectivePermission, listEffective, resolveSurfaces, tenantOf } from "./evaluator.js";
import type { Snapshot } from "./snapshot.js";

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
}

const differs = (a: Side, b: Side): boolean => a.allowed !== b.allowed || a.reason !== b.reason;

/** Differences first (each group in catalog order), the same rows only when asked. */
function arrange(rows: ComparedRow[], includeSame: boolean): ComparedRow[] {
  const different = rows.filter((r) => r.differs);
  return includeSame ? [...different, ...rows.filter((r) => !r.differs)] : different;
}

/** Compares `userId` with `otherUserId` in `tenantId` on `snapshot`. */
export function compareUsers(
  snapshot: Snapshot,
  tenantId: string,
  userId: string,
  otherUserId: string,
  options: CompareOptions = {},
): Comparison {
  const includeSame = options.includeSame ?? false;
  // The tenant's own systems are in its catalog only.
  const catalog = catalogOfTenantIn(snapshot, tenantId);
  const mine = listEffective(snapshot, tenantId, userId, options.system);
  const theirs = new Map<string, EffectivePermission>(
    listEffective(snapshot, tenantId, otherUserId, options.system).map((r) => [r.permission, r]),
  );
  const side = (r: EffectivePermission): Side => ({
    allowed: r.allowed,
    reason: r.reason,
    missing: r.missing,
    grantedByRoleIds: r.grantedByRoleIds,
  });
  const permissions = mine.map((r): ComparedRow => {
    const other = side(theirs.get(r.permission)!);
    const user = side(r);
    return {
      id: r.permission,
      system: catalog.permissions.get(r.permission)!.system,
      user,
      other,
      differs: differs(user, other),
    };
  });

  const systems = tenantOf(snapshot, tenantId).systems;
  const surfaceIds = [...catalog.surfaces.values()]
    .filter(
      (s) => systems.includes(s.system) && (options.system === undefined || s.system === options.system),
    )
    .map((s) => s.id);
  const theirSurfaces = resolveSurfaces(snapshot, tenantId, otherUserId, surfaceIds);
  const surfaces = resolveSurfaces(snapshot, tenantId, userId, surfaceIds).map((d, i): ComparedRow => {
    const o = theirSurfaces[i]!;
    const user: Side = { allowed: d.allowed, reason: d.reason, missing: d.missing, grantedByRoleIds: [] };
    const other: Side = { allowed: o.allowed, reason: o.reason, missing: o.missing, grantedByRoleIds: [] };
    return {
      id: d.surface,
      system: catalog.surfaces.get(d.surface)!.system,
      user,
      other,
      differs: differs(user, other),
    };
  });

  return {
    permissions: arrange(permissions, includeSame),
    surfaces: arrange(surfaces, includeSame),
    permissionDifferences: permissions.filter((r) => r.differs).length,
    surfaceDifferences: surfaces.filter((r) => r.differs).length,
    revision: snapshot.revision,
  };
}
