/**
 * Hand corrections to an imported system, kept in `catalog/import/overrides/<system>.yaml` so they
 * survive re-import. Every entry says why (`reason`) and whether it is a decision the vendor's
 * documentation does not state (`assumed: true`). An assumed decision is carried into the data
 * file as an `assumptions` entry with its reason: on each field a permission patch sets, or on the
 * whole entry for a category, license, default role or surface; a patch that is not assumed
 * clears the import's assumptions on the fields it sets (the document does say so).
 *
 * Shape of the YAML file:
 *   system:       { name?, reason, assumed? }                       fields replace the imported ones
 *   adminRights:  [ { action, permissions, document, section, reason, assumed? } ]
 *                 replaces the imported list (each entry carries its own reason and citation)
 *   categories:   [ { id, name, reason, assumed? } ]                  added, or replacing by id
 *   licenses:     [ { id, name, reason, assumed? } ]                  added, or replacing by id
 *   defaultRoles: [ { ...DefaultRoleEntry, reason, assumed? } ]       added, or replacing by id
 *   surfaces:     [ { ...SurfaceEntry, reason, assumed? } ]           added, or replacing by id
 *   permissions:  { <key>: { <PermissionEntry fields>, reason, assumed? } }
 *                 patches an imported permission field by field; a key the import lacks must give
 *                 every field and is added.
 */
import { parse } from "yaml";
import { ADMIN_ACTIONS } from "../catalog.js";
import {
  type AdminRightEntry,
  type Assumption,
  PERMISSION_FIELDS,
  type PermissionEntry,
  type SystemFile,
} from "../schema.js";

/** Why an override exists. */
interface Decision {
  readonly reason: string;
  readonly assumed?: boolean;
}

/** The parsed overrides file. */
export interface OverridesFile {
  readonly system?: Partial<Pick<SystemFile, "name">> & Decision;
  readonly adminRights?: readonly AdminRightEntry[];
  readonly categories?: readonly (SystemFile["categories"][number] & Decision)[];
  readonly licenses?: readonly (SystemFile["licenses"][number] & Decision)[];
  readonly defaultRoles?: readonly (SystemFile["defaultRoles"][number] & Decision)[];
  readonly surfaces?: readonly (SystemFile["surfaces"][number] & Decision)[];
  readonly permissions?: Readonly<Record<string, Partial<PermissionEntry> & Decision>>;
}

/** Error in an overrides file, naming the file and the entry. */
export class OverridesError extends Error {
  override readonly name = "OverridesError";
}

/** Parses an overrides file's text; `file` is only used in error messages. */
export function parseOverrides(text: string, file: string): OverridesFile {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new OverridesError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new OverridesError(`${file}: expected a mapping at the top level`);
  }
  const overrides = value as OverridesFile;
  const requireReason = (what: string, entry: { reason?: unknown }) => {
    if (typeof entry.reason !== "string" || entry.reason.trim() === "") {
      throw new OverridesError(`${file}: ${what} has no 'reason'; every override must say why`);
    }
  };
  if (overrides.system) requireReason("system", overrides.system);
  if (overrides.system !== undefined && "roleAdministration" in overrides.system) {
    throw new OverridesError(`${file}: system: roleAdministration is replaced by adminRights; remove it`);
  }
  checkAdminRights(overrides.adminRights, file);
  for (const section of ["categories", "licenses", "defaultRoles", "surfaces"] as const) {
    for (const entry of overrides[section] ?? []) requireReason(`${section} '${entry.id}'`, entry);
  }
  for (const [key, patch] of Object.entries(overrides.permissions ?? {})) {
    requireReason(`permission '${key}'`, patch);
  }
  return overrides;
}

/** Refuses an `adminRights` section that the loader would refuse, naming the overrides file. */
function checkAdminRights(rights: unknown, file: string): void {
  if (rights === undefined) return;
  if (!Array.isArray(rights)) throw new OverridesError(`${file}: adminRights must be a list`);
  rights.forEach((right: Partial<Record<keyof AdminRightEntry, unknown>>, index) => {
    const at = `${file}: adminRights #${index + 1}`;
    if (!(ADMIN_ACTIONS as readonly unknown[]).includes(right.action)) {
      throw new OverridesError(`${at}: action must be one of ${ADMIN_ACTIONS.join(", ")}`);
    }
    const { permissions } = right;
    if (
      !Array.isArray(permissions) ||
      permissions.length === 0 ||
      !permissions.every((p) => typeof p === "string")
    ) {
      throw new OverridesError(`${at} (${right.action}): permissions must list at least one permission key`);
    }
    for (const field of ["document", "section", "reason"] as const) {
      const value = right[field];
      if (typeof value !== "string" || value.trim() === "") {
        throw new OverridesError(`${at} (${right.action}): '${field}' must be a non-empty string`);
      }
    }
    if (right.assumed !== undefined && typeof right.assumed !== "boolean") {
      throw new OverridesError(`${at} (${right.action}): 'assumed' must be true or false`);
    }
  });
}

function strip<T extends Decision>(entry: T): Omit<T, "reason" | "assumed"> {
  const { reason: _reason, assumed: _assumed, ...rest } = entry;
  return rest;
}

/** The entry's own assumptions plus `added`; the field is left out when the list is empty. */
function withAssumptions<T extends { readonly assumptions?: readonly Assumption[] }>(
  entry: T,
  added: readonly Assumption[],
): T {
  const { assumptions: own, ...rest } = entry;
  const all = [...(own ?? []), ...added];
  return (all.length === 0 ? rest : { ...rest, assumptions: all }) as T;
}

function mergeById<T extends { readonly id: string; readonly assumptions?: readonly Assumption[] }>(
  base: readonly T[],
  extra: readonly (T & Decision)[] | undefined,
): T[] {
  const out = new Map(base.map((e) => [e.id, e] as const));
  for (const entry of extra ?? []) {
    const decided = strip(entry) as unknown as T;
    out.set(entry.id, withAssumptions(decided, entry.assumed === true ? [{ reason: entry.reason }] : []));
  }
  return [...out.values()];
}

/** A permission with `patch` applied; the assumptions follow the fields it sets (see the file comment). */
function patchPermission(
  existing: PermissionEntry,
  patch: Partial<PermissionEntry> & Decision,
  key: string,
): PermissionEntry {
  const fields = strip(patch);
  const set = Object.keys(fields).filter((f) => f !== "assumptions");
  const kept = [
    ...(existing.assumptions ?? []).filter((a) => a.field === undefined || !set.includes(a.field)),
    ...(fields.assumptions ?? []),
  ];
  const added =
    patch.assumed === true ? set.map((field): Assumption => ({ field, reason: patch.reason })) : [];
  const { assumptions: _old, ...rest } = existing;
  return withAssumptions({ ...rest, ...fields, key, assumptions: kept }, added);
}

/** Applies overrides to an imported system; `file` names the overrides file in errors. */
export function applyOverrides(imported: SystemFile, overrides: OverridesFile, file: string): SystemFile {
  const permissions = new Map(imported.permissions.map((p) => [p.key, p] as const));
  for (const [key, patch] of Object.entries(overrides.permissions ?? {})) {
    const fields = strip(patch);
    const existing = permissions.get(key);
    if (existing) {
      permissions.set(key, patchPermission(existing, patch, key));
      continue;
    }
    const missing = PERMISSION_FIELDS.filter((f) => f !== "key" && !(f in fields));
    if (missing.length > 0) {
      throw new OverridesError(
        `${file}: permission '${key}' is not in the import, so the override must give every field; missing: ${missing.join(", ")}`,
      );
    }
    const added = patch.assumed === true ? [{ reason: patch.reason }] : [];
    permissions.set(key, withAssumptions({ ...(fields as PermissionEntry), key }, added));
  }
  const system = overrides.system ? strip(overrides.system) : {};
  const adminRights =
    overrides.adminRights === undefined
      ? imported.adminRights
      : overrides.adminRights.map(
          (r): AdminRightEntry => ({
            action: r.action,
            permissions: [...r.permissions],
            document: r.document,
            section: r.section,
            reason: r.reason,
            assumed: r.assumed ?? false,
          }),
        );
  return {
    ...imported,
    ...system,
    ...(adminRights === undefined ? {} : { adminRights }),
    categories: mergeById(imported.categories, overrides.categories),
    licenses: mergeById(imported.licenses, overrides.licenses),
    defaultRoles: mergeById(imported.defaultRoles, overrides.defaultRoles),
    surfaces: mergeById(imported.surfaces, overrides.surfaces),
    permissions: [...permissions.values()],
  };
}

/** Orders a system file for stable, diffable output: lists by id or key, permissions by key. */
export function sortSystemFile(file: SystemFile): SystemFile {
  const byId = <T extends { readonly id: string }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => a.id.localeCompare(b.id));
  const actionRank = (r: AdminRightEntry) => ADMIN_ACTIONS.indexOf(r.action);
  return {
    ...file,
    // By action, in ADMIN_ACTIONS order; entries of one action keep the overrides file's order.
    ...(file.adminRights === undefined
      ? {}
      : { adminRights: [...file.adminRights].sort((a, b) => actionRank(a) - actionRank(b)) }),
    categories: byId(file.categories),
    licenses: byId(file.licenses),
    defaultRoles: byId(file.defaultRoles).map((r) => ({
      ...r,
      grants: [...r.grants].sort(),
      required: [...r.required].sort(),
      licenses: [...r.licenses].sort(),
    })),
    surfaces: byId(file.surfaces),
    permissions: [...file.permissions].sort((a, b) => a.key.localeCompare(b.key)),
  };
}
