/** A mistake in how a command was called: printed with a hint to use --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
