/**
 * The PolicyStore over PostgreSQL (node-postgres pool), so the one implementation of the admin
 * rules runs unchanged against the store of record of a fleet.
 *
 * - `write()` is one transaction on one pooled connection: `BEGIN` (READ COMMITTED), then
 *   `SELECT … FROM meta WHERE id = 1 FOR UPDATE` as its first statement. Every writer locks that
 *   one row first, so writes serialise across every sidecar and CLI, and — READ COMMITTED taking
 *   a fresh snapshot per statement — each check after the lock sees everything committed before
 *   it, which is what it commits on (the SQLite store gets the same from `BEGIN IMMEDIATE`).
 * - `commit()` bumps the revision, appends the change-log and audit rows and calls
 *   `pg_notify('rolecall_changes', '<revision>')` in the same statement: PostgreSQL delivers the
 *   notification only once the transaction commits, and never for one rolled back.
 * - A write or read inside a write joins it through a SAVEPOINT (AsyncLocalStorage carries the
 *   connection), so the inner one's failure undoes only its own rows.
 * - `read()` is a REPEATABLE READ, READ ONLY transaction: one snapshot, one revision.
 * - Nothing hangs: connecting and every statement are bounded by `timeoutMs` (default 5 s) or
 *   the caller's deadline (`withStoreDeadline`), whichever comes first; a primary that is down
 *   or silent becomes `StoreError("UNAVAILABLE", "the PostgreSQL primary at host:port is
 *   unreachable: …")`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import type { PolicyStore, PolicyStoreReads, PolicyStoreTx } from "../policy-store.js";
import { StoreError } from "../store-error.js";
import { migratePg, type PgMigrateOptions } from "./pg-schema.js";
import { currentDeadline, Session } from "./pg-session.js";
import { PgTimeoutError, storeErrorFromPg } from "./pg-store-error.js";
import { PgTx } from "./pg-tx.js";

export { withStoreDeadline } from "./pg-session.js";
export { CHANGES_CHANNEL } from "./pg-tx.js";

/** Options of `PgPolicyStore` and `openPgStore`. */
export interface PgPolicyStoreOptions {
  /**
   * Bound on connecting and on each statement, in ms; a caller's deadline (`withStoreDeadline`)
   * may cut it shorter. Default `5000`.
   */
  readonly timeoutMs?: number;
  /** Most pooled connections (besides a follower's own listening one). Default `4`. */
  readonly maxConnections?: number;
  /**
   * How long the server keeps a transaction whose client went silent (a partitioned writer
   * holding the write lock) before ending it, in ms. Default `60000`.
   */
  readonly idleInTransactionTimeoutMs?: number;
  /** Shown in `pg_stat_activity`. Default `"rolecall"`. */
  readonly applicationName?: string;
}

/** Options of `openPgStore`. */
export interface OpenPgStoreOptions extends PgPolicyStoreOptions {
  /** Returns the current time, recorded with applied migrations. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** The migration steps (tests pass their own). Default `PG_MIGRATIONS`. */
  readonly migrations?: PgMigrateOptions["migrations"];
}

const DEFAULTS = Object.freeze({
  timeoutMs: 5000,
  maxConnections: 4,
  idleInTransactionTimeoutMs: 60_000,
  applicationName: "rolecall",
});

/** `host:port` of a PostgreSQL URL, for messages (the URL itself may carry a password). */
export function pgAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get("host") ?? (parsed.hostname || "localhost");
    return `${host}:${parsed.port || parsed.searchParams.get("port") || "5432"}`;
  } catch {
    return "(unparsable URL)";
  }
}

/** BIGINT (revisions, ids, counts) as a number: they stay far below 2^53. */
function parseInt8(text: string): number {
  return Number(text);
}

/** What the current async context's transaction runs on. */
interface TxScope {
  readonly session: Session;
  readonly tx: PgTx;
  readonly depth: number;
  readonly readOnly: boolean;
}

/**
 * A statement on the current transaction's connection, bounded like every other. `prepared`:
 * the statement is parsed and planned once per connection and then only executed — for a
 * statement of fixed text run again and again (the follower's reads).
 */
export type PgQuery = <R extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values?: readonly unknown[],
  options?: PgQueryOptions,
) => Promise<pg.QueryResult<R>>;

/** Options of one `PgQuery` statement. */
export interface PgQueryOptions {
  readonly prepared?: boolean;
}

/** A PolicyStore over a PostgreSQL pool it owns (`close()` ends it). */
export class PgPolicyStore implements PolicyStore {
  /** `host:port` of the primary, for messages. */
  readonly address: string;
  private readonly timeoutMs: number;
  private readonly scope = new AsyncLocalStorage<TxScope>();
  /** Top-level transactions begun and not yet settled. */
  private open = 0;

  constructor(
    readonly pool: pg.Pool,
    options: { readonly address: string; readonly timeoutMs?: number },
  ) {
    this.address = options.address;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  }

  write<T>(body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    return this.transaction(false, body);
  }

  read<T>(body: (tx: PolicyStoreReads) => Promise<T>): Promise<T> {
    return this.transaction(true, body);
  }

  /**
   * Runs `body` with raw SQL in a write transaction (joining the current one), for what the
   * PolicyStore interface does not cover: catalog import, tokens, copying a store.
   */
  writeSql<T>(body: (query: PgQuery) => Promise<T>): Promise<T> {
    return this.write(() => body(this.currentQuery()));
  }

  /** Runs `body` with raw SQL in one consistent read (joining the current transaction). */
  readSql<T>(body: (query: PgQuery) => Promise<T>): Promise<T> {
    return this.read(() => body(this.currentQuery()));
  }

  /**
   * Runs `body` with raw SQL on one pooled connection outside any transaction: each statement
   * sees its own snapshot, and the caller makes sure one statement reads what must agree (the
   * follower checks the revision it read). Saves `BEGIN` and `COMMIT`, two round trips, on reads
   * that are usually a single statement.
   */
  async statementsSql<T>(body: (query: PgQuery) => Promise<T>): Promise<T> {
    if (this.scope.getStore() !== undefined) return body(this.currentQuery());
    const session = await this.connect();
    try {
      return await body((text, values, options) => session.query(text, values, false, options));
    } catch (err) {
      throw storeErrorFromPg(err, { address: this.address });
    } finally {
      session.release();
    }
  }

  private currentQuery(): PgQuery {
    const session = this.scope.getStore()!.session;
    return (text, values, options) => session.query(text, values, false, options);
  }

  /** Ends the pool (waits for checked-out connections to come back). */
  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(readOnly: boolean, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const outer = this.scope.getStore();
    if (outer !== undefined) {
      if (outer.readOnly && !readOnly) {
        throw new Error("PgPolicyStore: write() inside read(); start the write first and read inside it");
      }
      return this.nested(outer, body);
    }
    this.open++;
    try {
      return await this.topLevel(readOnly, body);
    } finally {
      // With no transaction left the AsyncLocalStorage is disabled again: while enabled, Node 20
      // runs its async hooks on every promise and socket callback of the process (every check
      // included), for a store that is idle between writes. The next `run` enables it again.
      if (--this.open === 0) this.scope.disable();
    }
  }

  private async topLevel<T>(readOnly: boolean, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const session = await this.connect();
    let committing = false;
    try {
      if (readOnly) await session.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      else {
        // The write lock, taken first: writers queue here, and every later statement (READ
        // COMMITTED) sees all that the writer before committed.
        const [, locked] = (await session.query(
          "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; SELECT revision FROM meta WHERE id = 1 FOR UPDATE",
        )) as unknown as [pg.QueryResult, pg.QueryResult];
        if (locked.rowCount !== 1) {
          throw new StoreError("FAILED_PRECONDITION", "the policy database has no meta row; it is damaged");
        }
      }
      const tx = new PgTx(session);
      const out = await this.scope.run({ session, tx, depth: 1, readOnly }, () => body(tx));
      committing = true;
      const done = await session.query("COMMIT");
      // COMMIT of a transaction a failed statement aborted answers ROLLBACK rather than failing.
      if (done.command !== "COMMIT") {
        throw new Error(
          "PgPolicyStore: the transaction was aborted by an earlier error; nothing was committed",
        );
      }
      return out;
    } catch (err) {
      if (!session.broken) {
        await session.query("ROLLBACK", undefined, true).catch(() => {
          session.broken = true;
        });
      }
      throw storeErrorFromPg(err, { address: this.address, committing });
    } finally {
      session.release();
    }
  }

  /** A transaction inside a transaction: a savepoint, so the inner one's failure undoes just its own rows. */
  private async nested<T>(outer: TxScope, body: (tx: PolicyStoreTx) => Promise<T>): Promise<T> {
    const name = `rolecall_${outer.depth}`;
    const { session } = outer;
    try {
      await session.query(`SAVEPOINT ${name}`);
    } catch (err) {
      throw storeErrorFromPg(err, { address: this.address });
    }
    try {
      const out = await this.scope.run({ ...outer, depth: outer.depth + 1 }, () => body(outer.tx));
      await session.query(`RELEASE SAVEPOINT ${name}`);
      return out;
    } catch (err) {
      if (!session.broken) {
        await session
          .query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`, undefined, true)
          .catch(() => {
            session.broken = true;
          });
      }
      throw storeErrorFromPg(err, { address: this.address });
    }
  }

  /** A pooled connection within the store's bound or the caller's deadline. */
  private async connect(): Promise<Session> {
    const deadline = currentDeadline();
    const limit = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - Date.now());
    const pending = this.pool.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (limit <= 0) throw new PgTimeoutError("the caller's deadline passed before connecting");
      const client = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PgTimeoutError(`no connection within ${Math.round(limit)} ms`)),
            limit,
          );
        }),
      ]);
      return new Session(client, this.timeoutMs);
    } catch (err) {
      // A connection that arrives after we gave up goes straight back to the pool.
      pending.then(
        (client) => client.release(),
        () => undefined,
      );
      throw storeErrorFromPg(err, { address: this.address });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The pool a store uses: bounded waits everywhere, BIGINT as numbers. */
export function createPgPool(url: string, options: PgPolicyStoreOptions = {}): pg.Pool {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  }
  const max = options.maxConnections ?? DEFAULTS.maxConnections;
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError(`maxConnections must be a positive integer, got ${max}`);
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, parseInt8);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    connectionTimeoutMillis: timeoutMs,
    // The server's own bound, so a statement does not outlive a client that gave up on it.
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout:
      options.idleInTransactionTimeoutMs ?? DEFAULTS.idleInTransactionTimeoutMs,
    application_name: options.applicationName ?? DEFAULTS.applicationName,
    keepAlive: true,
  });
  // An idle connection the server dropped (restart, failover) is removed by the pool; the next
  // transaction opens a new one. Without a listener the event would crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * Opens the PostgreSQL store at `url`: migrates it to the current schema (under an advisory
 * lock), then returns the store, whose `close()` ends its pool.
 */
export async function openPgStore(url: string, options: OpenPgStoreOptions = {}): Promise<PgPolicyStore> {
  const pool = createPgPool(url, options);
  const address = pgAddress(url);
  const store = new PgPolicyStore(pool, {
    address,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  try {
    const client = await pool.connect();
    const onError = (): void => undefined; // reported by the failing query instead
    client.on("error", onError);
    try {
      await migratePg(client, {
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
      });
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw storeErrorFromPg(err, { address });
  }
  return store;
}
