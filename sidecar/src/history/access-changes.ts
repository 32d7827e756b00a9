/**
 * When did a user's access change? The tenant's audit rows are walked back from now; only the
 * rows that touched the user, a role they held on either side of the row, or the tenant's license
 * pool are decided — and only for this user, on the part of the tenant that decides them (their
 * record and roles), so the cost does not grow with the tenant's size.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { tenantCatalog } from "../admin/admin-context.js";
import { requireTenant, userState } from "../admin/lookups.js";
import { createPolicyEngine } from "../policy/policy-engine.js";
import type { AuditRow, PolicyStoreReads, RoleState, UserState } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { type HistoryPolicy, oldestKept } from "./history-bounds.js";
import { currentTenant, walkBack } from "./past-policy.js";
import type { PastCompiler } from "./past-snapshots.js";
import { TenantRewind, touchedBy } from "./tenant-rewind.js";

/** One revision at which the user's decisions changed. */
export interface AccessChange {
  readonly revision: number;
  readonly time: string;
  readonly actor: string;
  readonly operation: string;
  readonly permissionsGained: readonly string[];
  readonly permissionsLost: readonly string[];
  /** One line for people, e.g. "role 'Agent' lost CONTACTS_UPDATE". */
  readonly summary: string;
}

/** What `listAccessChanges` is asked. */
export interface AccessChangesQuery {
  readonly tenantId: string;
  readonly userId: string;
  /** Only changes of this permission. */
  readonly permission?: string;
  /** At most this many changes. */
  readonly limit: number;
  /** Only revisions below this one (the previous page's last). */
  readonly belowRevision?: number;
}

/** A page of changes, newest first. */
export interface AccessChangesPage {
  readonly changes: AccessChange[];
  /** Where the next page starts below, when there is one. */
  readonly nextBelow: number | undefined;
  readonly revision: number;
  /** The oldest revision covered: the oldest kept, or a later change of the tenant's own systems. */
  readonly oldestRevision: number;
}

const list = (ids: readonly string[]) => ids.map((id) => `'${id}'`).join(", ");

function added(from: readonly string[], to: readonly string[]): string[] {
  const had = new Set(from);
  return to.filter((x) => !had.has(x));
}

/** One line saying what an audit row did. */
export function summarize(row: AuditRow): string {
  const before = row.before === null ? null : (JSON.parse(row.before) as Record<string, unknown>);
  const after = row.after === null ? null : (JSON.parse(row.after) as Record<string, unknown>);
  const role = (before ?? after) as unknown as RoleState;
  const user = (before ?? after) as unknown as UserState;
  switch (row.operation) {
    case "GrantPermissions":
    case "RevokePermissions": {
      const b = (before as unknown as RoleState).grants;
      const a = (after as unknown as RoleState).grants;
      const plus = added(b, a);
      const minus = added(a, b);
      return [
        plus.length > 0 ? `role '${role.name}' gained ${plus.join(", ")}` : "",
        minus.length > 0 ? `role '${role.name}' lost ${minus.join(", ")}` : "",
      ]
        .filter((s) => s !== "")
        .join("; ");
    }
    case "SetRoleLicenses":
      return `role '${role.name}' licenses set to ${list((after as unknown as RoleState).licenseIds) || "none"}`;
    case "CreateRole":
      return `role '${role.name}' created`;
    case "DeleteRole":
      return `role '${role.name}' deleted`;
    case "RenameRole":
      return `role '${role.name}' renamed to '${(after as unknown as RoleState).name}'`;
    case "AssignRoles":
      return `${user.id} was assigned ${list(added(user.roleIds, (after as unknown as UserState).roleIds))}`;
    case "UnassignRoles":
      return `${user.id} lost role ${list(added((after as unknown as UserState).roleIds, user.roleIds))}`;
    case "SetUserActive":
      return `${user.id} was ${(after as unknown as UserState).active ? "reactivated" : "deactivated"}`;
    case "CreateUser":
      return `${user.id} was created with roles ${list((after as unknown as UserState).roleIds) || "none"}`;
    case "SetLicenseSeats": {
      const b = before as { licenseId: string; seats: number | null };
      const a = after as { seats: number };
      return `license ${b.licenseId}: ${b.seats ?? "not in the pool"} → ${a.seats} seats`;
    }
    case "CreateTenant":
      return "tenant created";
    default:
      return row.operation;
  }
}

/** The changes of one user's access, newest first, one page. */
export async function listAccessChanges(
  tx: PolicyStoreReads,
  catalog: Catalog,
  compiler: PastCompiler,
  policy: HistoryPolicy,
  query: AccessChangesQuery,
): Promise<AccessChangesPage> {
  const { tenantId, userId, permission } = query;
  await requireTenant(tx, tenantId);
  await userState(tx, tenantId, userId); // users are never deleted: unknown now is unknown ever
  // The tenant's own systems' permissions are named too.
  if (permission !== undefined && !(await tenantCatalog(tx, catalog, tenantId)).permissions.has(permission)) {
    throw new StoreError(
      "NOT_FOUND",
      `unknown permission '${permission}'; permissions are named system/key, e.g. cxengage/CONTACTS_UPDATE`,
      {
        field: "permission",
      },
    );
  }
  const databaseId = await tx.databaseId();
  const revision = await tx.revision();
  const oldestRevision = await oldestKept(tx, policy);
  const rewind = new TenantRewind(tenantId, await currentTenant(tx, catalog, tenantId, userId));

  /** The permissions the user holds as the walk stands. */
  const allowedNow = (at: number): Set<string> => {
    const part = rewind.policyOf(userId);
    if (part === undefined || part.users.length === 0) return new Set();
    const engine = createPolicyEngine({
      snapshot: compiler.compile(databaseId, at, part),
      maxCachedUsers: 1,
    });
    return new Set(
      engine
        .listEffective(tenantId, userId)
        .filter((row) => row.allowed && (permission === undefined || row.permission === permission))
        .map((row) => row.permission),
    );
  };
  const rolesNow = () => new Set(rewind.user(userId)?.roleIds ?? []);

  let after = allowedNow(revision);
  let afterRoles = rolesNow();
  const changes: AccessChange[] = [];
  let nextBelow: number | undefined;
  const barrier = await walkBack(tx, rewind, oldestRevision, (row) => {
    const touched = touchedBy(row);
    const relevant =
      touched.tenantWide === true ||
      touched.userId === userId ||
      (touched.roleId !== undefined && (afterRoles.has(touched.roleId) || rolesNow().has(touched.roleId)));
    if (!relevant) return true;
    const before = allowedNow(row.revision - 1);
    const gained = [...after].filter((p) => !before.has(p));
    const lost = [...before].filter((p) => !after.has(p));
    after = before;
    afterRoles = rolesNow();
    if (gained.length === 0 && lost.length === 0) return true;
    if (query.belowRevision !== undefined && row.revision >= query.belowRevision) return true;
    if (changes.length === query.limit) {
      nextBelow = changes[changes.length - 1]!.revision;
      return false;
    }
    changes.push({
      revision: row.revision,
      time: row.time,
      actor: row.actor,
      operation: row.operation,
      permissionsGained: gained.sort(),
      permissionsLost: lost.sort(),
      summary: summarize(row),
    });
    return true;
  });
  // History ends at a change of the tenant's own systems: the page says so as its oldest revision.
  return { changes, nextBelow, revision, oldestRevision: Math.max(oldestRevision, barrier ?? 0) };
}
