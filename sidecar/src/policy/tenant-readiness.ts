/**
 * Waits for a tenant still loading after a start (a large store compiles tenant by tenant while
 * the tenants already compiled serve). A call naming a loading tenant is never decided on what is
 * there: it waits for the tenant, and fails UNAVAILABLE shortly before its deadline if the tenant
 * is still loading then.
 */
import { TenantNotReadyError } from "./decision.js";
import type { Snapshot } from "./snapshot.js";

/** Options of TenantReadiness. */
export interface TenantReadinessOptions {
  /** How long before the caller's deadline to give up, so the answer arrives in time. Default 20 ms. */
  readonly marginMs?: number;
  /** Longest wait when the caller set no deadline. Default 5,000 ms. */
  readonly defaultWaitMs?: number;
  /** Longest wait whatever the caller's deadline (the sidecar's maximum deadline). Default 30,000 ms. */
  readonly maxWaitMs?: number;
  /** Clock. Default `Date.now`. */
  readonly now?: () => number;
}

interface Waiter {
  readonly tenantId: string;
  readonly resolve: () => void;
}

/** The waits for loading tenants of one engine. */
export class TenantReadiness {
  #waiters: Waiter[] = [];
  readonly #marginMs: number;
  readonly #defaultWaitMs: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;

  constructor(options: TenantReadinessOptions = {}) {
    this.#marginMs = options.marginMs ?? 20;
    this.#defaultWaitMs = options.defaultWaitMs ?? 5_000;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#now = options.now ?? Date.now;
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
    const asked = deadline === undefined ? this.#defaultWaitMs : deadline - this.#now();
    const budget = Math.min(asked, this.#maxWaitMs) - this.#marginMs;
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", fail);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      const fail = () => {
        settle();
        reject(new TenantNotReadyError(tenantId));
      };
      const waiter: Waiter = {
        tenantId,
        resolve: () => {
          settle();
          resolve();
        },
      };
      const timer = setTimeout(fail, Math.max(0, budget));
      this.#waiters.push(waiter);
      if (signal?.aborted) fail();
      else signal?.addEventListener("abort", fail, { once: true });
    });
  }

  /** Wakes the waits whose tenant `snapshot` no longer lists as loading. */
  installed(snapshot: Snapshot): void {
    if (this.#waiters.length === 0) return;
    for (const w of [...this.#waiters]) {
      if (!snapshot.pendingTenantIds.has(w.tenantId)) w.resolve();
    }
  }
}
