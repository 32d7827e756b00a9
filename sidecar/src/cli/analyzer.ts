/**
 * `rolecall compare` and `rolecall what-if`: the access analyzer on the store (the file, or with
 * `--primary` a fleet's primary), by the same engine and admin rules the sidecar runs.
 */
import { parseArgs } from "node:util";
import type { Principal } from "../admin/principal.js";
import { type ProposedChange, SIMULATED_OPERATIONS, simulateChanges } from "../admin/simulate.js";
import { compareUsers, type Side } from "../policy/compare-users.js";
import { openCliStore, STORE_FLAGS, STORE_FLAGS_HELP, storeTargetOf } from "./cli-store.js";
import { AT_FLAGS, AT_FLAGS_HELP, engineAt } from "./history.js";
import { print } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall compare`. */
export const COMPARE_HELP = `Usage: rolecall compare TENANT USER OTHER_USER [options]

Sets two users side by side: the permissions and surfaces where their decisions differ,
each side with its reason and the roles that grant it.

Options:
  --system ID       only this system
  --all             also the rows where both are the same (differences first)
${AT_FLAGS_HELP}
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

/** Help of `rolecall what-if`. */
export const WHAT_IF_HELP = `Usage: rolecall what-if TENANT CHANGE... [options]

Runs proposed admin writes through the admin rules on a copy of the policy and says who would
gain or lose which permissions and surfaces. Nothing is committed. Each CHANGE is one of:
  grant ROLE PERMISSION        revoke ROLE PERMISSION
  assign USER ROLE             unassign USER ROLE
  deactivate USER              activate USER

Options:
  --as USER         simulate with this user's rights (default: the bootstrap principal)
${STORE_FLAGS_HELP}
  --json            machine-readable output
`;

function describe(side: Side, who: string): string {
  if (side.allowed)
    return `${who}: allowed${side.grantedByRoleIds.length > 0 ? ` (${side.grantedByRoleIds.join(", ")})` : ""}`;
  return `${who}: ${side.reason}${side.missing.length > 0 ? ` (missing ${side.missing.join(", ")})` : ""}`;
}

/** Runs `rolecall compare`. */
export async function compareCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      system: { type: "string" },
      all: { type: "boolean" },
      ...AT_FLAGS,
      ...STORE_FLAGS,
      json: { type: "boolean" },
    },
  });
  const [tenant, user, other, ...extra] = positionals;
  if (!tenant || !user || !other || extra.length > 0) throw new UsageError("expected TENANT USER OTHER_USER");
  const store = await openCliStore(storeTargetOf(values), "read");
  try {
    const snapshot = (await engineAt(store, tenant, values)).currentSnapshot();
    const out = compareUsers(snapshot, tenant, user, other, {
      system: values.system,
      includeSame: values.all ?? false,
    });
    print(values.json ?? false, out, () => {
      const lines = [
        `${user} vs ${other} in ${tenant} (revision ${out.revision}): ${out.permissionDifferences} permission(s) and ${out.surfaceDifferences} surface(s) differ`,
      ];
      for (const r of out.permissions) {
        lines.push(
          `  ${r.differs ? "≠" : "="} ${r.id}\n      ${describe(r.user, user)}\n      ${describe(r.other, other)}`,
        );
      }
      for (const r of out.surfaces) {
        lines.push(
          `  ${r.differs ? "≠" : "="} surface ${r.id}\n      ${describe(r.user, user)}\n      ${describe(r.other, other)}`,
        );
      }
      return lines.join("\n");
    });
    return 0;
  } finally {
    await store.close();
  }
}

/** The CHANGE words of `what-if`, as proposed writes. */
function parseChanges(tenantId: string, words: readonly string[]): ProposedChange[] {
  const changes: ProposedChange[] = [];
  const request = (fields: object) => ({ tenantId, ...fields }) as ProposedChange["request"];
  for (let i = 0; i < words.length; ) {
    const verb = words[i];
    const a = words[i + 1];
    const b = words[i + 2];
    const need = (n: number) => {
      if ((n >= 1 && a === undefined) || (n >= 2 && b === undefined)) {
        throw new UsageError(`'${verb}' needs ${n} argument${n === 1 ? "" : "s"}`);
      }
    };
    if (verb === "grant" || verb === "revoke") {
      need(2);
      const operation = verb === "grant" ? "grantPermissions" : "revokePermissions";
      changes.push({ operation, request: request({ roleId: a, permissions: [b], cascade: false }) });
      i += 3;
    } else if (verb === "assign" || verb === "unassign") {
      need(2);
      changes.push({
        operation: verb === "assign" ? "assignRoles" : "unassignRoles",
        request: request({ userId: a, roleIds: [b] }),
      });
      i += 3;
    } else if (verb === "activate" || verb === "deactivate") {
      need(1);
      changes.push({
        operation: "setUserActive",
        request: request({ userId: a, active: verb === "activate" }),
      });
      i += 2;
    } else {
      throw new UsageError(
        `unknown change '${verb}' (one of grant, revoke, assign, unassign, activate, deactivate)`,
      );
    }
  }
  if (changes.length === 0) throw new UsageError("name at least one CHANGE");
  if (!changes.every((c) => SIMULATED_OPERATIONS.includes(c.operation)))
    throw new UsageError("unsupported change");
  return changes;
}

/** Runs `rolecall what-if`. */
export async function whatIfCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { as: { type: "string" }, ...STORE_FLAGS, json: { type: "boolean" } },
  });
  const [tenantId, ...words] = positionals;
  if (!tenantId) throw new UsageError("expected TENANT CHANGE...");
  const changes = parseChanges(tenantId, words);
  const actor: Principal = values.as ? { kind: "user", tenantId, userId: values.as } : { kind: "bootstrap" };
  // Nothing is committed (the transaction is rolled back): a read, also of a follower's copy.
  const store = await openCliStore(storeTargetOf(values), "read");
  try {
    const out = await simulateChanges(store.admin.context, actor, { tenantId, changes });
    print(values.json ?? false, out, () => {
      const lines = [`What if, at revision ${out.revision} (nothing committed):`];
      for (const [i, c] of out.changes.entries()) {
        lines.push(
          c.applied
            ? `  ${i + 1}. ${c.operation}: ${c.usersGaining} user(s) gain, ${c.usersLosing} lose`
            : `  ${i + 1}. ${c.operation}: refused (${c.refusalCode}): ${c.refusal}`,
        );
      }
      for (const u of out.users) {
        const parts = [
          ...u.permissionsGained.map((k) => `+${k}`),
          ...u.permissionsLost.map((k) => `-${k}`),
          ...u.surfacesGained.map((k) => `+surface ${k}`),
          ...u.surfacesLost.map((k) => `-surface ${k}`),
        ];
        lines.push(`  ${u.userId}: ${parts.join(", ")}`);
      }
      if (out.users.length === 0) lines.push("  nobody's access would change");
      return lines.join("\n");
    });
    return 0;
  } finally {
    await store.close();
  }
}
