/**
 * Waits for a tenant still loading after a start (a large store compiles tenant by tenant while
 * the tenants already compiled serve). A call naming a loading tenant is never decided on what is
 * there: it waits for the tenant, and fails UNAVAILABLE shortly before its deadline if the tenant
 * is still loading then.
 */
import { type DeadlineWaitOptions, DeadlineWaits } from "../deadline-waits.js";
import { TenantNotReadyError } from "./decision.js";
import type { Snapshot } from "./snapshot.js";

/** Options of TenantReadiness. */
export type TenantReadinessOptions = DeadlineWaitOptions;

/** The waits for loading tenants of one engine. */
export class TenantReadiness {
  readonly #waits: DeadlineWaits<string>;

  constructor(options: TenantReadinessOptions = {}) {
    this.#waits = new DeadlineWaits(options);
  }

  /**
   * Undefined when `tenantId` is not loading in `snapshot` (the usual case: no promise, no
   * allocation); else a promise that resolves once a snapshot installed later holds it (or no
   * longer lists it), or rejects with TenantNotReadyError shortly before `deadline` (epoch ms).
   */
  wait(
    snapshot: Snapshot | undefined,
    tenantId: string,
    deadline: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> | undefined {
    if (snapshot === undefined || snapshot.pendingTenantIds.size === 0) return undefined;
    if (!snapshot.pendingTenantIds.has(tenantId)) return undefined;
    return this.#waits.wait(tenantId, deadline, signal, () => new TenantNotReadyError(tenantId));
  }

  /** Wakes the waits whose tenant `snapshot` no longer lists as loading. */
  installed(snapshot: Snapshot): void {
    if (this.#waits.size > 0) this.#waits.wake((id) => !snapshot.pendingTenantIds.has(id));
  }
}
