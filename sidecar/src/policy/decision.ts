/**
 * Domain types of a policy decision: what a check asks, what it answers, and the errors that are
 * a caller's bug rather than a denial. Nothing here knows gRPC or SQLite.
 */
import { closestKey } from "../../../catalog/closest-key.js";

/** Why a permission is or is not allowed, in the order ARCHITECTURE.md's decision semantics test them. */
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

/** Thrown for a permission key the catalog does not know: a caller's bug, never a denial. */
export class UnknownPermissionError extends Error {
  override readonly name = "UnknownPermissionError";
  /** The key as the caller sent it. */
  readonly permission: string;
  /** The closest known key, or `null` when none is reasonably close. */
  readonly suggestion: string | null;

  constructor(permission: string, knownKeys: Iterable<string>) {
    const suggestion = closestKey(permission, knownKeys);
    super(
      suggestion === null
        ? `unknown permission '${permission}'`
        : `unknown permission '${permission}'; did you mean '${suggestion}'?`,
    );
    this.permission = permission;
    this.suggestion = suggestion;
  }
}

/** Thrown for a surface id the catalog does not know: a caller's bug, never a denial. */
export class UnknownSurfaceError extends Error {
  override readonly name = "UnknownSurfaceError";
  /** The surface id as the caller sent it. */
  readonly surface: string;
  /** The closest known surface id, or `null` when none is reasonably close. */
  readonly suggestion: string | null;

  constructor(surface: string, knownIds: Iterable<string>) {
    const suggestion = closestKey(surface, knownIds);
    super(
      suggestion === null
        ? `unknown surface '${surface}'`
        : `unknown surface '${surface}'; did you mean '${suggestion}'?`,
    );
    this.surface = surface;
    this.suggestion = suggestion;
  }
}

/** Thrown for a tenant the snapshot does not hold. */
export class UnknownTenantError extends Error {
  override readonly name = "UnknownTenantError";
  /** The tenant id as the caller sent it. */
  readonly tenant: string;

  constructor(tenant: string) {
    super(`unknown tenant '${tenant}'`);
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
