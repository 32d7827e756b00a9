/**
 * Phase 1, shape: types, required fields, enums, key syntax and duplicates within a list, file by
 * file. A malformed entry is reported and dropped; its id is remembered so that the later phases
 * do not report references to it again as unknown.
 */
import { isTraversal, parse as parseSelector } from "css-what";
import {
  type Assumption,
  type CategoryEntry,
  type DefaultRoleEntry,
  type LicenseEntry,
  OPTIONAL_PERMISSION_FIELDS,
  PERMISSION_FIELDS,
  type PermissionEntry,
  type RequirementExpr,
  type SurfaceEntry,
  type SystemFile,
} from "../schema.js";
import { type AdminRightsDraft, checkAdminRightsShape } from "./admin-rights.js";
import {
  assumptionList,
  boolean,
  type Fail,
  failures,
  isRecord,
  localId,
  oneOf,
  permissionKey,
  requiredString,
  requirement,
  stringList,
  unknownFields,
} from "./field-checks.js";
import { describeValue, type IssueList, messageOf } from "./issues.js";

const SYSTEM_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const STATUSES = ["active", "unused"] as const;
const SCOPES = ["all", "self"] as const;
const SURFACE_KINDS = ["page", "panel", "tab", "button", "menu-item", "widget"] as const;
const LICENSE_HOLDERS = ["role", "tenant"] as const;

const SYSTEM_FIELDS = [
  "id",
  "name",
  "adminRights",
  "roleAdministration",
  "categories",
  "licenses",
  "defaultRoles",
  "permissions",
  "surfaces",
];
const ROLE_FIELDS = ["id", "name", "grants", "required", "licenses", "template", "assumptions"];
const SURFACE_FIELDS = [
  "id",
  "label",
  "kind",
  "location",
  "urlPattern",
  "selector",
  "requires",
  "assumptions",
];
const CATEGORY_FIELDS = ["id", "name", "assumptions"];
const LICENSE_FIELDS = ["id", "name", "heldBy", "purchasable", "defaultGrants", "assumptions"];
const PERMISSION_ENTRY_FIELDS: readonly string[] = [...PERMISSION_FIELDS, ...OPTIONAL_PERMISSION_FIELDS];

/** The fields an assumption may name: every field of the entry but its id and the list itself. */
const assumable = (fields: readonly string[], idField: string): string[] =>
  fields.filter((f) => f !== idField && f !== "assumptions");

/** One system after the shape check: only well-formed entries, plus the ids of malformed ones. */
export interface SystemDraft
  extends Omit<SystemFile, "adminRights" | "roleAdministration">,
    AdminRightsDraft {
  /** The data file it was read from, as issues name it. */
  readonly file: string;
  /**
   * Ids (permission keys, license and category ids) of entries dropped for a bad shape, and whether
   * a whole list was unusable: references to them are not reported again as "unknown".
   */
  readonly dropped: {
    permissions: Set<string>;
    licenses: Set<string>;
    categories: Set<string>;
    all: boolean;
  };
}

/**
 * Checks one data file's shape; `expected` is the system id its file name gives. Returns `null`
 * when the file is not an object at all.
 */
export function checkSystemShape(
  file: string,
  data: unknown,
  expected: string,
  issues: IssueList,
): SystemDraft | null {
  if (!isRecord(data)) {
    issues.add(file, undefined, `expected a JSON object describing one system, got ${describeValue(data)}`);
    return null;
  }
  const fail = (id: string | undefined, message: string) => issues.add(file, id, message);
  unknownFields(data, SYSTEM_FIELDS, "system", undefined, fail);

  let id = expected;
  if (typeof data.id !== "string" || data.id === "") {
    fail(undefined, `system: 'id' must be a non-empty string, got ${describeValue(data.id)}`);
  } else if (!SYSTEM_ID_PATTERN.test(data.id)) {
    fail(undefined, `system: id '${data.id}' must be lowercase letters and digits joined by single '-'`);
  } else {
    if (data.id !== expected) {
      fail(undefined, `system: id '${data.id}' does not match the file name; expected '${expected}'`);
    }
    id = data.id;
  }
  const name = requiredString(data, "name", "system", undefined, fail) ?? id;
  const dropped = {
    permissions: new Set<string>(),
    licenses: new Set<string>(),
    categories: new Set<string>(),
    all: false,
  };

  const list = (field: string): readonly unknown[] => {
    const value = data[field];
    if (Array.isArray(value)) return value;
    fail(undefined, `system: '${field}' must be an array, got ${describeValue(value)}`);
    dropped.all = true;
    return [];
  };

  const { adminRights, roleAdministration } = checkAdminRightsShape(data, fail);

  const categories = entries(list("categories"), "category", "id", fail, (e, label, eid) => {
    const category = checkCategory(e, label, eid, fail);
    if (category === null && eid !== undefined) dropped.categories.add(eid);
    return category;
  });
  const licenses = entries(list("licenses"), "license", "id", fail, (e, label, eid) => {
    const license = checkLicense(e, label, eid, fail);
    if (license === null && eid !== undefined) dropped.licenses.add(eid);
    return license;
  });
  const defaultRoles = entries(list("defaultRoles"), "default role", "id", fail, (e, label, eid) =>
    checkRole(e, label, eid, fail),
  );
  const permissions = entries(list("permissions"), "permission", "key", fail, (e, label, eid) => {
    const permission = checkPermission(e, label, eid, fail);
    if (permission === null && eid !== undefined) dropped.permissions.add(eid);
    return permission;
  });
  const surfaces = entries(list("surfaces"), "surface", "id", fail, (e, label, eid) =>
    checkSurface(e, label, eid, fail),
  );

  return {
    file,
    id,
    name,
    adminRights,
    roleAdministration,
    categories,
    licenses,
    defaultRoles,
    permissions,
    surfaces,
    dropped,
  };
}

/**
 * Checks each entry of a list with `check`, labelling messages by the entry's id (or its index when
 * it has none), and drops the second and later entries with an id already seen.
 */
function entries<T>(
  items: readonly unknown[],
  what: string,
  idField: string,
  fail: Fail,
  check: (entry: Record<string, unknown>, label: string, id: string | undefined) => T | null,
): T[] {
  const out: T[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    if (!isRecord(item)) {
      fail(undefined, `${what} #${index + 1}: expected an object, got ${describeValue(item)}`);
      return;
    }
    const rawId = item[idField];
    const id = typeof rawId === "string" && rawId !== "" ? rawId : undefined;
    const label = id === undefined ? `${what} #${index + 1}` : `${what} '${id}'`;
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        fail(id, `${label}: duplicate ${idField} (entries #${first + 1} and #${index + 1})`);
        return;
      }
      seen.set(id, index);
    }
    const checked = check(item, label, id);
    if (checked !== null) out.push(checked);
  });
  return out;
}

/** `{...entry, assumptions}` when there are any, the entry alone otherwise (absent means none). */
function withAssumptions<T extends object>(entry: T, assumptions: readonly Assumption[]): T {
  return assumptions.length === 0 ? entry : { ...entry, assumptions };
}

function checkCategory(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): CategoryEntry | null {
  const f = failures(fail);
  unknownFields(e, CATEGORY_FIELDS, label, id, f.fail);
  const categoryId = localId(e, "id", label, id, f.fail);
  const name = requiredString(e, "name", label, id, f.fail);
  const assumptions = assumptionList(e, assumable(CATEGORY_FIELDS, "id"), label, id, f.fail);
  if (f.count() > 0 || categoryId === null || name === null || assumptions === null) return null;
  return withAssumptions({ id: categoryId, name }, assumptions);
}

function checkLicense(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): LicenseEntry | null {
  const f = failures(fail);
  unknownFields(e, LICENSE_FIELDS, label, id, f.fail);
  const licenseId = localId(e, "id", label, id, f.fail);
  const name = requiredString(e, "name", label, id, f.fail);
  const heldBy =
    e.heldBy === undefined ? "role" : oneOf(e, "heldBy", LICENSE_HOLDERS, false, label, id, f.fail);
  const purchasable = e.purchasable === undefined ? true : boolean(e, "purchasable", label, id, f.fail);
  const defaultGrants =
    e.defaultGrants === undefined ? [] : stringList(e, "defaultGrants", label, id, f.fail);
  const assumptions = assumptionList(e, assumable(LICENSE_FIELDS, "id"), label, id, f.fail);
  if (f.count() > 0 || licenseId === null || name === null || heldBy === null) return null;
  if (purchasable === null || defaultGrants === null || assumptions === null) return null;
  return withAssumptions(
    {
      id: licenseId,
      name,
      ...(heldBy === "role" ? {} : { heldBy }),
      ...(purchasable ? {} : { purchasable }),
      ...(defaultGrants.length === 0 ? {} : { defaultGrants }),
    },
    assumptions,
  );
}

function checkRole(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): DefaultRoleEntry | null {
  const f = failures(fail);
  unknownFields(e, ROLE_FIELDS, label, id, f.fail);
  const roleId = localId(e, "id", label, id, f.fail);
  const name = requiredString(e, "name", label, id, f.fail);
  const grants = stringList(e, "grants", label, id, f.fail);
  const required = stringList(e, "required", label, id, f.fail);
  const licenses = stringList(e, "licenses", label, id, f.fail);
  const template = boolean(e, "template", label, id, f.fail);
  const assumptions = assumptionList(e, assumable(ROLE_FIELDS, "id"), label, id, f.fail);
  if (f.count() > 0 || roleId === null || name === null || grants === null) return null;
  if (required === null || licenses === null || template === null || assumptions === null) return null;
  return withAssumptions({ id: roleId, name, grants, required, licenses, template }, assumptions);
}

function checkPermission(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): PermissionEntry | null {
  const f = failures(fail);
  unknownFields(e, PERMISSION_ENTRY_FIELDS, label, id, f.fail);
  const key = permissionKey(e.key, "key", label, id, f.fail);
  const name = requiredString(e, "name", label, id, f.fail);
  const category = requiredString(e, "category", label, id, f.fail);
  const summary = requiredString(e, "summary", label, id, f.fail);
  const pages = stringList(e, "pages", label, id, f.fail);
  const licenses = stringList(e, "licenses", label, id, f.fail);
  let requires: RequirementExpr | null = null;
  if (!("requires" in e)) f.fail(id, `${label}: 'requires' is missing; use null when nothing is required`);
  else if (e.requires !== null) requires = requirement(e.requires, "requires", label, id, f.fail);
  const implies = stringList(e, "implies", label, id, f.fail);
  const status = oneOf(e, "status", STATUSES, false, label, id, f.fail);
  const mutual = boolean(e, "mutual", label, id, f.fail);
  const scope = oneOf(e, "scope", SCOPES, true, label, id, f.fail);
  const actorRequires =
    e.actorRequires === undefined || e.actorRequires === null
      ? null
      : requirement(e.actorRequires, "actorRequires", label, id, f.fail);
  if (actorRequires !== null && mutual === false) {
    f.fail(
      id,
      `${label}: 'actorRequires' is for the acting side of a mutual permission, and this one is not mutual; use 'requires'`,
    );
  }
  const tenantLicenses =
    e.tenantLicenses === undefined ? [] : stringList(e, "tenantLicenses", label, id, f.fail);
  const assumptions = assumptionList(e, assumable(PERMISSION_ENTRY_FIELDS, "key"), label, id, f.fail);
  if (f.count() > 0 || key === null || name === null || category === null || summary === null) return null;
  if (pages === null || licenses === null || implies === null || status === null || mutual === null)
    return null;
  if (scope === undefined || tenantLicenses === null || assumptions === null) return null;
  return withAssumptions(
    {
      key,
      name,
      category,
      summary,
      pages,
      licenses,
      requires,
      implies,
      status,
      mutual,
      scope,
      ...(actorRequires === null ? {} : { actorRequires }),
      ...(tenantLicenses.length === 0 ? {} : { tenantLicenses }),
    },
    assumptions,
  );
}

function checkSurface(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): SurfaceEntry | null {
  const f = failures(fail);
  unknownFields(e, SURFACE_FIELDS, label, id, f.fail);
  const surfaceId = localId(e, "id", label, id, f.fail);
  const surfaceLabel = requiredString(e, "label", label, id, f.fail);
  const kind = oneOf(e, "kind", SURFACE_KINDS, false, label, id, f.fail);
  const location = requiredString(e, "location", label, id, f.fail);
  const urlPattern = requiredString(e, "urlPattern", label, id, f.fail);
  if (urlPattern !== null && (!urlPattern.startsWith("/") || /\s/.test(urlPattern))) {
    f.fail(id, `${label}: urlPattern '${urlPattern}' must be a path starting with '/' and without spaces`);
  }
  const selector = requiredString(e, "selector", label, id, f.fail);
  if (selector !== null) {
    const problem = selectorProblem(selector);
    if (problem !== null) f.fail(id, `${label}: invalid selector '${selector}': ${problem}`);
  }
  let requires: RequirementExpr | null = null;
  if (e.requires === null || e.requires === undefined) {
    f.fail(id, `${label}: 'requires' is missing; a surface must name the permissions it needs`);
  } else {
    requires = requirement(e.requires, "requires", label, id, f.fail);
  }
  const assumptions = assumptionList(e, assumable(SURFACE_FIELDS, "id"), label, id, f.fail);
  if (f.count() > 0 || surfaceId === null || surfaceLabel === null || kind === null) return null;
  if (location === null || urlPattern === null || selector === null || requires === null) return null;
  if (assumptions === null) return null;
  return withAssumptions(
    { id: surfaceId, label: surfaceLabel, kind, location, urlPattern, selector, requires },
    assumptions,
  );
}

/** Why a CSS selector would not work in `querySelectorAll`, or `null` when it parses. */
function selectorProblem(selector: string): string | null {
  if (selector.trim() === "") return "it is empty";
  let parsed: ReturnType<typeof parseSelector>;
  try {
    parsed = parseSelector(selector);
  } catch (err) {
    return messageOf(err);
  }
  // css-what accepts some selectors that browsers reject: a dangling or leading combinator.
  for (const part of parsed) {
    const first = part[0];
    const last = part[part.length - 1];
    if (first === undefined || last === undefined) return "it has an empty part";
    if (isTraversal(first) && first.type !== "descendant") return "it starts with a combinator";
    if (isTraversal(last)) return "it ends with a combinator";
  }
  return null;
}
