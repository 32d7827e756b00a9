/**
 * A system's admin rights through the loader's phases: the shape of `adminRights` (or of the
 * legacy `roleAdministration` list it replaces), the permissions they name, and the rights the
 * legacy list stands for. Kept apart from `shape.ts` because two formats meet here.
 */
import { basename } from "node:path";
import { ADMIN_ACTIONS, type AdminAction, type CatalogAdminRight } from "../catalog.js";
import { closestKey } from "../closest-key.js";
import { qualifyKey } from "../requirement.js";
import type { AdminRightEntry } from "../schema.js";
import {
  boolean,
  type Fail,
  failures,
  isRecord,
  requiredString,
  stringList,
  unknownFields,
} from "./field-checks.js";
import { describeValue } from "./issues.js";
import { type References, systemOf } from "./references.js";

const ADMIN_RIGHT_FIELDS = ["action", "permissions", "document", "section", "reason", "assumed"];

/** The actions the legacy `roleAdministration` list is read as giving. */
export const LEGACY_ROLE_ADMINISTRATION_ACTIONS: readonly AdminAction[] = ["edit-roles", "assign-roles"];

/** The reason given to every right derived from a legacy `roleAdministration` list. */
export const LEGACY_ROLE_ADMINISTRATION_REASON =
  "legacy roleAdministration list: read as the right to edit and assign roles";

/** One well-formed `adminRights` entry, with its place in the file for messages. */
export interface AdminRightDraft extends Required<AdminRightEntry> {
  /** `adminRights #2 (assign-roles)`: how messages name the entry. */
  readonly label: string;
}

/** What a system file says about admin rights, after the shape check. */
export interface AdminRightsDraft {
  /** The well-formed entries of `adminRights`, in file order. */
  readonly adminRights: readonly AdminRightDraft[];
  /** The legacy list when the file uses it instead of `adminRights`; `null` otherwise. */
  readonly roleAdministration: readonly string[] | null;
}

/**
 * Checks `adminRights` and the legacy `roleAdministration` of a system file. Both are optional;
 * a file with both is refused, since which one holds would be a guess.
 */
export function checkAdminRightsShape(data: Record<string, unknown>, fail: Fail): AdminRightsDraft {
  const hasNew = data.adminRights !== undefined;
  const hasLegacy = data.roleAdministration !== undefined;
  if (hasNew && hasLegacy) {
    fail(undefined, "system: roleAdministration is replaced by adminRights; remove it");
  }
  if (!hasNew) {
    const legacy = hasLegacy ? stringList(data, "roleAdministration", "system", undefined, fail) : null;
    return { adminRights: [], roleAdministration: legacy };
  }
  if (!Array.isArray(data.adminRights)) {
    fail(undefined, `system: 'adminRights' must be an array, got ${describeValue(data.adminRights)}`);
    return { adminRights: [], roleAdministration: null };
  }
  const rights: AdminRightDraft[] = [];
  data.adminRights.forEach((item: unknown, index) => {
    const right = checkAdminRight(item, index, fail);
    if (right !== null) rights.push(right);
  });
  return { adminRights: rights, roleAdministration: null };
}

function checkAdminRight(item: unknown, index: number, fail: Fail): AdminRightDraft | null {
  const at = `system: adminRights #${index + 1}`;
  if (!isRecord(item)) {
    fail(undefined, `${at}: expected an object, got ${describeValue(item)}`);
    return null;
  }
  const f = failures(fail);
  const action = adminAction(item.action, at, f.fail);
  const label = action === null ? `adminRights #${index + 1}` : `adminRights #${index + 1} (${action})`;
  const said = `system: ${label}`;
  unknownFields(item, ADMIN_RIGHT_FIELDS, said, undefined, f.fail);
  const permissions = stringList(item, "permissions", said, undefined, f.fail);
  if (permissions !== null && permissions.length === 0) {
    f.fail(undefined, `${said}: 'permissions' is empty; name at least one permission that gives the action`);
  }
  const document = requiredString(item, "document", said, undefined, f.fail);
  const section = requiredString(item, "section", said, undefined, f.fail);
  const reason = requiredString(item, "reason", said, undefined, f.fail);
  const assumed = item.assumed === undefined ? false : boolean(item, "assumed", said, undefined, f.fail);
  if (f.count() > 0 || action === null || permissions === null || assumed === null) return null;
  if (document === null || section === null || reason === null) return null;
  return { action, permissions, document, section, reason, assumed, label };
}

/** The entry's action, or `null` after reporting it with the nearest action's name. */
function adminAction(value: unknown, at: string, fail: Fail): AdminAction | null {
  if (typeof value === "string" && (ADMIN_ACTIONS as readonly string[]).includes(value)) {
    return value as AdminAction;
  }
  if (typeof value !== "string" || value === "") {
    fail(
      undefined,
      `${at}: 'action' must be one of ${ADMIN_ACTIONS.join(", ")}; got ${describeValue(value)}`,
    );
    return null;
  }
  const near = closestKey(value, ADMIN_ACTIONS);
  fail(
    undefined,
    `${at}: unknown action '${value}'${near === null ? `; expected one of ${ADMIN_ACTIONS.join(", ")}` : ` (did you mean '${near}'?)`}`,
  );
  return null;
}

/**
 * Reports every permission an admin right names that resolves nowhere, and every one of another
 * system: a right over a system is given by that system's own permissions.
 */
export function checkAdminRightReferences(
  system: { readonly id: string } & AdminRightsDraft,
  refs: References,
  fail: Fail,
): void {
  for (const ref of system.roleAdministration ?? []) {
    const problem = refs.permissionProblem(ref, system.id);
    if (problem !== null) fail(undefined, `system: roleAdministration names ${problem}`);
  }
  for (const right of system.adminRights) {
    for (const ref of right.permissions) {
      const owner = systemOf(qualifyKey(ref, system.id));
      if (owner !== system.id) {
        fail(
          undefined,
          `system: ${right.label}: permission '${ref}' is of system '${owner}'; a right over '${system.id}' must be one of its own permissions`,
        );
        continue;
      }
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(undefined, `system: ${right.label}: permissions names ${problem}`);
    }
  }
}

/**
 * The catalog's admin rights of a system that passed every check, qualified: its `adminRights`,
 * or, for a file in the legacy format, the right to edit and assign roles for each permission
 * of `roleAdministration`, marked assumed and citing the data file itself.
 */
export function assembleAdminRights(
  system: { readonly id: string; readonly file: string } & AdminRightsDraft,
): CatalogAdminRight[] {
  const q = (key: string) => qualifyKey(key, system.id);
  const legacy = system.roleAdministration;
  if (legacy !== null) {
    if (legacy.length === 0) return [];
    return LEGACY_ROLE_ADMINISTRATION_ACTIONS.map((action) => ({
      action,
      permissions: legacy.map(q),
      document: basename(system.file),
      section: "roleAdministration",
      reason: LEGACY_ROLE_ADMINISTRATION_REASON,
      assumed: true,
    }));
  }
  return system.adminRights.map((r) => ({
    action: r.action,
    permissions: r.permissions.map(q),
    document: r.document,
    section: r.section,
    reason: r.reason,
    assumed: r.assumed,
  }));
}
