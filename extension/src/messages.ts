/**
 * The extension's internal message protocol: what the content script, popup and options page may
 * ask the background for, and what they get back. Plain JSON (no bigint, no protobuf messages)
 * because runtime messaging serializes as JSON.
 */

/** `TENANT/USER`, split. */
export interface Subject {
  readonly tenantId: string;
  readonly userId: string;
}

/** One UI surface registered for the page, decided for the page's user. */
export interface SurfaceView {
  readonly surfaceId: string;
  readonly system: string;
  readonly label: string;
  readonly kind: string;
  /** CSS selector for pages without `data-rolecall-surface`. */
  readonly selector: string;
  /** The requirement as text ("CONTACTS_READ and CONTACTS_UPDATE"). */
  readonly requirement: string;
  readonly allowed: boolean;
  /**
   * Reason as a word people read ("not granted", "license missing"): for a denied surface, the
   * reason of the permission behind it, so the overlay and the popup use the same word.
   */
  readonly reason: string;
  /** Qualified keys or license ids whose absence caused a denial. */
  readonly missing: readonly string[];
  /** What would fix a denial, in one line. */
  readonly summary: string;
  /** Licenses whose absence denies it, with their seats (empty unless the reason is a license). */
  readonly licenses: readonly LicenseSeatsView[];
  /** Ways to fix a denial, best first (empty when allowed or when the token may not list roles). */
  readonly fixes: readonly FixView[];
}

/** A license and how many of its seats are free. */
export interface LicenseSeatsView {
  readonly licenseId: string;
  readonly used: number;
  readonly seats: number;
}

/** A role, by id and the name people know it by. */
export interface RoleRef {
  readonly id: string;
  readonly name: string;
}

/** One proposed admin write, as SimulateChanges' AdminChange in JSON (`{grantPermissions: {...}}`). */
export type ProposedWrite =
  | { readonly grantPermissions: { tenantId: string; roleId: string; permissions: string[] } }
  | { readonly assignRoles: { tenantId: string; userId: string; roleIds: string[] } }
  | { readonly setRoleLicenses: { tenantId: string; roleId: string; licenseIds: string[] } }
  | { readonly setUserActive: { tenantId: string; userId: string; active: boolean } };

/** One way to fix a denial, with what it costs in others' access. */
export interface FixView {
  /** "grant" (to a role the user holds), "assign" (another role), "license" (to a role the user holds), "activate" (the user). */
  readonly kind: "grant" | "assign" | "license" | "activate";
  /** One line, e.g. "grant CONTACTS_UPDATE to role Custom Agent (1 user holds Custom Agent)". */
  readonly text: string;
  /** Others touched: users besides this one who would gain (grant, license), or other permissions the user would gain (assign). */
  readonly sideEffects: number;
  readonly write: ProposedWrite;
}

/** The surfaces of a page for a subject. */
export interface PageSurfaces {
  readonly subject: Subject;
  /** The registered app that matched the URL; empty when none did (then there are no surfaces). */
  readonly appId: string;
  readonly revision: string;
  readonly surfaces: readonly SurfaceView[];
  /** Set when the tenant has no such user: one sentence instead of a row per surface. */
  readonly unknownUser?: string;
}

/** One permission with the subject's decision. */
export interface PermissionView {
  readonly permission: string;
  readonly name: string;
  readonly system: string;
  readonly category: string;
  readonly allowed: boolean;
  readonly reason: string;
  readonly missing: readonly string[];
  readonly grantedByRoleIds: readonly string[];
  /** The granting roles with their names (ids when the names cannot be read). */
  readonly grantedBy: readonly RoleRef[];
  /** The user's licenses it works under. */
  readonly licensedBy: readonly string[];
  /** What it requires besides the grant, as text; empty: nothing. */
  readonly requirement: string;
}

/** A subject's effective permissions. */
export interface EffectiveView {
  readonly subject: Subject;
  readonly roleIds: readonly string[];
  readonly licenseIds: readonly string[];
  /** The user's roles with their names. */
  readonly roles: readonly RoleRef[];
  readonly revision: string;
  readonly permissions: readonly PermissionView[];
  /** Set when the tenant has no such user: then `permissions` is empty, and this says so once. */
  readonly unknownUser?: { readonly message: string; readonly suggestion: string | undefined };
}

/** One row of a comparison of two users. */
export interface ComparedRow {
  readonly id: string;
  readonly name: string;
  readonly system: string;
  readonly differs: boolean;
  readonly user: {
    readonly allowed: boolean;
    readonly reason: string;
    readonly grantedBy: readonly RoleRef[];
  };
  readonly other: {
    readonly allowed: boolean;
    readonly reason: string;
    readonly grantedBy: readonly RoleRef[];
  };
}

/** CompareUsers' answer. */
export interface ComparisonView {
  readonly subject: Subject;
  readonly otherUserId: string;
  readonly permissionDifferences: number;
  readonly surfaceDifferences: number;
  readonly permissions: readonly ComparedRow[];
  readonly surfaces: readonly ComparedRow[];
  readonly revision: string;
}

/** SimulateChanges' answer: who else would gain or lose what. Nothing is committed. */
export interface PreviewView {
  readonly changes: readonly { operation: string; applied: boolean; refusal: string }[];
  readonly users: readonly {
    userId: string;
    permissionsGained: readonly string[];
    permissionsLost: readonly string[];
    surfacesGained: readonly string[];
    surfacesLost: readonly string[];
  }[];
  readonly seats: readonly LicenseSeatsView[];
  readonly revision: string;
}

/** One revision at which the user's access changed. */
export interface AccessChangeView {
  readonly revision: string;
  readonly time: string;
  readonly actor: string;
  readonly operation: string;
  readonly gained: readonly string[];
  readonly lost: readonly string[];
  readonly summary: string;
}

/** One step of an explanation. */
export interface TraceView {
  readonly kind: string;
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly children: readonly TraceView[];
}

/** Why a permission is allowed or denied. */
export interface ExplanationView {
  readonly permission: string;
  readonly allowed: boolean;
  readonly reason: string;
  readonly missing: readonly string[];
  readonly summary: string;
  readonly trace: readonly TraceView[];
}

/** What the popup shows about the extension itself. The token never leaves the background: only whether one is set. */
export interface StateView {
  readonly sidecarUrl: string;
  readonly hasToken: boolean;
  readonly overlayEnabled: boolean;
  readonly lastSubject: string | null;
}

/** Requests to the background, by name, with their answers. */
export interface BackgroundApi {
  resolveSurfaces: { request: { subject: Subject }; response: PageSurfaces };
  listEffective: { request: { subject: Subject }; response: EffectiveView };
  explain: { request: { subject: Subject; permission: string }; response: ExplanationView };
  fixes: { request: { subject: Subject; permission: string }; response: readonly FixView[] };
  compare: { request: { subject: Subject; otherUserId: string }; response: ComparisonView };
  preview: { request: { subject: Subject; write: ProposedWrite }; response: PreviewView };
  /** Whether the token may make `write` (so a preview of it is worth offering). */
  mayPreview: { request: { subject: Subject; write: ProposedWrite }; response: { allowed: boolean } };
  history: { request: { subject: Subject }; response: readonly AccessChangeView[] };
  /** A single-use URL the browser downloads the tenant's review CSV from (streamed to disk). */
  reviewCsv: { request: { tenantId: string }; response: { filename: string; url: string } };
  policyRevision: { request: { tenantId: string }; response: { revision: string } };
  openPopup: {
    request: { subject: Subject; write?: ProposedWrite; text?: string };
    response: Record<never, never>;
  };
  testConnection: { request: { sidecarUrl?: string; token?: string }; response: { message: string } };
  getState: { request: Record<never, never>; response: StateView };
  getOverlayState: { request: Record<never, never>; response: { enabled: boolean } };
  setOverlayEnabled: { request: { enabled: boolean }; response: { enabled: boolean } };
}

/** The name of a background request. */
export type BackgroundMethod = keyof BackgroundApi;

/** A message to the background. */
export type BackgroundRequest<M extends BackgroundMethod = BackgroundMethod> = {
  type: M;
} & BackgroundApi[M]["request"];

/** Every answer: a value or an error message a person can act on. */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: string };

/** Messages the extension sends to a tab's content script. */
export type ContentMessage = { type: "overlayState"; enabled: boolean } | { type: "getSubject" };

/** Parses `TENANT/USER`; undefined when it is not that shape. */
export function parseSubject(text: string | null | undefined): Subject | undefined {
  const m = /^\s*([^/\s]{1,100})\/([^/\s]{1,100})\s*$/.exec(text ?? "");
  return m?.[1] && m[2] ? { tenantId: m[1], userId: m[2] } : undefined;
}

/** `TENANT/USER` for a subject. */
export function formatSubject(subject: Subject): string {
  return `${subject.tenantId}/${subject.userId}`;
}

/** Whether a requirement's text is "a or b or c", so that any one of its missing keys would do. */
export function isAnyOfRequirement(requirement: string): boolean {
  return / or /.test(requirement) && !/ and /.test(requirement);
}
