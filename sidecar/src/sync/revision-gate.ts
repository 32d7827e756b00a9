/**
 * Lets reads wait for a store revision: a call with `min_revision` R proceeds once the sidecar
 * has applied R, and fails UNAVAILABLE shortly before its deadline if it has not — so a caller
 * never sees the world before its own write, and never hangs past its deadline.
 */

import { type DeadlineWaitOptions, DeadlineWaits } from "../deadline-waits.js";
import { DomainError } from "../domain-error.js";

/** Raised when a revision was not reached in time. */
export class RevisionNotReachedError extends DomainError {
  override readonly name = "RevisionNotReachedError";
  readonly code = "UNAVAILABLE";
}

/** Options of a RevisionGate. */
export type RevisionGateOptions = DeadlineWaitOptions;

/** Tracks the applied revision and wakes the reads waiting for it. */
export class RevisionGate {
  #revision = 0;
  readonly #waits: DeadlineWaits<number>;

  constructor(options: RevisionGateOptions = {}) {
    this.#waits = new DeadlineWaits(options);
  }

  /** The revision applied last. */
  get revision(): number {
    return this.#revision;
  }

  /** Records that a revision has been applied (never goes backwards) and wakes whoever waited for it. */
  advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    if (this.#waits.size > 0) this.#waits.wake((min) => min <= revision);
  }

  /**
   * Resolves at once (returning undefined, so the hot path needs no await) when `min` is already
   * applied; otherwise returns a promise that resolves when it is, or rejects with
   * RevisionNotReachedError shortly before `deadline` (or after `maxWaitMs`, whichever comes first).
   */
  reach(min: number, deadline: number | undefined, signal?: AbortSignal): Promise<void> | undefined {
    if (min <= this.#revision) return undefined;
    return this.#waits.wait(
      min,
      deadline,
      signal,
      () =>
        new RevisionNotReachedError(
          `the sidecar has applied revision ${this.#revision}, not yet ${min}; retry, or check the sidecar's sync health`,
        ),
    );
  }
}
