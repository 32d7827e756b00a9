/** The vitest hook of the PostgreSQL test server: one server per test file. */
import { afterAll, beforeAll } from "vitest";
import { type PostgresOptions, type PostgresServer, startPostgres } from "./postgres.js";

/**
 * Starts one server for the calling test file (in `beforeAll`) and destroys it after the file
 * (`afterAll`). Returns a getter, since the server exists only once the hook ran.
 */
export function usePostgres(options: PostgresOptions = {}): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres(options);
  });
  afterAll(async () => {
    await server?.destroy();
  });
  return () => {
    if (server === undefined) throw new Error("usePostgres(): the server starts in beforeAll");
    return server;
  };
}
