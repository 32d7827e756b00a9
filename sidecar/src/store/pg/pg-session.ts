/**
 * One pooled connection checked out for one top-level transaction of the PostgreSQL store, and
 * the caller's deadline that bounds every statement on it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type pg from "pg";
import type { PgQueryOptions } from "./pg-policy-store.js";
import { isPgConnectionError, isPgServerError, PgTimeoutError } from "./pg-store-error.js";

const deadlines = new AsyncLocalStorage<number>();

/** The deadline of the current async context (epoch ms), if any. */
export function currentDeadline(): number | undefined {
  return deadlines.getStore();
}

/**
 * Runs `fn` with a deadline (epoch ms, like `Date.now()`): every PostgreSQL store call inside it
 * fails `UNAVAILABLE` rather than run past it.
 */
export function withStoreDeadline<T>(deadline: number, fn: () => T): T {
  const outer = deadlines.getStore();
  return deadlines.run(outer === undefined ? deadline : Math.min(outer, deadline), fn);
}

const statementNames = new Map<string, string>();

/**
 * The name a prepared statement has on every connection: node-postgres prepares it on first use
 * per connection and refuses one name for two texts, so the name is the text's digest.
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `rolecall_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** One connection checked out for one top-level transaction. */
export class Session {
  /** The connection failed (or a statement timed out mid-flight): it must not be reused. */
  broken = false;
  private readonly onError = (): void => {
    this.broken = true;
  };

  constructor(
    readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {
    // A checked-out client has no listener of the pool's: without ours, a lost connection
    // would be an unhandled 'error' event.
    client.on("error", this.onError);
  }

  /** How long the next statement may take: the store's bound or what is left of the caller's deadline. */
  limit(cleanup = false): number {
    const deadline = cleanup ? undefined : deadlines.getStore();
    if (deadline === undefined) return this.timeoutMs;
    const left = deadline - Date.now();
    if (left <= 0) throw new PgTimeoutError("the caller's deadline passed");
    return Math.min(this.timeoutMs, left);
  }

  /** The statement last sent: the next waits for it (one connection runs one statement at a time). */
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs one statement (or several, without values); `cleanup` (ROLLBACK) ignores the caller's
   * deadline. Statements issued together (a `Promise.all` in one transaction) are sent one after
   * another, not handed to node-postgres while it is busy (which it deprecates).
   */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    cleanup = false,
    options?: PgQueryOptions,
  ): Promise<pg.QueryResult<R>> {
    const run = this.tail.then(() => this.send<R>(text, values, cleanup, options));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async send<R extends pg.QueryResultRow>(
    text: string,
    values: readonly unknown[] | undefined,
    cleanup: boolean,
    options: PgQueryOptions | undefined,
  ): Promise<pg.QueryResult<R>> {
    // query_timeout is read by node-postgres from the query config, though its types omit it.
    const config: pg.QueryConfig & { query_timeout: number } = {
      text,
      query_timeout: this.limit(cleanup),
      ...(values === undefined ? {} : { values: values as unknown[] }),
      ...(options?.prepared ? { name: statementName(text) } : {}),
    };
    try {
      return await this.client.query<R>(config);
    } catch (err) {
      if (!isPgServerError(err) || isPgConnectionError(err)) this.broken = true;
      throw err;
    }
  }

  release(): void {
    if (this.broken) {
      // Keep our listener: a late 'error' of the discarded client must not crash the process.
      this.client.release(true);
    } else {
      this.client.removeListener("error", this.onError);
      this.client.release();
    }
  }
}
