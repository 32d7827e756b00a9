/**
 * Calls that wait for something the sidecar has not got yet (a revision, a tenant still loading),
 * each until it arrives or shortly before the caller's deadline — never past it, never past the
 * sidecar's maximum wait — so an answer always arrives in time, as a result or as a refusal.
 */

/** Options of DeadlineWaits. */
export interface DeadlineWaitOptions {
  /** How long before the caller's deadline to give up, so the answer arrives in time. Default 20 ms. */
  readonly marginMs?: number;
  /** Longest wait when the caller set no deadline. Default 5,000 ms. */
  readonly defaultWaitMs?: number;
  /** Longest wait whatever the caller's deadline (the sidecar's maximum deadline). Default 30,000 ms. */
  readonly maxWaitMs?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

interface Waiter<K> {
  readonly key: K;
  readonly resolve: () => void;
}

/** The pending waits, each for a key (what it waits for). */
export class DeadlineWaits<K> {
  #waiters: Waiter<K>[] = [];
  readonly #marginMs: number;
  readonly #defaultWaitMs: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;

  constructor(options: DeadlineWaitOptions = {}) {
    this.#marginMs = options.marginMs ?? 20;
    this.#defaultWaitMs = options.defaultWaitMs ?? 5_000;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** How many calls are waiting. */
  get size(): number {
    return this.#waiters.length;
  }

  /**
   * A promise that `wake` resolves once it accepts `key`, or that rejects with `timedOut()`
   * shortly before `deadline` (epoch ms), after the longest wait, or when `signal` aborts.
   */
  wait(
    key: K,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
    timedOut: () => Error,
  ): Promise<void> {
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
        reject(timedOut());
      };
      const waiter: Waiter<K> = {
        key,
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

  /** Resolves every wait whose key `arrived` accepts. */
  wake(arrived: (key: K) => boolean): void {
    for (const w of [...this.#waiters]) if (arrived(w.key)) w.resolve();
  }
}
