/**
 * `rolecall review TENANT`: the access review as CSV or JSON — one row per user × role held and
 * per user × allowed permission with its roles and licenses — streamed to stdout or a file. The
 * file appears whole or not at all: rows go to a temporary file renamed into place at the end.
 */
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { prepareReview } from "../policy/review-rows.js";
import { isReviewFormat, REVIEW_FORMATS, writeReview } from "../review/review-stream.js";
import { openCliStore, STORE_FLAGS, STORE_FLAGS_HELP, snapshotOf, storeTargetOf } from "./cli-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall review`. */
export const REVIEW_HELP = `Usage: rolecall review TENANT [options]

The tenant's access review: one row per user and role held, and one per user and allowed
permission with the roles that grant it and the licenses that license it. Users in id order;
inactive users are listed with their roles only. Decided on one revision of the policy.

Columns: tenant, user_id, user_name, active, kind (role | permission), system, permission,
role_ids, role_names, licenses (several values in a cell are separated by '; ').

Options:
  --system ID       only this system's permissions (and the roles granting some of them)
  --format F        csv (default) or json: {"tenant", "revision", "system", "rows": [...]}
  --out FILE        write FILE (replaced only once complete) instead of stdout
${STORE_FLAGS_HELP}

The same over HTTP: GET /v1/tenants/TENANT/review?format=csv&system=ID on the sidecar's HTTP
listener, with a token of an owner or a holder of the 'read-decisions' right.
`;

/** Runs `rolecall review`. */
export async function reviewCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      system: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      ...STORE_FLAGS,
    },
  });
  const [tenantId, ...extra] = positionals;
  if (!tenantId || extra.length > 0) throw new UsageError("expected one TENANT");
  const format = values.format ?? "csv";
  if (!isReviewFormat(format)) {
    throw new UsageError(`--format must be one of ${REVIEW_FORMATS.join(", ")}, not '${format}'`);
  }
  const store = await openCliStore(storeTargetOf(values), "read");
  let review: ReturnType<typeof prepareReview>;
  try {
    review = prepareReview(await snapshotOf(store, tenantId), { tenantId, system: values.system });
  } finally {
    // The snapshot holds all the review needs: the store is not kept open while rows are written.
    await store.close();
  }
  if (values.out === undefined) {
    try {
      await writeReview(review, format, process.stdout, { end: false });
    } catch (err) {
      // The reader stopped early (`| head`): that is not a failure of the export.
      if ((err as { code?: string }).code !== "EPIPE") throw err;
    }
    return 0;
  }
  const target = values.out;
  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  try {
    const rows = await writeReview(review, format, createWriteStream(partial, { flags: "wx" }));
    renameSync(partial, target);
    process.stderr.write(
      `${rows} row(s) of tenant '${review.tenantId}' at revision ${review.revision} → ${target}\n`,
    );
    return 0;
  } catch (err) {
    rmSync(partial, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    // Name the file asked for, not the temporary one beside it.
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR")
      throw new Error(`cannot write '${target}' (${code})`);
    throw err;
  }
}
