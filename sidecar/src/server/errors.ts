/**
 * The one place where errors become RPC status codes. Domain modules throw their own errors
 * (StoreError with a code, UnknownPermissionError, ...); handlers never pick codes for them.
 */
import { Code } from "@connectrpc/connect";
import { RpcError } from "./rpc.js";

const CODE_BY_NAME: Readonly<Record<string, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAUTHENTICATED: Code.Unauthenticated,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
};

/** Domain error classes that mean "no such thing". */
const NOT_FOUND_ERRORS = new Set(["UnknownPermissionError", "UnknownTenantError", "UnknownSurfaceError"]);

/** Turns anything a handler threw into an RpcError; unexpected errors become INTERNAL without leaking details. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && Object.hasOwn(CODE_BY_NAME, code)) {
      return new RpcError(CODE_BY_NAME[code]!, err.message);
    }
    // better-sqlite3 names SQLite's result codes: another writer held the lock past the busy timeout.
    if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) {
      return new RpcError(Code.Unavailable, "the policy store is locked by another writer; retry shortly");
    }
    if (NOT_FOUND_ERRORS.has(err.name)) return new RpcError(Code.NotFound, err.message);
    if (err.name === "NoSnapshotError") {
      return new RpcError(
        Code.Unavailable,
        "the sidecar has not loaded a policy snapshot yet; retry shortly",
      );
    }
  }
  return new RpcError(Code.Internal, "internal error; see the sidecar's log for details");
}

/** Whether an error is one the caller caused (logged at debug) rather than a fault (logged at error). */
export function isCallerError(err: RpcError): boolean {
  return err.code !== Code.Internal && err.code !== Code.Unknown && err.code !== Code.DataLoss;
}
