/**
 * The one place where errors become RPC status codes. Domain modules throw DomainErrors carrying
 * a code (StoreError, UnknownPermissionError, NoSnapshotError, ...); handlers never pick codes
 * for them, and nothing here depends on an error's class name.
 */
import { Code } from "@connectrpc/connect";
import { DomainError, type DomainErrorCode } from "../domain-error.js";
import { isStoreLockError } from "../store/sqlite-policy-store.js";
import { RpcError } from "./rpc.js";

const CODES: Readonly<Record<DomainErrorCode, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAVAILABLE: Code.Unavailable,
};

/** Turns anything a handler threw into an RpcError; unexpected errors become INTERNAL without leaking details. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof DomainError) return new RpcError(CODES[err.code], err.publicMessage);
  // A write outside the store's transactions (tokens, catalog import) met another writer's lock.
  if (isStoreLockError(err)) {
    return new RpcError(Code.Unavailable, "the policy store is locked by another writer; retry shortly");
  }
  return new RpcError(Code.Internal, "internal error; see the sidecar's log for details");
}

/** Whether an error is one the caller caused (logged at debug) rather than a fault (logged at error). */
export function isCallerError(err: RpcError): boolean {
  return err.code !== Code.Internal && err.code !== Code.Unknown && err.code !== Code.DataLoss;
}
