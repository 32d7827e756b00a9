/** Conversions from the sidecar's wire types to the extension's plain message types. */
import type {
  CompareUsersResponse,
  EffectivePermission,
  ExplainPermissionResponse,
  ListEffectivePermissionsResponse,
  ResolvedSurface,
  ResolveSurfacesResponse,
  SimulateChangesResponse,
  TraceStep,
  UserDecision,
} from "../../../gen/rolecall/v1/policy_pb.js";
import { Reason } from "../../../gen/rolecall/v1/policy_pb.js";
import type {
  ComparedRow,
  ComparisonView,
  EffectiveView,
  ExplanationView,
  PageSurfaces,
  PermissionView,
  PreviewView,
  Subject,
  SurfaceView,
  TraceView,
} from "../messages.js";
import type { Decided } from "./fixes.js";
import { reasonText } from "./reason-words.js";
import { type RoleTable, roleRefs } from "./tenant-facts.js";

function surfaceView(s: ResolvedSurface): SurfaceView {
  return {
    surfaceId: s.surfaceId,
    system: s.system,
    label: s.label || s.surfaceId,
    kind: s.kind,
    selector: s.selector,
    requirement: s.requirement,
    allowed: s.allowed,
    reason: reasonText(s.reason),
    missing: [...s.missing],
    summary: s.summary,
    licenses: [],
    fixes: [],
  };
}

/** ResolveSurfaces' answer for the overlay. */
export function pageSurfaces(subject: Subject, res: ResolveSurfacesResponse): PageSurfaces {
  return {
    subject,
    appId: res.appId,
    revision: res.revision.toString(),
    // No registered app: nothing to decide, whatever the sidecar sent.
    surfaces: res.appId === "" ? [] : res.surfaces.map(surfaceView),
  };
}

function permissionView(p: EffectivePermission, roles: RoleTable): PermissionView {
  return {
    permission: p.permission,
    name: p.name || p.permission,
    system: p.system || p.permission.split("/")[0] || "",
    category: p.category,
    allowed: p.allowed,
    reason: reasonText(p.reason),
    missing: [...p.missing],
    grantedByRoleIds: [...p.grantedByRoleIds],
    grantedBy: roleRefs(roles, p.grantedByRoleIds),
    licensedBy: [...p.licensedBy],
    requirement: p.requirement,
  };
}

/** ListEffectivePermissions' answer for the popup. */
export function effectiveView(
  subject: Subject,
  res: ListEffectivePermissionsResponse,
  roles: RoleTable,
): EffectiveView {
  return {
    subject,
    roleIds: [...res.roleIds],
    licenseIds: [...res.licenseIds],
    roles: roleRefs(roles, res.roleIds),
    revision: res.revision.toString(),
    permissions: res.permissions.map((p) => permissionView(p, roles)),
  };
}

/** Whether every row says the tenant has no such user (then one message beats hundreds of rows). */
export function isUnknownUser(res: { permissions: readonly { reason: Reason }[] }): boolean {
  return res.permissions.length > 0 && res.permissions.every((p) => p.reason === Reason.USER_UNKNOWN);
}

/** The user's decisions by permission, for ranking fixes. */
export function decisionsOf(res: ListEffectivePermissionsResponse): Map<string, Decided> {
  return new Map(
    res.permissions.map((p) => [
      p.permission,
      {
        allowed: p.allowed,
        reason: Reason[p.reason] ?? "",
        missing: p.missing,
        grantedByRoleIds: p.grantedByRoleIds,
      },
    ]),
  );
}

function compareSide(d: UserDecision | undefined, roles: RoleTable): ComparedRow["user"] {
  return {
    allowed: d?.allowed ?? false,
    reason: d ? reasonText(d.reason) : "",
    grantedBy: roleRefs(roles, d?.grantedByRoleIds ?? []),
  };
}

/** CompareUsers' answer for the popup, differences first as the sidecar sends them. */
export function comparisonView(
  subject: Subject,
  otherUserId: string,
  res: CompareUsersResponse,
  roles: RoleTable,
): ComparisonView {
  const row = (
    id: string,
    name: string,
    system: string,
    r: { user?: UserDecision | undefined; other?: UserDecision | undefined; differs: boolean },
  ): ComparedRow => ({
    id,
    name,
    system,
    differs: r.differs,
    user: compareSide(r.user, roles),
    other: compareSide(r.other, roles),
  });
  return {
    subject,
    otherUserId,
    permissionDifferences: res.permissionDifferences,
    surfaceDifferences: res.surfaceDifferences,
    permissions: res.permissions.map((p) => row(p.permission, p.name || p.permission, p.system, p)),
    surfaces: res.surfaces.map((s) => row(s.surfaceId, s.label || s.surfaceId, s.system, s)),
    revision: res.revision.toString(),
  };
}

/** SimulateChanges' answer for the popup's preview. */
export function previewView(res: SimulateChangesResponse): PreviewView {
  return {
    changes: res.changes.map((c) => ({
      operation: c.operation,
      applied: c.applied,
      refusal: c.applied ? "" : `${c.refusalCode}: ${c.refusal}`,
    })),
    users: res.users.map((u) => ({
      userId: u.userId,
      permissionsGained: [...u.permissionsGained],
      permissionsLost: [...u.permissionsLost],
      surfacesGained: [...u.surfacesGained],
      surfacesLost: [...u.surfacesLost],
    })),
    seats: res.seats.map((l) => ({ licenseId: l.licenseId, used: l.used, seats: l.seats })),
    revision: res.revision.toString(),
  };
}

function traceView(t: TraceStep): TraceView {
  return { kind: t.kind, label: t.label, ok: t.ok, detail: t.detail, children: t.children.map(traceView) };
}

/** ExplainPermission's answer for the popup. */
export function explanationView(permission: string, res: ExplainPermissionResponse): ExplanationView {
  return {
    permission,
    allowed: res.allowed,
    reason: reasonText(res.reason),
    missing: [...res.missing],
    summary: res.summary,
    trace: res.trace.map(traceView),
  };
}
