/** `rolecall copy-store FROM TO`: a whole store into an empty one, SQLite or PostgreSQL on either side. */
import { parseArgs } from "node:util";
import { copyStore, describeLocation, storeLocationOf } from "../fleet/copy-store.js";
import { copyNote, print, readCopyMarker } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall copy-store`. */
export const COPY_STORE_HELP = `Usage: rolecall copy-store FROM TO [--json]

Copies a whole store into an empty one, so a team moves from one host's SQLite file to a
fleet's PostgreSQL primary (or back) without losing history. FROM and TO are each a SQLite
path or a postgresql://user@host:port/database URL.

Everything is copied as it is: revision, database id, catalog, tenants, users, roles, grants,
licenses, owners, apps, the audit log (event ids kept), the change log and API tokens. FROM is
read in one consistent read and never changed; TO is written in one transaction, so a failure
leaves it as empty as it was. TO must be empty: a new file, or a new PostgreSQL database
(created with CREATE DATABASE, owned by the role in the URL); one that holds a store is refused.

Then start the fleet on the copy: rolecall serve --primary URL --db <this host's copy>.

Options:
  --json            machine-readable output
`;

/** Runs `rolecall copy-store`. */
export async function copyStoreCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { json: { type: "boolean" } },
  });
  const [fromText, toText, ...extra] = positionals;
  if (fromText === undefined || toText === undefined || extra.length > 0) {
    throw new UsageError("expected FROM TO (each a SQLite path or a postgresql:// URL)");
  }
  const from = storeLocationOf(fromText);
  const to = storeLocationOf(toText);
  if (from.kind === "sqlite") {
    const marker = readCopyMarker(from.path);
    if (marker !== undefined) process.stderr.write(copyNote(from.path, marker));
  }
  const result = await copyStore(from, to);
  print(values.json ?? false, result, () =>
    [
      `copied ${describeLocation(from)} to ${describeLocation(to)}: revision ${result.revision} (database id ${result.databaseId})`,
      `  ${result.tenants} tenant(s), ${result.auditEvents} audit event(s), ${result.tokens} API token(s); ${result.rows} rows in all`,
    ].join("\n"),
  );
  return 0;
}
