/**
 * The policy engine a server holds: the current snapshot (swapped atomically) and the cache of
 * per-user effective sets. Each call reads the snapshot pointer once, so a request is decided
 * entirely on one revision even while a new snapshot is being installed.
 */
import { DomainError } from "../domain-error.js";
import { type CacheStats, EffectiveCache } from "./cache.js";
import { type CompareOptions, type Comparison, compareUsers } from "./compare-users.js";
import type { CheckRequest, Decision } from "./decision.js";
import {
  check,
  checkMany,
  type EffectivePermission,
  type LookupPage,
  listEffective,
  lookupUsers,
  resolveSurfaces,
  type SurfaceDecision,
} from "./evaluator.js";
import { type ExplainSubject, type Explanation, explain } from "./explain.js";
import type { Snapshot } from "./snapshot.js";
import { TenantReadiness } from "./tenant-readiness.js";

/** Options of `createPolicyEngine`. */
export interface PolicyEngineOptions {
  /** Most users whose effective sets are cached (each a few hundred bytes). Default: 100_000. */
  readonly maxCachedUsers?: number;
  /** The snapshot to serve from the start. Default: none; calls throw `NoSnapshotError` until `setSnapshot`. */
  readonly snapshot?: Snapshot;
  /** Longest wait for a loading tenant whatever the caller's deadline (the sidecar's maximum deadline). Default 30,000 ms. */
  readonly maxTenantWaitMs?: number;
}

/** Defaults of `PolicyEngineOptions`. */
export const POLICY_ENGINE_DEFAULTS = Object.freeze({ maxCachedUsers: 100_000 });

/** Thrown when the engine is asked before it has any snapshot (the server reports NOT_SERVING then). */
export class NoSnapshotError extends DomainError {
  override readonly name = "NoSnapshotError";
  readonly code = "UNAVAILABLE";
  constructor() {
    super("no policy snapshot loaded yet");
  }

  override get publicMessage(): string {
    return "the sidecar has not loaded a policy snapshot yet; retry shortly";
  }
}

/** Creates a policy engine. Throws `TypeError` for a bad option. */
export function createPolicyEngine(options: PolicyEngineOptions = {}): PolicyEngine {
  return new PolicyEngine(options);
}

/** Holds the current snapshot and the effective-set cache; decides on whatever snapshot is current. */
export class PolicyEngine {
  private current: Snapshot | undefined;
  private readonly cache: EffectiveCache;
  private readonly readiness: TenantReadiness;

  /** Prefer `createPolicyEngine`. */
  constructor(options: PolicyEngineOptions = {}) {
    this.cache = new EffectiveCache(options.maxCachedUsers ?? POLICY_ENGINE_DEFAULTS.maxCachedUsers);
    this.current = options.snapshot;
    this.readiness = new TenantReadiness(
      options.maxTenantWaitMs === undefined ? {} : { maxWaitMs: options.maxTenantWaitMs },
    );
  }

  /** The snapshot being served, or `undefined` before the first one. */
  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  /** The snapshot being served; throws `NoSnapshotError` before the first one. */
  currentSnapshot(): Snapshot {
    return this.require();
  }

  /**
   * Installs a new snapshot. One pointer assignment: calls already running finish on the old
   * one, calls after it see the new one. Cached sets of the tenants it recompiled or removed are
   * dropped; those of the tenants it kept as they were stay (they are the same compiled objects,
   * so their answers are the same at the new revision).
   */
  setSnapshot(snapshot: Snapshot): void {
    const previous = this.current;
    this.current = snapshot;
    if (previous !== undefined && previous.databaseId !== snapshot.databaseId) this.cache.clear();
    else if (previous !== undefined && previous !== snapshot) {
      // Dropping them at once keeps memory flat under a stream of changes (proportional to the
      // changed tenants' users), instead of leaving dead entries until the LRU evicts them.
      for (const [id, tenant] of previous.tenants) {
        if (snapshot.tenants.get(id) !== tenant) this.cache.dropTenant(tenant);
      }
    }
    this.readiness.installed(snapshot);
  }

  /** Whether the tenant exists but is still loading after a start (see `tenantReady`). */
  tenantLoading(tenantId: string): boolean {
    const pending = this.current?.pendingTenantIds;
    return pending !== undefined && pending.size > 0 && pending.has(tenantId);
  }

  /**
   * Undefined when the tenant can be decided now (compiled, unknown, or no snapshot yet: the call
   * then fails as it would); a promise while it is still loading after a start, resolved once it
   * is compiled, rejected with TenantNotReadyError (UNAVAILABLE) shortly before `deadline`.
   */
  tenantReady(
    tenantId: string,
    deadline: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> | undefined {
    return this.readiness.wait(this.current, tenantId, deadline, signal);
  }

  /** Checks one permission for one user on the current snapshot. */
  check(tenantId: string, userId: string, request: CheckRequest): Decision {
    return check(this.require(), tenantId, userId, request, this.cache.lookup);
  }

  /** Checks several permissions for one user, all on the same snapshot. */
  checkMany(tenantId: string, userId: string, requests: readonly CheckRequest[]): Decision[] {
    return checkMany(this.require(), tenantId, userId, requests, this.cache.lookup);
  }

  /** Every permission of the tenant's enabled systems (or one system) with the user's decision. */
  listEffective(tenantId: string, userId: string, system?: string): EffectivePermission[] {
    return listEffective(this.require(), tenantId, userId, system, this.cache.lookup);
  }

  /** Users of the tenant for whom the permission is allowed, sorted by id, paged. */
  lookupUsers(tenantId: string, permission: string, page: LookupPage = {}): string[] {
    return lookupUsers(this.require(), tenantId, permission, page, this.cache.lookup);
  }

  /** Each surface's requirement on the user's effective set. */
  resolveSurfaces(tenantId: string, userId: string, surfaces: readonly string[]): SurfaceDecision[] {
    return resolveSurfaces(this.require(), tenantId, userId, surfaces, this.cache.lookup);
  }

  /** A decision with its trace and a one-line summary for a support ticket. */
  explain(tenantId: string, userId: string, subject: ExplainSubject): Explanation {
    return explain(this.require(), tenantId, userId, subject, this.cache.lookup);
  }

  /** Two users side by side (CompareUsers), both on the same snapshot. */
  compareUsers(
    tenantId: string,
    userId: string,
    otherUserId: string,
    options: Omit<CompareOptions, "lookup"> = {},
  ): Comparison {
    return compareUsers(this.require(), tenantId, userId, otherUserId, {
      ...options,
      lookup: this.cache.lookup,
    });
  }

  /** Cache counters for metrics. */
  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  /** Whether the cache holds an entry under exactly this key (see `cacheKey`); for tests. */
  cacheHasKey(key: string): boolean {
    return this.cache.hasKey(key);
  }

  private require(): Snapshot {
    const snapshot = this.current;
    if (snapshot === undefined) throw new NoSnapshotError();
    return snapshot;
  }
}
