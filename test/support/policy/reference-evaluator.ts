/**
 * A deliberately simple evaluator written straight from docs/architecture.md's decision semantics:
 * sets of strings and naive loops over the uncompiled `PolicySource`. It is slow on purpose and
 * exists so property tests can compare the compiled engine against it.
 */
import type { CatalogPermission } from "../../../catalog/catalog.js";
import type { RequirementExpr } from "../../../catalog/schema.js";
import {
  type CheckRequest,
  type Reason,
  UnknownPermissionError,
  UnknownTenantError,
} from "../../../sidecar/src/policy/decision.js";
import type { PolicySource, TenantPolicy, UserRecord } from "../../../sidecar/src/policy/policy-source.js";

/** A decision without its revision. */
export interface ReferenceDecision {
  readonly allowed: boolean;
  readonly reason: Reason;
  readonly missing: readonly string[];
}

/** Whether `expr` holds on `held`: a key when held, all-of when every item holds, any-of when one does. */
export function requirementHolds(expr: RequirementExpr, held: ReadonlySet<string>): boolean {
  if (typeof expr === "string") return held.has(expr);
  if ("all" in expr) return expr.all.every((e) => requirementHolds(e, held));
  return expr.any.some((e) => requirementHolds(e, held));
}

/** The keys whose absence makes `expr` fail, in order of first appearance; empty when it holds. */
export function requirementMissing(expr: RequirementExpr, held: ReadonlySet<string>): string[] {
  if (requirementHolds(expr, held)) return [];
  if (typeof expr === "string") return [expr];
  const items = "all" in expr ? expr.all : expr.any;
  return [...new Set(items.flatMap((e) => requirementMissing(e, held)))];
}

function findTenant(source: PolicySource, tenantId: string): TenantPolicy {
  const t = source.tenants.find((x) => x.id === tenantId);
  if (t === undefined) throw new UnknownTenantError(tenantId);
  return t;
}

function findPermission(source: PolicySource, key: string): CatalogPermission {
  const p = source.catalog.permissions.get(key);
  if (p === undefined) throw new UnknownPermissionError(key, source.catalog.permissions.keys());
  return p;
}

/** Everything `key` implies, transitively, itself included. */
function implicationClosure(source: PolicySource, key: string): Set<string> {
  const out = new Set<string>([key]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const k of [...out]) {
      for (const j of source.catalog.permissions.get(k)?.implies ?? []) {
        if (source.catalog.permissions.has(j) && !out.has(j)) {
          out.add(j);
          grew = true;
        }
      }
    }
  }
  return out;
}

/** Permissions granted by the user's roles, implications included (catalog keys only). */
export function referenceGranted(source: PolicySource, tenant: TenantPolicy, u: UserRecord): Set<string> {
  const granted = new Set<string>();
  for (const r of tenant.roles) {
    if (!u.roleIds.includes(r.id)) continue;
    for (const g of r.grants) {
      if (source.catalog.permissions.has(g)) for (const k of implicationClosure(source, g)) granted.add(k);
    }
  }
  return granted;
}

/**
 * Licenses the user holds: those of a role of theirs that the tenant has, and those the catalog
 * says the tenant itself holds (`heldBy: tenant`) when the tenant has them.
 */
function heldLicenses(source: PolicySource, tenant: TenantPolicy, u: UserRecord): Set<string> {
  const held = new Set<string>();
  for (const r of tenant.roles) {
    if (!u.roleIds.includes(r.id)) continue;
    for (const l of r.licenseIds) if (tenant.licenseSeats.has(l)) held.add(l);
  }
  for (const l of source.catalog.licenses.values()) {
    if (l.heldBy === "tenant" && tenant.licenseSeats.has(l.id)) held.add(l.id);
  }
  return held;
}

/** The licenses P needs in the tenant's own pool that the pool lacks, each once. */
function tenantLacks(p: CatalogPermission, tenant: TenantPolicy): string[] {
  return [...new Set(p.tenantLicenses ?? [])].filter((l) => !tenant.licenseSeats.has(l));
}

function licensed(p: CatalogPermission, held: ReadonlySet<string>, tenant: TenantPolicy): boolean {
  if (tenantLacks(p, tenant).length > 0) return false;
  return p.licenses.length === 0 || p.licenses.some((l) => held.has(l));
}

/**
 * The user's effective set: granted, licensed, then the greatest set on which all requirements
 * hold. Acting-user requirements play no part: they are about acting, not holding.
 */
export function referenceEffective(source: PolicySource, tenant: TenantPolicy, u: UserRecord): Set<string> {
  const held = heldLicenses(source, tenant, u);
  const set = new Set(
    [...referenceGranted(source, tenant, u)].filter((k) =>
      licensed(source.catalog.permissions.get(k)!, held, tenant),
    ),
  );
  for (let changed = true; changed; ) {
    changed = false;
    for (const k of [...set]) {
      const requires = source.catalog.permissions.get(k)!.requires;
      if (requires !== null && !requirementHolds(requires, set)) {
        set.delete(k);
        changed = true;
      }
    }
  }
  return set;
}

/**
 * Rules 1–4 for one user and permission, and with `acting` rule 4b too: what only the acting
 * user of P must hold, checked on the same effective set. A mutual check's target is decided
 * without it.
 */
function referenceDecide(
  source: PolicySource,
  tenant: TenantPolicy,
  userId: string,
  p: CatalogPermission,
  acting: boolean,
): ReferenceDecision {
  const u = tenant.users.find((x) => x.id === userId);
  if (u === undefined) return { allowed: false, reason: "USER_UNKNOWN", missing: [] };
  if (!u.active) return { allowed: false, reason: "USER_INACTIVE", missing: [] };
  const effective = referenceEffective(source, tenant, u);
  if (effective.has(p.key)) {
    if (acting && p.actorRequires !== undefined && !requirementHolds(p.actorRequires, effective)) {
      return {
        allowed: false,
        reason: "REQUIREMENT_MISSING",
        missing: requirementMissing(p.actorRequires, effective),
      };
    }
    return { allowed: true, reason: "GRANTED", missing: [] };
  }
  if (!referenceGranted(source, tenant, u).has(p.key))
    return { allowed: false, reason: "NOT_GRANTED", missing: [] };
  const lacking = tenantLacks(p, tenant);
  if (lacking.length > 0) return { allowed: false, reason: "LICENSE_MISSING", missing: lacking };
  if (!licensed(p, heldLicenses(source, tenant, u), tenant)) {
    const listed = [...new Set(p.licenses)];
    const inPool = listed.filter((l) => tenant.licenseSeats.has(l));
    return { allowed: false, reason: "LICENSE_MISSING", missing: inPool.length > 0 ? inPool : listed };
  }
  return {
    allowed: false,
    reason: "REQUIREMENT_MISSING",
    missing: requirementMissing(p.requires!, effective),
  };
}

/** A check per the semantics, rules 1–5 (4b included). */
export function referenceCheck(
  source: PolicySource,
  tenantId: string,
  userId: string,
  request: CheckRequest,
): ReferenceDecision {
  const tenant = findTenant(source, tenantId);
  const p = findPermission(source, request.permission);
  const d = referenceDecide(source, tenant, userId, p, true);
  if (!d.allowed) return d;
  if (p.mutual && request.targetUserId !== undefined) {
    if (!referenceDecide(source, tenant, request.targetUserId, p, false).allowed) {
      return { allowed: false, reason: "TARGET_LACKS_PERMISSION", missing: [request.targetUserId] };
    }
  }
  const resource = request.resource;
  if (p.scope === "self" && resource !== undefined) {
    if (resource.ownerUserId !== userId && !resource.participantUserIds.includes(userId)) {
      const twins = source.catalog.systems
        .flatMap((s) => s.permissions)
        .filter((q) => q.key !== p.key && q.scope === "all" && implicationClosure(source, q.key).has(p.key))
        .map((q) => q.key);
      const u = tenant.users.find((x) => x.id === userId)!;
      const effective = referenceEffective(source, tenant, u);
      if (!twins.some((t) => effective.has(t)))
        return { allowed: false, reason: "OUT_OF_SCOPE", missing: twins };
    }
  }
  return d;
}

/** Every permission of the tenant's enabled systems (optionally one system) with rules 1–4b and the granting roles. */
export function referenceListEffective(
  source: PolicySource,
  tenantId: string,
  userId: string,
  system?: string,
): (ReferenceDecision & { permission: string; grantedByRoleIds: string[] })[] {
  const tenant = findTenant(source, tenantId);
  const u = tenant.users.find((x) => x.id === userId);
  return source.catalog.systems
    .filter((s) => tenant.systems.includes(s.id) && (system === undefined || s.id === system))
    .flatMap((s) => s.permissions)
    .map((p) => ({
      permission: p.key,
      ...referenceDecide(source, tenant, userId, p, true),
      grantedByRoleIds:
        u === undefined
          ? []
          : tenant.roles
              .filter((r) => u.roleIds.includes(r.id))
              .filter((r) =>
                r.grants.some(
                  (g) => source.catalog.permissions.has(g) && implicationClosure(source, g).has(p.key),
                ),
              )
              .map((r) => r.id),
    }));
}

/** Users of the tenant for whom `permission` is allowed, sorted by id. */
export function referenceLookupUsers(source: PolicySource, tenantId: string, permission: string): string[] {
  const tenant = findTenant(source, tenantId);
  const p = findPermission(source, permission);
  return tenant.users
    .filter((u) => referenceDecide(source, tenant, u.id, p, true).allowed)
    .map((u) => u.id)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Each surface's requirement on the user's effective set. */
export function referenceResolveSurfaces(
  source: PolicySource,
  tenantId: string,
  userId: string,
  surfaces: readonly string[],
): (ReferenceDecision & { surface: string })[] {
  const tenant = findTenant(source, tenantId);
  const u = tenant.users.find((x) => x.id === userId);
  return surfaces.map((surface) => {
    const requires = source.catalog.surfaces.get(surface)!.requires;
    if (u === undefined) return { surface, allowed: false, reason: "USER_UNKNOWN", missing: [] };
    if (!u.active) return { surface, allowed: false, reason: "USER_INACTIVE", missing: [] };
    const effective = referenceEffective(source, tenant, u);
    return requirementHolds(requires, effective)
      ? { surface, allowed: true, reason: "GRANTED", missing: [] }
      : {
          surface,
          allowed: false,
          reason: "REQUIREMENT_MISSING",
          missing: requirementMissing(requires, effective),
        };
  });
}

/** One revision at which a user's allowed permissions changed, per the reference. */
export interface ReferenceAccessChange {
  readonly revision: number;
  readonly permissionsGained: string[];
  readonly permissionsLost: string[];
}

/**
 * A user's access changes, newest first, by brute force: the user decided at every recorded
 * revision (`sources`, one per revision, in any order) and consecutive revisions compared. A
 * tenant or user that does not exist at a revision holds nothing then.
 */
export function referenceAccessChanges(
  sources: readonly PolicySource[],
  tenantId: string,
  userId: string,
  permission?: string,
): ReferenceAccessChange[] {
  const ordered = [...sources].sort((a, b) => a.revision - b.revision);
  const allowedAt = (source: PolicySource): Set<string> => {
    if (!source.tenants.some((t) => t.id === tenantId)) return new Set();
    return new Set(
      referenceListEffective(source, tenantId, userId)
        .filter((row) => row.allowed && (permission === undefined || row.permission === permission))
        .map((row) => row.permission),
    );
  };
  const changes: ReferenceAccessChange[] = [];
  let previous: Set<string> | undefined;
  for (const source of ordered) {
    const now = allowedAt(source);
    if (previous !== undefined) {
      const gained = [...now].filter((p) => !previous!.has(p)).sort();
      const lost = [...previous].filter((p) => !now.has(p)).sort();
      if (gained.length > 0 || lost.length > 0) {
        changes.push({ revision: source.revision, permissionsGained: gained, permissionsLost: lost });
      }
    }
    previous = now;
  }
  return changes.reverse();
}
