/**
 * Lets reads wait for a store revision: a call with `min_revision` R proceeds once the sidecar
 * has applied R, and fails UNAVAILABLE shortly before its deadline if it has not — so a caller
 * never sees the world before its own write, and never hangs past its deadline.
 */

import { DomainError } from "../domain-error.js";

/** Raised when a revision was not reached in time. */
export class RevisionNotReachedError extends DomainError {
  override readonly name = "RevisionNotReachedError";
  readonly code = "UNAVAILABLE";
}

/** Options of a RevisionGate. */
export interface RevisionGateOptions {
  /** How long before the caller's deadline to give up, so the answer arrives in time. Default 20 ms. */
  readonly marginMs?: number;
  /** Longest wait when the caller set no deadline. Default 5,000 ms. */
  readonly defaultWaitMs?: number;
  /** Longest wait whatever the caller's deadline (the sidecar's maximum deadline). Default 30,000 ms. */
  readonly maxWaitMs?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

interface Waiter {
  readonly revision: number;
  readonly resolve: () => void;
}

/** Tracks the applied revision and wakes the reads waiting for it. */
export class RevisionGate {
  #revision = 0;
  #waiters: Waiter[] = [];
  readonly #marginMs: number;
  readonly #defaultWaitMs: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;

  constructor(options: RevisionGateOptions = {}) {
    this.#marginMs = options.marginMs ?? 20;
    this.#defaultWaitMs = options.defaultWaitMs ?? 5_000;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** The revision applied last. */
  get revision(): number {
    return this.#revision;
  }

  /** Records that a revision has been applied (never goes backwards) and wakes whoever waited for it. */
  advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.revision <= revision) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /**
   * Resolves at once (returning undefined, so the hot path needs no await) when `min` is already
   * applied; otherwise returns a promise that resolves when it is, or rejects with
   * RevisionNotReachedError shortly before `deadline` (or after `maxWaitMs`, whichever comes first).
   */
  reach(min: number, deadline: number | undefined, signal?: AbortSignal): Promise<void> | undefined {
    if (min <= this.#revision) return undefined;
    const now = this.#now();
    const wait = deadline === undefined ? this.#defaultWaitMs : deadline - now;
    const budget = Math.min(wait, this.#maxWaitMs) - this.#marginMs;
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", fail);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      const fail = () => {
        settle();
        reject(
          new RevisionNotReachedError(
            `the sidecar has applied revision ${this.#revision}, not yet ${min}; retry, or check the sidecar's sync health`,
          ),
        );
      };
      const waiter: Waiter = {
        revision: min,
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
}
