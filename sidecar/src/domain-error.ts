/**
 * The one base class of errors the domain raises on purpose. Each carries a code named after the
 * gRPC status it becomes; server/errors.ts maps codes to statuses in one place, so no module
 * below the server knows about gRPC and no mapping depends on an error's class name.
 */

/** What went wrong, named after the gRPC code the server answers with. */
export type DomainErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "PERMISSION_DENIED"
  | "UNAVAILABLE";

/** An error whose message a caller can act on, with the code it maps to. */
export abstract class DomainError extends Error {
  /** The code the server maps to a gRPC status. */
  abstract readonly code: DomainErrorCode;
  /**
   * The message a remote caller sees; by default the error's own. An error meant for the log
   * (with internal detail) can answer callers more plainly.
   */
  get publicMessage(): string {
    return this.message;
  }
}
