/**
 * `rolecall check` and `rolecall effective`: decisions straight from the store (the file, or with
 * `--primary` the fleet's primary as it is now), by the same engine the sidecar runs.
 */
import { parseArgs } from "node:util";
import { openCliStore, STORE_FLAGS, STORE_FLAGS_HELP, storeTargetOf } from "./cli-store.js";
import { AT_FLAGS, AT_FLAGS_HELP, engineAt } from "./history.js";
import { EXIT_DENIED, print } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall check`. */
export const CHECK_HELP = `Usage: rolecall check TENANT USER PERMISSION [options]

Decides one permission for one user from the store as it is now (with --primary, from the
primary's current policy; a follower's copy is read with a note saying so), or with --at as
it stood at a past revision or time ("could dave export last Tuesday?").
Exit code: 0 allowed, 3 denied, 1 error, 2 misuse.

Options:
  --explain         print the steps and a one-line summary for a ticket
  --target USER     the other user, for a mutual permission
${AT_FLAGS_HELP}
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

/** Help of `rolecall effective`. */
export const EFFECTIVE_HELP = `Usage: rolecall effective TENANT USER [options]

Lists every permission of the tenant's systems with the user's decision.

Options:
  --system ID       only this system's permissions
  --denied          only the permissions the user does not have
${AT_FLAGS_HELP}
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

/** Runs `rolecall check`. */
export async function checkCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      explain: { type: "boolean" },
      target: { type: "string" },
      ...AT_FLAGS,
      ...STORE_FLAGS,
      json: { type: "boolean" },
    },
  });
  const [tenant, user, permission, ...extra] = positionals;
  if (!tenant || !user || !permission || extra.length > 0)
    throw new UsageError("expected TENANT USER PERMISSION");
  const store = await openCliStore(storeTargetOf(values), "read");
  try {
    const engine = await engineAt(store, tenant, values);
    const request = { permission, ...(values.target ? { targetUserId: values.target } : {}) };
    if (values.explain) {
      const e = engine.explain(tenant, user, request);
      print(
        values.json ?? false,
        e,
        () =>
          `${e.decision.allowed ? "ALLOWED" : "DENIED"} (${e.decision.reason}) at revision ${e.decision.revision}\n${e.summary}`,
      );
      return e.decision.allowed ? 0 : EXIT_DENIED;
    }
    const d = engine.check(tenant, user, request);
    print(values.json ?? false, d, () => {
      const missing = d.missing.length > 0 ? `; missing: ${d.missing.join(", ")}` : "";
      return `${d.allowed ? "ALLOWED" : "DENIED"} (${d.reason}${missing}) at revision ${d.revision}`;
    });
    return d.allowed ? 0 : EXIT_DENIED;
  } finally {
    await store.close();
  }
}

/** Runs `rolecall effective`. */
export async function effectiveCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      system: { type: "string" },
      denied: { type: "boolean" },
      ...AT_FLAGS,
      ...STORE_FLAGS,
      json: { type: "boolean" },
    },
  });
  const [tenant, user, ...extra] = positionals;
  if (!tenant || !user || extra.length > 0) throw new UsageError("expected TENANT USER");
  const store = await openCliStore(storeTargetOf(values), "read");
  try {
    const engine = await engineAt(store, tenant, values);
    const rows = engine
      .listEffective(tenant, user, values.system)
      .filter((row) => !values.denied || !row.allowed);
    print(values.json ?? false, rows, () =>
      rows
        .map((row) => {
          const why = row.allowed
            ? `via ${row.grantedByRoleIds.join(", ")}`
            : `${row.reason}${row.missing.length > 0 ? ` (missing ${row.missing.join(", ")})` : ""}`;
          return `${row.allowed ? "+" : "-"} ${row.permission}  ${why}`;
        })
        .join("\n"),
    );
    return 0;
  } finally {
    await store.close();
  }
}
