/**
 * Fans applied revisions out to WatchPolicy streams. Each subscriber has a bounded queue: a
 * watcher that stops reading loses old entries, never the newest, and never grows memory.
 */

/** One applied revision. */
export interface RevisionEvent {
  readonly revision: number;
  /** Tenants it changed; empty means all (a full reload or a catalog change). */
  readonly tenantIds: readonly string[];
}

interface Subscriber {
  readonly queue: RevisionEvent[];
  wake: (() => void) | undefined;
}

/** Publishes revision events to any number of async-iterable subscriptions. */
export class RevisionFeed {
  readonly #subscribers = new Set<Subscriber>();
  readonly #maxQueued: number;

  /** @param maxQueued events kept per slow subscriber before the oldest is dropped (default 256) */
  constructor(maxQueued = 256) {
    if (!Number.isInteger(maxQueued) || maxQueued <= 0)
      throw new TypeError("maxQueued must be a positive integer");
    this.#maxQueued = maxQueued;
  }

  /** How many streams are subscribed. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Delivers an event to every subscriber. */
  publish(event: RevisionEvent): void {
    for (const s of this.#subscribers) {
      s.queue.push(event);
      if (s.queue.length > this.#maxQueued) s.queue.shift();
      s.wake?.();
    }
  }

  /**
   * Streams events published from now on until `signal` aborts. The subscription starts at this
   * call, not at the first read, so a caller can read the current revision afterwards and miss nothing.
   */
  subscribe(signal: AbortSignal): AsyncGenerator<RevisionEvent> {
    const sub: Subscriber = { queue: [], wake: undefined };
    const subscribers = this.#subscribers;
    subscribers.add(sub);
    const onAbort = () => {
      subscribers.delete(sub);
      sub.wake?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    return (async function* () {
      try {
        while (!signal.aborted) {
          const next = sub.queue.shift();
          if (next) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            sub.wake = resolve;
          });
          sub.wake = undefined;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        subscribers.delete(sub);
      }
    })();
  }
}
