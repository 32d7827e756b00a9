/**
 * How a failure of node-postgres becomes a StoreError, in one function: a primary that cannot be
 * reached, is shutting down or does not answer in time is `UNAVAILABLE` (the caller may retry);
 * a constraint the rules should have caught is the matching domain code; anything else (a bug in
 * our SQL) passes through untouched, as it does on SQLite.
 */
import pg from "pg";
import { StoreError, type StoreErrorCode } from "../store-error.js";

/** Raised by the store itself when a caller's deadline or the store's timeout runs out. */
export class PgTimeoutError extends Error {
  override readonly name = "PgTimeoutError";
}

/** Node socket errors that mean "no PostgreSQL at that address right now". */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENOENT", // a unix socket that is not there
]);

/** node-postgres reports a lost or timed-out connection with a plain Error and one of these messages. */
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Connection ended/i;

/** Whether `err` came from the server (an SQLSTATE), as opposed to the connection. */
export function isPgServerError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError && typeof err.code === "string" && err.code.length === 5;
}

/** Whether `err` means the connection (not one statement) failed: the client must be discarded. */
export function isPgConnectionError(err: unknown): boolean {
  if (err instanceof PgTimeoutError) return true;
  if (isPgServerError(err)) return err.code!.startsWith("08") || err.code!.startsWith("57P");
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (typeof code === "string" && SOCKET_CODES.has(code)) || CONNECTION_MESSAGES.test(err.message);
}

/** Where the failure happened, for the message. */
export interface PgErrorContext {
  /** `host:port` of the primary (never the URL: it may hold a password). */
  readonly address: string;
  /** The write was committing when the connection failed: it may have landed. */
  readonly committing?: boolean;
}

function unavailable(message: string, cause: unknown): StoreError {
  return new StoreError("UNAVAILABLE", message, { cause });
}

/** SQLSTATE → code and message, for the server's refusals we expect and can name. */
function fromSqlState(err: pg.DatabaseError, address: string): StoreError | undefined {
  const code = err.code!;
  const coded = (c: StoreErrorCode, message: string): StoreError =>
    new StoreError(c, message, { cause: err });
  switch (code) {
    case "57014":
      return coded(
        "UNAVAILABLE",
        `the PostgreSQL primary at ${address} cancelled a statement that ran past its timeout (another writer may hold the write lock): ${err.message}`,
      );
    case "55P03":
    case "40001":
    case "40P01":
      return coded(
        "UNAVAILABLE",
        `the policy store is busy with another writer; retry shortly (${err.message})`,
      );
    case "25006":
      return coded(
        "FAILED_PRECONDITION",
        `the PostgreSQL server at ${address} is read-only (a standby?); writes need the primary: ${err.message}`,
      );
    case "23505":
      return coded("ALREADY_EXISTS", `already exists: ${err.detail ?? err.message}`);
    case "23503":
      return coded(
        "FAILED_PRECONDITION",
        `still referenced, or refers to nothing: ${err.detail ?? err.message}`,
      );
    case "23502":
    case "23514":
    case "22003":
      return coded("INVALID_ARGUMENT", `refused by the database: ${err.message}`);
    case "42501":
      // PostgreSQL 15 lets only the owner create tables in `public`: the usual first-run surprise.
      return coded(
        "FAILED_PRECONDITION",
        `the PostgreSQL role lacks a privilege rolecall needs (make it the database's owner): ${err.message}`,
      );
    case "3D000":
      return coded("UNAVAILABLE", `the PostgreSQL server at ${address} has no such database: ${err.message}`);
  }
  if (code.startsWith("28")) {
    return coded("UNAVAILABLE", `the PostgreSQL primary at ${address} refused the login: ${err.message}`);
  }
  if (code.startsWith("08") || code.startsWith("57P") || code.startsWith("53")) {
    return coded("UNAVAILABLE", `the PostgreSQL primary at ${address} is unreachable: ${err.message}`);
  }
  return undefined;
}

/** Maps any failure of a PostgreSQL call to a StoreError when it is one a caller can act on; else returns it. */
export function storeErrorFromPg(err: unknown, context: PgErrorContext): unknown {
  if (err instanceof StoreError) return err;
  const { address } = context;
  if (context.committing === true && isPgConnectionError(err)) {
    return unavailable(
      `lost the PostgreSQL primary at ${address} while committing; the write may or may not have landed: read the revision before retrying (${(err as Error).message})`,
      err,
    );
  }
  if (isPgServerError(err)) return fromSqlState(err, address) ?? err;
  if (isPgConnectionError(err)) {
    return unavailable(`the PostgreSQL primary at ${address} is unreachable: ${(err as Error).message}`, err);
  }
  return err;
}
