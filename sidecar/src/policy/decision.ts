/**
 * Domain types of a policy decision: what a check asks, what it answers, and the errors that are
 * a caller's bug rather than a denial. Nothing here knows gRPC or SQLite.
 */
import { closestKey } from "../../../catalog/closest-key.js";
import { DomainError } from "../domain-error.js";

/** Why a permission is or is not allowed, in the order the rules of docs/architecture.md test them. */
export type Reason =
  | "GRANTED"
  | "NOT_GRANTED"
  | "LICENSE_MISSING"
  | "REQUIREMENT_MISSING"
  | "USER_INACTIVE"
  | "USER_UNKNOWN"
  | "TARGET_LACKS_PERMISSION"
  | "OUT_OF_SCOPE";

/** The answer to one check; a denial is data, not an exception. */
export interface Decision {
  readonly allowed: boolean;
  readonly reason: Reason;
  /**
   * What would have to change: qualified license ids (`LICENSE_MISSING`), qualified permission
   * keys (`REQUIREMENT_MISSING`), the target user id (`TARGET_LACKS_PERMISSION`); empty otherwise.
   */
  readonly missing: readonly string[];
  /** The store revision of the snapshot that decided. */
  readonly revision: number;
}

/** A resource a `_SELF`-scoped permission is checked on (an interaction, a note). */
export interface ResourceRef {
  readonly ownerUserId: string;
  readonly participantUserIds: readonly string[];
}

/** One check: a permission, optionally against a target user (mutual) or on a resource (scope). */
export interface CheckRequest {
  /** Qualified permission key `system/key`. */
  readonly permission: string;
  /** For a mutual permission: the other user who must hold it too. Ignored for other permissions. */
  readonly targetUserId?: string;
  /** For a `self`-scoped permission: the resource whose owner or participants the user must be among. */
  readonly resource?: ResourceRef;
}

/** Thrown for an id the catalog does not know: a caller's bug, never a denial. Names the closest known id. */
abstract class UnknownCatalogIdError extends DomainError {
  readonly code = "NOT_FOUND";
  /** The closest known id, or `null` when none is reasonably close. */
  readonly suggestion: string | null;

  constructor(kind: string, id: string, knownIds: Iterable<string>) {
    const suggestion = closestKey(id, knownIds);
    super(
      suggestion === null
        ? `unknown ${kind} '${id}'`
        : `unknown ${kind} '${id}'; did you mean '${suggestion}'?`,
    );
    this.suggestion = suggestion;
  }
}

/** Thrown for a permission key the catalog does not know. */
export class UnknownPermissionError extends UnknownCatalogIdError {
  override readonly name = "UnknownPermissionError";

  constructor(
    /** The key as the caller sent it. */
    readonly permission: string,
    knownKeys: Iterable<string>,
  ) {
    super("permission", permission, knownKeys);
  }
}

/** Thrown for a surface id the catalog does not know. */
export class UnknownSurfaceError extends UnknownCatalogIdError {
  override readonly name = "UnknownSurfaceError";

  constructor(
    /** The surface id as the caller sent it. */
    readonly surface: string,
    knownIds: Iterable<string>,
  ) {
    super("surface", surface, knownIds);
  }
}

/** Thrown for a tenant the snapshot does not hold. */
export class UnknownTenantError extends DomainError {
  override readonly name = "UnknownTenantError";
  readonly code = "NOT_FOUND";
  /** The tenant id as the caller sent it. */
  readonly tenant: string;

  constructor(tenant: string) {
    super(`unknown tenant '${tenant}'`);
    this.tenant = tenant;
  }
}

/**
 * Thrown for a tenant that exists but is not compiled yet (a large store loading after a start):
 * it is never decided on partial data, so the caller retries, or waits with `tenantReady`.
 */
export class TenantNotReadyError extends DomainError {
  override readonly name = "TenantNotReadyError";
  readonly code = "UNAVAILABLE";
  readonly tenant: string;

  constructor(tenant: string) {
    super(`tenant '${tenant}' is still loading after the sidecar started; retry shortly`);
    this.tenant = tenant;
  }
}

/** Frozen empty list shared by every decision that names nothing, so the hot path does not allocate. */
export const NOTHING_MISSING: readonly string[] = Object.freeze([]);

/** Builds a frozen decision. */
export function decision(
  allowed: boolean,
  reason: Reason,
  missing: readonly string[],
  revision: number,
): Decision {
  return Object.freeze({ allowed, reason, missing, revision });
}
