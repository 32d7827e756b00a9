/**
 * `rolecall history` (when did a user's access change?) and the `--at REVISION|TIME` of the
 * reads: the store's audit log walked back (history/), on the file or a fleet's primary.
 */
import { parseArgs } from "node:util";
import { DEFAULT_HISTORY_DAYS, type PastAsk } from "../history/history-bounds.js";
import { PastSnapshots } from "../history/past-snapshots.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import {
  type CliStore,
  engineOf,
  openCliStore,
  STORE_FLAGS,
  STORE_FLAGS_HELP,
  storeTargetOf,
} from "./cli-store.js";
import { print } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** `parseArgs` options of `--at` and `--history-days`. */
export const AT_FLAGS = {
  at: { type: "string" },
  "history-days": { type: "string" },
} as const;

/** Help lines of `--at` and `--history-days`. */
export const AT_FLAGS_HELP = `  --at REV|TIME     decide as the store stood at a revision (a number) or a time
                    (RFC 3339, e.g. 2026-11-24T17:00:00Z, or a date)
  --history-days N  days of history kept (default ${DEFAULT_HISTORY_DAYS}, as the sidecar's option)`;

/** Help of `rolecall history`. */
export const HISTORY_HELP = `Usage: rolecall history TENANT USER [options]

Lists the revisions at which the user's access changed, newest first: when, who, which admin
operation, and the permissions gained and lost. Read from the store's audit log (kept for
--history-days); only the writes that touched the user, their roles or the tenant's licenses
are decided.

Options:
  --permission KEY  only changes of this permission (qualified key, e.g. cxengage/CONTACTS_UPDATE)
  --limit N         at most N changes (default 50)
  --history-days N  days of history kept (default ${DEFAULT_HISTORY_DAYS}, as the sidecar's option)
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} needs a whole number above 0, got '${text}'`);
  }
  return Number(text);
}

/** The past a `--at` value names: digits are a revision, anything else a time. */
export function pastAskOf(at: string): PastAsk {
  return /^\d+$/.test(at.trim()) ? { atRevision: wholeNumber(at.trim(), "--at") } : { atTime: at };
}

function pastSnapshotsOf(store: CliStore, historyDays: string | undefined): PastSnapshots {
  return new PastSnapshots({
    store: store.admin.context.store,
    catalog: store.catalog,
    historyDays:
      historyDays === undefined ? DEFAULT_HISTORY_DAYS : wholeNumber(historyDays, "--history-days"),
  });
}

/** An engine on the store now, or — with `--at` — as it stood then (one tenant). */
export async function engineAt(
  store: CliStore,
  tenantId: string,
  values: { readonly at?: string | undefined; readonly "history-days"?: string | undefined },
): Promise<PolicyEngine> {
  if (values.at === undefined) return engineOf(store, tenantId);
  const past = await pastSnapshotsOf(store, values["history-days"]).engineAt(tenantId, pastAskOf(values.at));
  return past!.engine;
}

/** Runs `rolecall history`. */
export async function historyCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      permission: { type: "string" },
      limit: { type: "string" },
      "history-days": { type: "string" },
      ...STORE_FLAGS,
      json: { type: "boolean" },
    },
  });
  const [tenant, user, ...extra] = positionals;
  if (!tenant || !user || extra.length > 0) throw new UsageError("expected TENANT USER");
  const limit = values.limit === undefined ? 50 : wholeNumber(values.limit, "--limit");
  const store = await openCliStore(storeTargetOf(values), "read");
  try {
    const page = await pastSnapshotsOf(store, values["history-days"]).accessChanges({
      tenantId: tenant,
      userId: user,
      ...(values.permission === undefined ? {} : { permission: values.permission }),
      limit,
    });
    print(values.json ?? false, page, () => {
      const what = values.permission === undefined ? "access" : values.permission;
      const lines = [
        `${user}'s ${what} in ${tenant}: ${page.changes.length} change(s), newest first (history covers revisions ${page.oldestRevision}..${page.revision})`,
      ];
      for (const c of page.changes) {
        lines.push(`  r${c.revision}  ${c.time}  ${c.actor}  ${c.operation}: ${c.summary}`);
        for (const p of c.permissionsGained) lines.push(`      + ${p}`);
        for (const p of c.permissionsLost) lines.push(`      - ${p}`);
      }
      if (page.nextBelow !== undefined) lines.push(`  … older changes: raise --limit`);
      return lines.join("\n");
    });
    return 0;
  } finally {
    await store.close();
  }
}
