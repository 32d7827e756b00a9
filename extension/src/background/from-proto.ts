/** Conversions from the sidecar's wire types to the extension's plain message types. */
import type {
  EffectivePermission,
  ExplainPermissionResponse,
  ListEffectivePermissionsResponse,
  ResolvedSurface,
  ResolveSurfacesResponse,
  TraceStep,
} from "../../../gen/rolecall/v1/policy_pb.js";
import { Reason } from "../../../gen/rolecall/v1/policy_pb.js";
import type {
  EffectiveView,
  ExplanationView,
  PageSurfaces,
  PermissionView,
  Subject,
  SurfaceView,
  TraceView,
} from "../messages.js";

/** A reason as people read it: `REASON_LICENSE_MISSING` → "license missing". */
export function reasonText(reason: Reason): string {
  const name = Reason[reason] ?? `REASON_${reason}`;
  return name === "UNSPECIFIED" ? "" : name.toLowerCase().replace(/_/g, " ");
}

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

function permissionView(p: EffectivePermission): PermissionView {
  return {
    permission: p.permission,
    name: p.name || p.permission,
    system: p.system || p.permission.split("/")[0] || "",
    category: p.category,
    allowed: p.allowed,
    reason: reasonText(p.reason),
    missing: [...p.missing],
    grantedByRoleIds: [...p.grantedByRoleIds],
  };
}

/** ListEffectivePermissions' answer for the popup. */
export function effectiveView(subject: Subject, res: ListEffectivePermissionsResponse): EffectiveView {
  return {
    subject,
    roleIds: [...res.roleIds],
    licenseIds: [...res.licenseIds],
    revision: res.revision.toString(),
    permissions: res.permissions.map(permissionView),
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
