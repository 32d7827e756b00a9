/**
 * The optional decision log: a sample of decisions written asynchronously, in batches, through a
 * bounded queue. A check only pushes to an array; when the queue is full the entry is dropped
 * and counted, so logging can never slow or block a decision.
 */

/** One logged decision. */
export interface DecisionRecord {
  readonly tenantId: string;
  readonly userId: string;
  readonly permission: string;
  readonly allowed: boolean;
  readonly reason: string;
  readonly revision: number;
}

/** Options of DecisionLog. */
export interface DecisionLogOptions {
  /** Fraction of decisions kept, 0..1. */
  readonly sampleRate: number;
  /** Writes a batch (off the check's path). */
  readonly write: (batch: readonly DecisionRecord[]) => void;
  /** Entries waiting to be written before new ones are dropped. Default 10,000. */
  readonly maxQueued?: number;
  /** Called for every dropped entry. */
  readonly onDrop?: () => void;
  /** Random source, injectable for tests. Default `Math.random`. */
  readonly random?: () => number;
}

/** A sampled, bounded, asynchronous decision log. */
export class DecisionLog {
  readonly #o: Required<Omit<DecisionLogOptions, "onDrop">> & Pick<DecisionLogOptions, "onDrop">;
  #queue: DecisionRecord[] = [];
  #scheduled = false;

  constructor(options: DecisionLogOptions) {
    if (!(options.sampleRate >= 0 && options.sampleRate <= 1)) {
      throw new TypeError(`sampleRate must be between 0 and 1, got ${options.sampleRate}`);
    }
    const maxQueued = options.maxQueued ?? 10_000;
    if (!Number.isInteger(maxQueued) || maxQueued <= 0)
      throw new TypeError("maxQueued must be a positive integer");
    this.#o = { random: Math.random, ...options, maxQueued };
  }

  /** Whether anything is logged at all (rate > 0), so callers can skip building records. */
  get enabled(): boolean {
    return this.#o.sampleRate > 0;
  }

  /** Offers a decision; kept with probability sampleRate, dropped when the queue is full. */
  record(entry: DecisionRecord): void {
    if (this.#o.sampleRate < 1 && this.#o.random() >= this.#o.sampleRate) return;
    if (this.#queue.length >= this.#o.maxQueued) {
      this.#o.onDrop?.();
      return;
    }
    this.#queue.push(entry);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#o.write(batch);
  }
}
