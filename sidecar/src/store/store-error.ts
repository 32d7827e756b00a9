/**
 * The store's one error class. Each carries a code the server maps to a gRPC/Connect code, and a
 * message a person can act on ("unknown role 'agnet' in tenant 'demo' (did you mean 'agent'?)").
 */

import { DomainError, type DomainErrorCode } from "../domain-error.js";

/** What went wrong, named after the gRPC code the server answers with. */
export type StoreErrorCode = DomainErrorCode;

/** An error raised by the store: bad input, a broken admin rule, or a database that cannot be used. */
export class StoreError extends DomainError {
  override readonly name = "StoreError";
  /** The code the server maps to a gRPC status. */
  readonly code: StoreErrorCode;
  /** The request field at fault (`role_id`, `seats`), when one is. */
  readonly field: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}
