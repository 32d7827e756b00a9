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
  /** Reason as a word people read ("not granted", "license missing"). */
  readonly reason: string;
  /** Qualified keys or license ids whose absence caused a denial. */
  readonly missing: readonly string[];
  /** What would fix a denial, in one line. */
  readonly summary: string;
}

/** The surfaces of a page for a subject. */
export interface PageSurfaces {
  readonly subject: Subject;
  /** The registered app that matched the URL; empty when none did (then there are no surfaces). */
  readonly appId: string;
  readonly revision: string;
  readonly surfaces: readonly SurfaceView[];
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
}

/** A subject's effective permissions. */
export interface EffectiveView {
  readonly subject: Subject;
  readonly roleIds: readonly string[];
  readonly licenseIds: readonly string[];
  readonly revision: string;
  readonly permissions: readonly PermissionView[];
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
