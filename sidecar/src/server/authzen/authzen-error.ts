/**
 * AuthZEN errors are HTTP statuses with a message (the spec's error table: 400, 401, 403, 500),
 * never decisions. The rest of the sidecar throws RpcErrors and DomainErrors; they are mapped here
 * once, so an AuthZEN caller and a Connect caller are refused for the same reasons.
 */
import { Code } from "@connectrpc/connect";
import { toRpcError } from "../errors.js";
import { RpcError } from "../rpc.js";

/** An error answered with an HTTP status and a message a person can act on. */
export class AuthzenError extends Error {
  override readonly name = "AuthzenError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_BY_CODE: ReadonlyMap<Code, number> = new Map([
  [Code.InvalidArgument, 400],
  [Code.FailedPrecondition, 400],
  [Code.OutOfRange, 400],
  [Code.NotFound, 404],
  [Code.AlreadyExists, 409],
  [Code.Unauthenticated, 401],
  [Code.PermissionDenied, 403],
  [Code.ResourceExhausted, 413],
  [Code.Unavailable, 503],
  [Code.DeadlineExceeded, 503],
]);

const CODE_BY_STATUS: ReadonlyMap<number, Code> = new Map([
  [400, Code.InvalidArgument],
  [401, Code.Unauthenticated],
  [403, Code.PermissionDenied],
  [404, Code.NotFound],
  [405, Code.Unimplemented],
  [413, Code.ResourceExhausted],
  [415, Code.InvalidArgument],
  [503, Code.Unavailable],
]);

/** Anything a handler threw, as an HTTP status and message, plus the RpcError metrics count it as. */
export function toAuthzenError(err: unknown): { readonly error: AuthzenError; readonly rpc: RpcError } {
  if (err instanceof AuthzenError) {
    return { error: err, rpc: new RpcError(CODE_BY_STATUS.get(err.status) ?? Code.Internal, err.message) };
  }
  const rpc = toRpcError(err);
  return { error: new AuthzenError(STATUS_BY_CODE.get(rpc.code) ?? 500, rpc.message), rpc };
}
