/**
 * Explanations for support staff: the decision, the steps that led to it (roles considered and
 * which grant, licenses held vs wanted, the requirement tree with each node's value, target and
 * scope) and a one-line summary to paste into a ticket that says what *would* fix it.
 */

import { hasBit } from "./bitset.js";
import { tenantView } from "./custom-catalog.js";
import { type CheckRequest, type Decision, decision, type Reason, UnknownSurfaceError } from "./decision.js";
import { computeFresh, type EffectiveBits, type EffectiveLookup } from "./effective-set.js";
import { checkIndexed, denial, permissionOf, tenantOf } from "./evaluator.js";
import { collectMissing, holds, type RequirementTrace, traceProgram } from "./requirement-program.js";
import { type CompiledTenant, FLAG_MUTUAL, FLAG_SELF, type Snapshot } from "./snapshot.js";
import { userNameAt } from "./user-columns.js";

/** What to explain: a permission check, or a UI surface. */
export type ExplainSubject = CheckRequest | { readonly surface: string };

/** One of the user's roles and what it contributes. */
export interface RoleStep {
  readonly roleId: string;
  readonly name: string;
  /** Its grants, implications included, contain the permission. */
  readonly grants: boolean;
  /** It grants the permission itself rather than through an implication. */
  readonly direct: boolean;
  readonly licenseIds: readonly string[];
}

/** A requirement node with its value on the user's effective set. */
export type RequirementStep =
  | { readonly kind: "permission"; readonly permission: string; readonly holds: boolean }
  | { readonly kind: "all" | "any"; readonly holds: boolean; readonly items: readonly RequirementStep[] };

/** The steps behind a decision. */
export interface ExplainTrace {
  readonly tenant: string;
  readonly user: {
    readonly id: string;
    readonly displayName: string | null;
    readonly found: boolean;
    readonly active: boolean;
  };
  /** The permission or surface explained. */
  readonly subject: { readonly kind: "permission" | "surface"; readonly id: string; readonly label: string };
  /** The user's roles, each saying whether it grants the permission (for a surface: its first missing permission). */
  readonly roles: readonly RoleStep[];
  /**
   * Licenses: what the permission wants (any one), what the user holds (through roles within the
   * pool, and tenant-held ones), which of the wanted ones the tenant has; and the licenses the
   * tenant's own pool must hold (every one) and which of those it lacks.
   */
  readonly licenses: {
    readonly wanted: readonly string[];
    readonly held: readonly string[];
    readonly tenantHas: readonly string[];
    readonly tenantMustHave: readonly string[];
    readonly tenantLacks: readonly string[];
  } | null;
  /** The requirement tree evaluated on the user's effective set, or `null` when there is none. */
  readonly requirement: RequirementStep | null;
  /** The acting-user requirement tree (rule 4b) on the user's effective set, or `null` when there is none. */
  readonly actorRequirement: RequirementStep | null;
  /** For a mutual check against a target: whether the target holds it and why not. */
  readonly target: { readonly userId: string; readonly allowed: boolean; readonly reason: Reason } | null;
  /** For a `self`-scoped check on a resource: whether the user took part and which `_ALL` twins they hold. */
  readonly scope: {
    readonly ownerOrParticipant: boolean;
    readonly twins: readonly string[];
    readonly twinsHeld: readonly string[];
  } | null;
  /** What would fix a denial: tenant roles that would grant what is missing, licenses that would do. */
  readonly wouldFix: {
    readonly roles: readonly { readonly id: string; readonly name: string }[];
    readonly licenses: readonly string[];
  };
}

/** A decision, its trace and a one-line summary. */
export interface Explanation {
  readonly decision: Decision;
  readonly summary: string;
  readonly trace: ExplainTrace;
}

/** Explains a permission check or a surface for one user on `snapshot`. */
export function explain(
  shared: Snapshot,
  tenantId: string,
  userId: string,
  subject: ExplainSubject,
  lookup: EffectiveLookup = computeFresh,
): Explanation {
  const tenant = tenantOf(shared, tenantId);
  const snapshot = tenantView(shared, tenantId);
  const ctx = new Context(snapshot, tenant, userId, lookup);
  return "surface" in subject ? ctx.surface(subject.surface) : ctx.permission(subject);
}

/** The state shared by the steps of one explanation. */
class Context {
  readonly u: number | undefined;
  readonly bits: EffectiveBits | undefined;
  readonly who: string;

  constructor(
    readonly snapshot: Snapshot,
    readonly tenant: CompiledTenant,
    readonly userId: string,
    readonly lookup: EffectiveLookup,
  ) {
    this.u = tenant.userIndex.get(userId);
    const active = this.u !== undefined && tenant.userActive[this.u] === 1;
    this.bits = active ? lookup(snapshot, tenant, this.u!) : undefined;
    this.who = this.u === undefined ? userId : userNameAt(tenant.users, this.u) || userId;
  }

  permission(request: CheckRequest): Explanation {
    const { snapshot, tenant } = this;
    const p = permissionOf(snapshot, request.permission);
    const d = checkIndexed(snapshot, tenant, this.u, p, request, this.lookup);
    const label = this.label(p);
    const base = this.baseTrace({ kind: "permission", id: request.permission, label }, p);
    const flags = snapshot.catalog.flags[p]!;
    const target =
      (flags & FLAG_MUTUAL) !== 0 && request.targetUserId !== undefined
        ? this.targetStep(request.targetUserId, p)
        : null;
    const scope =
      (flags & FLAG_SELF) !== 0 && request.resource !== undefined ? this.scopeStep(p, request) : null;
    let summary: string;
    let wouldFix = base.wouldFix;
    switch (d.reason) {
      case "GRANTED":
        summary = `${this.who} may use ${label}: ${this.grantedBy(p)}.`;
        break;
      case "USER_UNKNOWN":
      case "USER_INACTIVE":
        summary = this.userProblem(d.reason);
        break;
      case "TARGET_LACKS_PERMISSION":
        summary = `${this.who} may use ${label}, but ${target?.userId ?? "the target"} does not (${target?.reason ?? "USER_UNKNOWN"}); both must hold it.`;
        break;
      case "OUT_OF_SCOPE": {
        const twins = scope?.twins ?? [];
        const roles = twins.flatMap((k) =>
          this.tenantRolesGranting(snapshot.catalog.permissionIndex.get(k)!),
        );
        wouldFix = { roles: dedupe(roles), licenses: [] };
        summary =
          `${this.who} may use ${label} only on interactions they took part in, and is neither owner nor participant of this one` +
          (twins.length > 0
            ? `; ${twins.map((k) => this.labelOf(k)).join(" or ")} would allow it${this.rolesDo(roles)}.`
            : ".");
        break;
      }
      default: {
        if (d.reason === "REQUIREMENT_MISSING" && this.bits !== undefined && hasBit(this.bits, p)) {
          // Held, but the acting side needs more (rule 4b): a target would not need it.
          const why = this.whyMissing(this.indexOfKey(d.missing[0]!));
          wouldFix = why.wouldFix;
          summary = `${this.who} holds ${label} but may not act with it: the acting user also needs ${d.missing.map((k) => this.labelOf(k)).join(", ")}; ${why.text}.`;
          break;
        }
        // For a failed requirement, explain the first missing permission rather than `p` itself.
        const requirementFailed = d.reason === "REQUIREMENT_MISSING";
        const why = this.whyMissing(requirementFailed ? this.indexOfKey(d.missing[0]!) : p);
        wouldFix = why.wouldFix;
        summary = requirementFailed
          ? `${this.who} may not use ${label}: it also needs ${d.missing.map((k) => this.labelOf(k)).join(", ")}; ${why.text}.`
          : `${this.who} may not use ${label}: ${why.text}.`;
      }
    }
    return { decision: d, summary, trace: { ...base, target, scope, wouldFix } };
  }

  surface(surfaceId: string): Explanation {
    const { snapshot } = this;
    const start = snapshot.catalog.surfaceStart.get(surfaceId);
    if (start === undefined) throw new UnknownSurfaceError(surfaceId, snapshot.catalog.surfaceStart.keys());
    const label = snapshot.catalog.source.surfaces.get(surfaceId)?.label ?? surfaceId;
    const { program, permissionKeys } = snapshot.catalog;
    const missing = new Set<number>();
    if (this.bits !== undefined) collectMissing(program, start, this.bits, missing);
    const first = missing.values().next().value;
    const base = this.baseTrace({ kind: "surface", id: surfaceId, label }, first);
    const requirement =
      this.bits === undefined ? null : this.requirementStep(traceProgram(program, start, this.bits));
    const trace = { ...base, requirement, actorRequirement: null, target: null, scope: null };
    if (this.u === undefined || this.bits === undefined) {
      const reason = this.u === undefined ? "USER_UNKNOWN" : "USER_INACTIVE";
      return {
        decision: decision(false, reason, [], snapshot.revision),
        summary: this.userProblem(reason),
        trace,
      };
    }
    if (holds(program, start, this.bits)) {
      return {
        decision: snapshot.decisions.granted,
        summary: `${this.who} may use ${label}: every permission it needs is held.`,
        trace,
      };
    }
    const keys = Array.from(missing, (q) => permissionKeys[q]!);
    const why = this.whyMissing(first!);
    return {
      decision: decision(false, "REQUIREMENT_MISSING", keys, snapshot.revision),
      summary: `${this.who} may not use ${label}: needs ${keys.map((k) => this.labelOf(k)).join(", ")}; ${why.text}.`,
      trace: { ...trace, wouldFix: why.wouldFix },
    };
  }

  /** Roles, licenses and requirement steps about permission `p` (or nothing when `p` is undefined). */
  private baseTrace(
    subject: ExplainTrace["subject"],
    p: number | undefined,
  ): Omit<ExplainTrace, "target" | "scope"> {
    const { snapshot, tenant } = this;
    const { catalog } = snapshot;
    const W = catalog.words;
    const roles: RoleStep[] = [];
    if (this.u !== undefined) {
      for (let i = tenant.userRoleStart[this.u]!; i < tenant.userRoleStart[this.u + 1]!; i++) {
        const r = tenant.userRoles[i]!;
        roles.push({
          roleId: tenant.roleIds[r]!,
          name: tenant.roleNames[r]!,
          grants: p !== undefined && hasBit(tenant.roleClosure, p, r * W),
          direct: p !== undefined && hasBit(tenant.roleGrants, p, r * W),
          licenseIds: this.roleLicenses(r),
        });
      }
    }
    const real = p !== undefined && p < catalog.permissionCount;
    const wanted = real ? this.wantedLicenses(p) : [];
    const tenantWanted = real ? this.tenantWantedLicenses(p) : [];
    const licenses =
      wanted.length === 0 && tenantWanted.length === 0
        ? null
        : {
            wanted: wanted.map((l) => catalog.licenseIds[l]!),
            held: this.bits === undefined ? [] : this.heldLicenses(),
            tenantHas: wanted.filter((l) => hasBit(tenant.pool, l)).map((l) => catalog.licenseIds[l]!),
            tenantMustHave: tenantWanted.map((l) => catalog.licenseIds[l]!),
            tenantLacks: tenantWanted
              .filter((l) => !hasBit(tenant.pool, l))
              .map((l) => catalog.licenseIds[l]!),
          };
    const step = (start: number): RequirementStep | null =>
      start >= 0 && this.bits !== undefined
        ? this.requirementStep(traceProgram(catalog.program, start, this.bits))
        : null;
    const requirement = step(real ? catalog.requirementStart[p]! : -1);
    const actorRequirement = step(real ? catalog.actorRequirementStart[p]! : -1);
    return {
      tenant: tenant.id,
      user: {
        id: this.userId,
        displayName: this.u === undefined ? null : userNameAt(tenant.users, this.u),
        found: this.u !== undefined,
        active: this.bits !== undefined,
      },
      subject,
      roles,
      licenses,
      requirement,
      actorRequirement,
      wouldFix: { roles: [], licenses: [] },
    };
  }

  /** Why permission `p` is not in the user's effective set, as a sentence fragment, and what would fix it. */
  private whyMissing(p: number, depth = 0): { text: string; wouldFix: ExplainTrace["wouldFix"] } {
    const { snapshot, tenant } = this;
    const { catalog } = snapshot;
    const bits = this.bits!;
    if (p >= catalog.permissionCount) {
      return {
        text: `${catalog.permissionKeys[p]} is not in the catalog, so nobody can hold it`,
        wouldFix: { roles: [], licenses: [] },
      };
    }
    if (!hasBit(bits, p, catalog.words)) {
      const mine = this.myRoleNames();
      const roles = this.tenantRolesGranting(p);
      return {
        text: `none of their roles (${mine.length > 0 ? mine.join(", ") : "they have none"}) grants it${this.rolesDo(roles)}`,
        wouldFix: { roles, licenses: [] },
      };
    }
    const lacking = this.tenantWantedLicenses(p).filter((l) => !hasBit(tenant.pool, l));
    if (lacking.length > 0) {
      const names = lacking.map((l) => catalog.licenseIds[l]!);
      return {
        text: `tenant ${tenant.id} itself must have license ${names.join(" and ")}, and it has not`,
        wouldFix: { roles: [], licenses: names },
      };
    }
    const wanted = this.wantedLicenses(p);
    if (wanted.length > 0 && !wanted.some((l) => hasBit(bits, l, 2 * catalog.words))) {
      const inPool = wanted.filter((l) => hasBit(tenant.pool, l));
      const names = wanted.map((l) => catalog.licenseIds[l]!);
      if (inPool.length === 0) {
        return {
          text: `it needs license ${names.join(" or ")}, and tenant ${tenant.id} has none of them`,
          wouldFix: { roles: [], licenses: names },
        };
      }
      const roles = this.tenantRolesWithLicense(inPool);
      const fix = inPool.map((l) => catalog.licenseIds[l]!);
      return {
        text:
          `it needs license ${fix.join(" or ")}, which none of their roles carries` +
          (roles.length > 0 ? this.rolesDo(roles) : "; associate one of their roles with it"),
        wouldFix: { roles, licenses: fix },
      };
    }
    const missing = new Set<number>();
    collectMissing(catalog.program, catalog.requirementStart[p]!, bits, missing);
    const keys = Array.from(missing, (q) => this.label(q));
    const first = missing.values().next().value;
    // The text names one level so the summary stays one line; the fix follows the chain a little
    // further (bounded, since requirements may form cycles).
    const deeper = first === undefined || depth >= 4 ? undefined : this.whyMissing(first, depth + 1);
    return {
      text: `${this.label(p)} in turn needs ${keys.join(", ")}`,
      wouldFix: deeper?.wouldFix ?? { roles: [], licenses: [] },
    };
  }

  private indexOfKey(key: string): number {
    return this.snapshot.catalog.permissionKeys.indexOf(key);
  }

  /** Whether the target holds `p` (rules 1–4; what only the acting user needs does not apply to it). */
  private targetStep(targetId: string, p: number): ExplainTrace["target"] {
    const t = this.tenant.userIndex.get(targetId);
    if (t === undefined) return { userId: targetId, allowed: false, reason: "USER_UNKNOWN" };
    if (this.tenant.userActive[t] === 0) return { userId: targetId, allowed: false, reason: "USER_INACTIVE" };
    const bits = this.lookup(this.snapshot, this.tenant, t);
    if (hasBit(bits, p)) return { userId: targetId, allowed: true, reason: "GRANTED" };
    return { userId: targetId, allowed: false, reason: denial(this.snapshot, this.tenant, p, bits).reason };
  }

  private scopeStep(p: number, request: CheckRequest): ExplainTrace["scope"] {
    const { selfTwinStart, selfTwins, permissionKeys } = this.snapshot.catalog;
    const twins = Array.from(selfTwins.subarray(selfTwinStart[p]!, selfTwinStart[p + 1]!));
    const resource = request.resource!;
    return {
      ownerOrParticipant:
        resource.ownerUserId === this.userId || resource.participantUserIds.includes(this.userId),
      twins: twins.map((q) => permissionKeys[q]!),
      twinsHeld: twins
        .filter((q) => this.bits !== undefined && hasBit(this.bits, q))
        .map((q) => permissionKeys[q]!),
    };
  }

  private userProblem(reason: "USER_UNKNOWN" | "USER_INACTIVE"): string {
    return reason === "USER_UNKNOWN"
      ? `${this.userId} is not a user of tenant ${this.tenant.id}.`
      : `${this.who} is inactive in tenant ${this.tenant.id}, so every permission is denied.`;
  }

  private grantedBy(p: number): string {
    const W = this.snapshot.catalog.words;
    const names: string[] = [];
    for (let i = this.tenant.userRoleStart[this.u!]!; i < this.tenant.userRoleStart[this.u! + 1]!; i++) {
      const r = this.tenant.userRoles[i]!;
      if (hasBit(this.tenant.roleClosure, p, r * W)) names.push(this.tenant.roleNames[r]!);
    }
    return `granted by role ${names.join(", ")}`;
  }

  private myRoleNames(): string[] {
    const { tenant } = this;
    if (this.u === undefined) return [];
    const out: string[] = [];
    for (let i = tenant.userRoleStart[this.u]!; i < tenant.userRoleStart[this.u + 1]!; i++) {
      out.push(tenant.roleNames[tenant.userRoles[i]!]!);
    }
    return out;
  }

  private tenantRolesGranting(p: number): { id: string; name: string }[] {
    const { tenant } = this;
    const W = this.snapshot.catalog.words;
    const out: { id: string; name: string }[] = [];
    for (let r = 0; r < tenant.roleIds.length; r++) {
      if (hasBit(tenant.roleClosure, p, r * W))
        out.push({ id: tenant.roleIds[r]!, name: tenant.roleNames[r]! });
    }
    return out;
  }

  private tenantRolesWithLicense(licenses: readonly number[]): { id: string; name: string }[] {
    const { tenant } = this;
    const LW = this.snapshot.catalog.licenseWords;
    const out: { id: string; name: string }[] = [];
    for (let r = 0; r < tenant.roleIds.length; r++) {
      if (licenses.some((l) => hasBit(tenant.roleLicenses, l, r * LW))) {
        out.push({ id: tenant.roleIds[r]!, name: tenant.roleNames[r]! });
      }
    }
    return out;
  }

  /** "; role Agent does" / "; roles A, B do" / "; no role of tenant T does". */
  private rolesDo(roles: readonly { name: string }[]): string {
    if (roles.length === 0) return `; no role of tenant ${this.tenant.id} does`;
    if (roles.length === 1) return `; role ${roles[0]!.name} does`;
    return `; roles ${roles.map((r) => r.name).join(", ")} do`;
  }

  private wantedLicenses(p: number): number[] {
    const { permissionLicenseStart, permissionLicenses } = this.snapshot.catalog;
    return Array.from(
      permissionLicenses.subarray(permissionLicenseStart[p]!, permissionLicenseStart[p + 1]!),
    );
  }

  private tenantWantedLicenses(p: number): number[] {
    const { permissionTenantLicenseStart, permissionTenantLicenses } = this.snapshot.catalog;
    return Array.from(
      permissionTenantLicenses.subarray(
        permissionTenantLicenseStart[p]!,
        permissionTenantLicenseStart[p + 1]!,
      ),
    );
  }

  private heldLicenses(): string[] {
    const { licenseIds, words } = this.snapshot.catalog;
    return licenseIds.filter((_, l) => hasBit(this.bits!, l, 2 * words));
  }

  private roleLicenses(r: number): string[] {
    const { licenseIds, licenseWords } = this.snapshot.catalog;
    return licenseIds.filter((_, l) => hasBit(this.tenant.roleLicenses, l, r * licenseWords));
  }

  private requirementStep(t: RequirementTrace): RequirementStep {
    if (t.kind === "permission") {
      return {
        kind: "permission",
        permission: this.snapshot.catalog.permissionKeys[t.permission]!,
        holds: t.holds,
      };
    }
    return { kind: t.kind, holds: t.holds, items: t.items.map((i) => this.requirementStep(i)) };
  }

  /** `CONTACTS_UPDATE (cxengage)`. */
  private label(p: number): string {
    return this.labelOf(this.snapshot.catalog.permissionKeys[p]!);
  }

  private labelOf(key: string): string {
    const slash = key.indexOf("/");
    return slash < 0 ? key : `${key.slice(slash + 1)} (${key.slice(0, slash)})`;
  }
}

function dedupe(roles: readonly { id: string; name: string }[]): { id: string; name: string }[] {
  return [...new Map(roles.map((r) => [r.id, r])).values()];
}
