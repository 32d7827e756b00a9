/**
 * Loads and validates the catalog: every `catalog/data/<system>.json` at once, so that one
 * `CatalogError` lists every problem of every file (the sidecar refuses to start on it rather
 * than serve a partial catalog), then qualifies every key as `system/key`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isTraversal, parse as parseSelector } from "css-what";
import type {
  Catalog,
  CatalogDefaultRole,
  CatalogLicense,
  CatalogPermission,
  CatalogSurface,
  CatalogSystem,
} from "./catalog.js";
import { closestKey } from "./closest-key.js";
import {
  normalizeRequirement,
  qualifyKey,
  qualifyRequirement,
  REQUIREMENT_KEY_PATTERN,
  REQUIREMENT_KEYWORDS,
  requirementKeys,
} from "./requirement.js";
import {
  type CategoryEntry,
  type DefaultRoleEntry,
  type LicenseEntry,
  PERMISSION_FIELDS,
  type PermissionEntry,
  type RequirementExpr,
  type SurfaceEntry,
  SYSTEM_IDS,
} from "./schema.js";

/** One problem found in the catalog: the file, the entry's local id when there is one, and what is wrong. */
export interface CatalogIssue {
  /** The data file, as given to `buildCatalog` or relative to the working directory by `loadCatalog`. */
  readonly file: string;
  /** Local id of the permission, surface, role, license or category concerned; absent for file-level problems. */
  readonly id?: string;
  /** What is wrong, starting with what it concerns: `permission 'CONTACTS_READ': requires unknown permission ...`. */
  readonly message: string;
}

/** `file: message`, the way a person reads an issue. */
export function formatCatalogIssue(issue: CatalogIssue): string {
  return `${issue.file}: ${issue.message}`;
}

/** The catalog is invalid; `issues` lists every problem found, in file order. */
export class CatalogError extends Error {
  override readonly name = "CatalogError";
  /** Every problem found, grouped by file in the order the files were read. */
  readonly issues: readonly CatalogIssue[];

  constructor(issues: readonly CatalogIssue[]) {
    const n = issues.length;
    super(
      `invalid catalog: ${n} problem${n === 1 ? "" : "s"}\n${issues.map((i) => `  ${formatCatalogIssue(i)}`).join("\n")}`,
    );
    this.issues = issues;
  }
}

/** One data file given to `buildCatalog`: its name (for messages, and the system id it must hold) and its parsed JSON. */
export interface CatalogSource {
  /** Path or name ending in `<system>.json`. */
  readonly file: string;
  /** The parsed JSON value; validated, never trusted. */
  readonly data: unknown;
}

/**
 * The directory of the real data files, `<project>/catalog/data/`, found from this module whether
 * it runs from `catalog/` (tsx, vitest) or bundled into `dist/` (the sidecar).
 */
export function defaultCatalogDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "catalog", "data");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  // Nothing found: name the unbundled location, so the error says where the files were expected.
  return join(here, "data");
}

/**
 * Reads every `*.json` file in `dir` (sorted by name), validates them together and returns the
 * qualified catalog. Throws `CatalogError` listing every problem, including files that are not JSON.
 */
export function loadCatalog(dir: string = defaultCatalogDir()): Catalog {
  const shown = displayPath(dir);
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch (err) {
    throw new CatalogError([
      { file: shown, message: `cannot read the catalog directory: ${messageOf(err)}` },
    ]);
  }
  if (names.length === 0) {
    throw new CatalogError([{ file: shown, message: "no system files (*.json) in the catalog directory" }]);
  }
  const sources: CatalogSource[] = [];
  const unreadable: CatalogIssue[] = [];
  for (const name of names) {
    const file = displayPath(join(dir, name));
    let text: string;
    try {
      text = readFileSync(join(dir, name), "utf8");
    } catch (err) {
      unreadable.push({ file, message: `cannot read the file: ${messageOf(err)}` });
      sources.push({ file, data: BROKEN });
      continue;
    }
    try {
      // A byte-order mark is invisible in editors; JSON.parse would reject it.
      sources.push({ file, data: JSON.parse(text.replace(/^\uFEFF/, "")) });
    } catch (err) {
      unreadable.push({ file, message: `not valid JSON: ${jsonErrorWithLine(messageOf(err), text)}` });
      sources.push({ file, data: BROKEN });
    }
  }
  return validate(sources, unreadable);
}

/**
 * Validates already-parsed data files together and returns the qualified catalog; pure, for tests
 * and for callers that read the files themselves. Throws `CatalogError` listing every problem.
 */
export function buildCatalog(files: readonly CatalogSource[]): Catalog {
  return validate(files, []);
}

/** Marks a source whose file could not be read or parsed: its problem is already reported. */
const BROKEN: unique symbol = Symbol("broken catalog file");

const SYSTEM_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const STATUSES = ["active", "unused"] as const;
const SCOPES = ["all", "self"] as const;
const SURFACE_KINDS = ["page", "panel", "tab", "button", "menu-item", "widget"] as const;

const SYSTEM_FIELDS = [
  "id",
  "name",
  "roleAdministration",
  "categories",
  "licenses",
  "defaultRoles",
  "permissions",
  "surfaces",
];
const ROLE_FIELDS = ["id", "name", "grants", "required", "licenses", "template"];
const SURFACE_FIELDS = ["id", "label", "kind", "location", "urlPattern", "selector", "requires"];
const NAMED_FIELDS = ["id", "name"];

/** One system after the shape check: only well-formed entries, plus the ids of malformed ones. */
interface SystemDraft {
  readonly file: string;
  readonly id: string;
  readonly name: string;
  readonly roleAdministration: readonly string[];
  readonly categories: readonly CategoryEntry[];
  readonly licenses: readonly LicenseEntry[];
  readonly defaultRoles: readonly DefaultRoleEntry[];
  readonly permissions: readonly PermissionEntry[];
  readonly surfaces: readonly SurfaceEntry[];
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

/** Collects issues for one file. */
class IssueList {
  readonly list: CatalogIssue[] = [];
  add(file: string, id: string | undefined, message: string): void {
    this.list.push(id === undefined ? { file, message } : { file, id, message });
  }
}

function validate(sources: readonly CatalogSource[], initial: readonly CatalogIssue[]): Catalog {
  const issues = new IssueList();
  issues.list.push(...initial);
  const drafts: SystemDraft[] = [];
  // Systems whose file could not be used at all: references into them are not reported as unknown.
  const brokenSystems = new Set<string>();
  const fileOfSystem = new Map<string, string>();

  for (const source of sources) {
    const expected = basename(source.file).replace(/\.json$/, "");
    if (source.data === BROKEN) {
      brokenSystems.add(expected);
      continue;
    }
    const draft = checkSystemShape(source, expected, issues);
    if (draft === null) {
      brokenSystems.add(expected);
      continue;
    }
    const previous = fileOfSystem.get(draft.id);
    if (previous !== undefined) {
      issues.add(draft.file, undefined, `system id '${draft.id}' is already used by ${previous}`);
      continue;
    }
    fileOfSystem.set(draft.id, draft.file);
    if (draft.dropped.all) brokenSystems.add(draft.id);
    drafts.push(draft);
  }

  const refs = new References(drafts, brokenSystems);
  for (const draft of drafts) checkReferences(draft, refs, issues);
  checkCycles(drafts, refs, issues);

  if (issues.list.length > 0) {
    // Group by file, in the order files were given; within a file, in the order found.
    const order = new Map(sources.map((s, i) => [s.file, i] as const));
    const rank = (i: CatalogIssue) => order.get(i.file) ?? -1;
    throw new CatalogError([...issues.list].sort((a, b) => rank(a) - rank(b)));
  }
  return assemble(drafts);
}

// ---------------------------------------------------------------------------------------------
// Shape: types, required fields, enums, key syntax, duplicates within a list.

function checkSystemShape(source: CatalogSource, expected: string, issues: IssueList): SystemDraft | null {
  const { file, data } = source;
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

  const roleAdministration = stringList(data, "roleAdministration", "system", undefined, fail) ?? [];

  const categories = entries(list("categories"), "category", "id", fail, (e, label, eid) => {
    if (!checkNamed(e, label, eid, fail)) {
      if (eid !== undefined) dropped.categories.add(eid);
      return null;
    }
    return { id: e.id as string, name: e.name as string };
  });
  const licenses = entries(list("licenses"), "license", "id", fail, (e, label, eid) => {
    if (!checkNamed(e, label, eid, fail)) {
      if (eid !== undefined) dropped.licenses.add(eid);
      return null;
    }
    return { id: e.id as string, name: e.name as string };
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
    roleAdministration,
    categories,
    licenses,
    defaultRoles,
    permissions,
    surfaces,
    dropped,
  };
}

type Fail = (id: string | undefined, message: string) => void;

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

function checkNamed(e: Record<string, unknown>, label: string, id: string | undefined, fail: Fail): boolean {
  const before = failures(fail);
  unknownFields(e, NAMED_FIELDS, label, id, before.fail);
  localId(e, "id", label, id, before.fail);
  requiredString(e, "name", label, id, before.fail);
  return before.count() === 0;
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
  if (f.count() > 0 || roleId === null || name === null || grants === null) return null;
  if (required === null || licenses === null || template === null) return null;
  return { id: roleId, name, grants, required, licenses, template };
}

function checkPermission(
  e: Record<string, unknown>,
  label: string,
  id: string | undefined,
  fail: Fail,
): PermissionEntry | null {
  const f = failures(fail);
  unknownFields(e, PERMISSION_FIELDS, label, id, f.fail);
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
  if (f.count() > 0 || key === null || name === null || category === null || summary === null) return null;
  if (pages === null || licenses === null || implies === null || status === null || mutual === null)
    return null;
  if (scope === undefined) return null;
  return { key, name, category, summary, pages, licenses, requires, implies, status, mutual, scope };
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
  if (f.count() > 0 || surfaceId === null || surfaceLabel === null || kind === null) return null;
  if (location === null || urlPattern === null || selector === null || requires === null) return null;
  return { id: surfaceId, label: surfaceLabel, kind, location, urlPattern, selector, requires };
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

/** Wraps `fail` to count what this entry reported, so a malformed entry can be dropped. */
function failures(fail: Fail): { fail: Fail; count: () => number } {
  let n = 0;
  return {
    fail: (id, message) => {
      n++;
      fail(id, message);
    },
    count: () => n,
  };
}

function unknownFields(
  e: Record<string, unknown>,
  allowed: readonly string[],
  label: string,
  id: string | undefined,
  fail: Fail,
): void {
  for (const field of Object.keys(e)) {
    if (!allowed.includes(field)) {
      const near = closestKey(field, allowed);
      fail(id, `${label}: unknown field '${field}'${near === null ? "" : ` (did you mean '${near}'?)`}`);
    }
  }
}

function requiredString(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  const value = e[field];
  if (typeof value === "string" && value.trim() !== "") return value;
  fail(id, `${label}: '${field}' must be a non-empty string, got ${describeValue(value)}`);
  return null;
}

/** A local id (category, license, role, surface): non-empty, no `/` (that would make it look qualified), no spaces. */
function localId(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  const value = requiredString(e, field, label, id, fail);
  if (value === null) return null;
  if (value.includes("/") || /\s/.test(value)) {
    fail(id, `${label}: ${field} '${value}' must be local: no '/' and no spaces`);
    return null;
  }
  return value;
}

/** A local permission key: also limited to the characters the requirement text form can carry. */
function permissionKey(
  value: unknown,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string | null {
  if (typeof value !== "string" || value === "") {
    fail(id, `${label}: '${field}' must be a non-empty string, got ${describeValue(value)}`);
    return null;
  }
  if (value.includes("/") || !REQUIREMENT_KEY_PATTERN.test(value)) {
    fail(id, `${label}: ${field} '${value}' may only hold letters, digits, '_', ':', '.', '-'`);
    return null;
  }
  if (REQUIREMENT_KEYWORDS.includes(value.toLowerCase())) {
    fail(id, `${label}: ${field} '${value}' is a word the requirement text form reserves`);
    return null;
  }
  return value;
}

function stringList(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): string[] | null {
  const value = e[field];
  if (!Array.isArray(value)) {
    fail(id, `${label}: '${field}' must be an array of strings, got ${describeValue(value)}`);
    return null;
  }
  const bad = value.findIndex((v) => typeof v !== "string" || v.trim() === "");
  if (bad >= 0) {
    fail(
      id,
      `${label}: '${field}' item #${bad + 1} must be a non-empty string, got ${describeValue(value[bad])}`,
    );
    return null;
  }
  const list = value as string[];
  const twice = list.filter((v, i) => list.indexOf(v) !== i);
  if (twice.length > 0) fail(id, `${label}: '${field}' lists '${twice[0]}' more than once`);
  return list;
}

function boolean(
  e: Record<string, unknown>,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): boolean | null {
  const value = e[field];
  if (typeof value === "boolean") return value;
  fail(id, `${label}: '${field}' must be true or false, got ${describeValue(value)}`);
  return null;
}

/** An enum field; with `nullable`, `null` is allowed too. Returns `undefined` when invalid (`null` is a value). */
function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: true,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null | undefined;
function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: false,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null;
function oneOf<T extends string>(
  e: Record<string, unknown>,
  field: string,
  values: readonly T[],
  nullable: boolean,
  label: string,
  id: string | undefined,
  fail: Fail,
): T | null | undefined {
  const value = e[field];
  if (nullable && value === null) return null;
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  const allowed = values.map((v) => `'${v}'`).join(", ") + (nullable ? " or null" : "");
  fail(id, `${label}: '${field}' must be one of ${allowed}, got ${describeValue(value)}`);
  return nullable ? undefined : null;
}

/** Checks the shape of a requirement expression: keys, or non-empty `{all}` / `{any}` groups. */
function requirement(
  value: unknown,
  field: string,
  label: string,
  id: string | undefined,
  fail: Fail,
): RequirementExpr | null {
  const walk = (v: unknown, path: string): RequirementExpr | null => {
    if (typeof v === "string") {
      if (v !== "" && REQUIREMENT_KEY_PATTERN.test(v)) return v;
      fail(id, `${label}: ${path}: '${v}' is not a permission key`);
      return null;
    }
    if (isRecord(v)) {
      const keys = Object.keys(v);
      const kind = keys[0];
      if (keys.length === 1 && (kind === "all" || kind === "any")) {
        const items = v[kind];
        if (!Array.isArray(items)) {
          fail(id, `${label}: ${path}: '${kind}' must be an array, got ${describeValue(items)}`);
          return null;
        }
        if (items.length === 0) {
          fail(id, `${label}: ${path}: empty '${kind}' group; name at least one permission`);
          return null;
        }
        const checked = items.map((item, i) => walk(item, `${path}.${kind}[${i}]`));
        if (checked.some((c) => c === null)) return null;
        const list = checked as RequirementExpr[];
        return kind === "all" ? { all: list } : { any: list };
      }
    }
    fail(
      id,
      `${label}: ${path}: expected a permission key, {"all": [...]} or {"any": [...]}, got ${describeValue(v)}`,
    );
    return null;
  };
  return walk(value, field);
}

// ---------------------------------------------------------------------------------------------
// References: categories, licenses, permissions across the whole catalog.

/** Every known qualified id, for resolving references and suggesting near misses. */
class References {
  readonly permissions = new Map<string, { readonly system: SystemDraft; readonly entry: PermissionEntry }>();
  readonly licenses = new Set<string>();
  /** Qualified ids of malformed entries and ids inside broken systems: never reported as unknown. */
  private readonly droppedPermissions = new Set<string>();
  private readonly droppedLicenses = new Set<string>();

  constructor(
    drafts: readonly SystemDraft[],
    private readonly brokenSystems: ReadonlySet<string>,
  ) {
    for (const system of drafts) {
      for (const entry of system.permissions)
        this.permissions.set(`${system.id}/${entry.key}`, { system, entry });
      for (const license of system.licenses) this.licenses.add(`${system.id}/${license.id}`);
      for (const key of system.dropped.permissions) this.droppedPermissions.add(`${system.id}/${key}`);
      for (const key of system.dropped.licenses) this.droppedLicenses.add(`${system.id}/${key}`);
    }
  }

  /**
   * Problem text for a permission reference written in `system`'s file, or `null` when it resolves
   * or when its target is already reported as malformed.
   */
  permissionProblem(ref: string, system: string): string | null {
    const key = qualifyKey(ref, system);
    if (this.permissions.has(key) || this.droppedPermissions.has(key)) return null;
    if (this.brokenSystems.has(systemOf(key))) return null;
    return `unknown permission '${ref}'${suggestion(ref, key, system, this.permissions.keys())}`;
  }

  /** Problem text for a license reference, or `null` when it resolves. */
  licenseProblem(ref: string, system: string): string | null {
    const id = qualifyKey(ref, system);
    if (this.licenses.has(id) || this.droppedLicenses.has(id)) return null;
    if (this.brokenSystems.has(systemOf(id))) return null;
    return `unknown license '${ref}'${suggestion(ref, id, system, this.licenses)}`;
  }
}

function systemOf(qualified: string): string {
  return qualified.slice(0, qualified.lastIndexOf("/"));
}

/** `" (did you mean 'x'?)"`, showing the suggestion in the same local/qualified form as the reference. */
function suggestion(ref: string, qualified: string, system: string, known: Iterable<string>): string {
  const near = closestKey(qualified, known);
  if (near === null) return "";
  const shown = !ref.includes("/") && systemOf(near) === system ? near.slice(system.length + 1) : near;
  return ` (did you mean '${shown}'?)`;
}

function checkReferences(system: SystemDraft, refs: References, issues: IssueList): void {
  const fail = (id: string | undefined, message: string) => issues.add(system.file, id, message);
  const categories = new Set(system.categories.map((c) => c.id));

  for (const ref of system.roleAdministration) {
    const problem = refs.permissionProblem(ref, system.id);
    if (problem !== null) fail(undefined, `system: roleAdministration names ${problem}`);
  }

  for (const p of system.permissions) {
    const label = `permission '${p.key}'`;
    if (!categories.has(p.category) && !system.dropped.categories.has(p.category)) {
      const near = closestKey(p.category, categories);
      fail(
        p.key,
        `${label}: unknown category '${p.category}'${near === null ? "" : ` (did you mean '${near}'?)`}`,
      );
    }
    for (const ref of p.licenses) {
      const problem = refs.licenseProblem(ref, system.id);
      if (problem !== null) fail(p.key, `${label}: needs ${problem}`);
    }
    if (p.requires !== null) {
      for (const ref of requirementKeys(p.requires)) {
        const problem = refs.permissionProblem(ref, system.id);
        if (problem !== null) fail(p.key, `${label}: requires ${problem}`);
      }
    }
    for (const ref of p.implies) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(p.key, `${label}: implies ${problem}`);
    }
  }

  for (const s of system.surfaces) {
    for (const ref of requirementKeys(s.requires)) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(s.id, `surface '${s.id}': requires ${problem}`);
    }
  }

  for (const role of system.defaultRoles) {
    const label = `default role '${role.id}'`;
    for (const ref of role.grants) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: grants ${problem}`);
    }
    const granted = new Set(role.grants.map((k) => qualifyKey(k, system.id)));
    for (const ref of role.required) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: required names ${problem}`);
      else if (!granted.has(qualifyKey(ref, system.id))) {
        fail(role.id, `${label}: required permission '${ref}' is not in its grants`);
      }
    }
    for (const ref of role.licenses) {
      const problem = refs.licenseProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: is associated with ${problem}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cycles: over "requires" edges, and separately over "implies" edges.

function checkCycles(drafts: readonly SystemDraft[], refs: References, issues: IssueList): void {
  const requires = new Map<string, string[]>();
  const implies = new Map<string, string[]>();
  for (const system of drafts) {
    for (const p of system.permissions) {
      const key = `${system.id}/${p.key}`;
      const resolved = (refs_: readonly string[]) =>
        refs_.map((r) => qualifyKey(r, system.id)).filter((r) => refs.permissions.has(r));
      requires.set(key, resolved(p.requires === null ? [] : requirementKeys(p.requires)));
      implies.set(key, resolved(p.implies));
    }
  }
  for (const [graph, what] of [
    [requires, "requirement cycle"],
    [implies, "implication cycle (it ends up implying itself)"],
  ] as const) {
    for (const cycle of findCycles(graph)) {
      const start = refs.permissions.get(cycle[0]!)!;
      const sameSystem = cycle.every((k) => systemOf(k) === start.system.id);
      const shown = [...cycle, cycle[0]!].map((k) => (sameSystem ? k.slice(start.system.id.length + 1) : k));
      issues.add(
        start.system.file,
        start.entry.key,
        `permission '${start.entry.key}': ${what}: ${shown.join(" → ")}`,
      );
    }
  }
}

/**
 * One cycle per strongly connected component that has one (Tarjan's algorithm, iterative so a
 * long chain cannot overflow the stack), each as the path of keys from its alphabetically first
 * member back to just before it, so the report is stable.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const nodes = [...graph.keys()].sort();

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        for (;;) {
          const member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        components.push(component);
      }
    }
  }

  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const selfLoop = (graph.get(start) ?? []).includes(start);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([start]);
      continue;
    }
    // Shortest path inside the component from start back to start (breadth-first, sorted edges).
    const previous = new Map<string, string>();
    const queue = [start];
    let closing: string | null = null;
    while (queue.length > 0 && closing === null) {
      const node = queue.shift()!;
      for (const to of [...(graph.get(node) ?? [])].sort()) {
        if (!members.has(to)) continue;
        if (to === start) {
          closing = node;
          break;
        }
        if (!previous.has(to)) {
          previous.set(to, node);
          queue.push(to);
        }
      }
    }
    const path: string[] = [];
    for (let node: string | undefined = closing ?? start; node !== undefined && node !== start; ) {
      path.unshift(node);
      node = previous.get(node);
    }
    cycles.push([start, ...path]);
  }
  return cycles.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Assembly: qualified keys everywhere, systems in catalog order.

function assemble(drafts: readonly SystemDraft[]): Catalog {
  // The seed systems in their documented order; any other system after them, by id.
  const rank = (id: string) => {
    const i = (SYSTEM_IDS as readonly string[]).indexOf(id);
    return i < 0 ? SYSTEM_IDS.length : i;
  };
  const ordered = [...drafts].sort(
    (a, b) => rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );

  const systems: CatalogSystem[] = [];
  const permissions = new Map<string, CatalogPermission>();
  const licenses = new Map<string, CatalogLicense>();
  const surfaces = new Map<string, CatalogSurface>();
  for (const d of ordered) {
    const q = (key: string) => qualifyKey(key, d.id);
    const categoryName = new Map(d.categories.map((c) => [c.id, c.name] as const));
    const systemLicenses = d.licenses.map(
      (l): CatalogLicense => ({ id: q(l.id), system: d.id, name: l.name }),
    );
    const systemPermissions = d.permissions.map(
      (p): CatalogPermission => ({
        key: q(p.key),
        system: d.id,
        localKey: p.key,
        name: p.name,
        category: p.category,
        categoryName: categoryName.get(p.category) ?? p.category,
        summary: p.summary,
        pages: [...p.pages],
        licenses: p.licenses.map(q),
        requires: p.requires === null ? null : normalizeRequirement(qualifyRequirement(p.requires, d.id)),
        implies: p.implies.map(q),
        status: p.status,
        mutual: p.mutual,
        scope: p.scope,
      }),
    );
    const systemSurfaces = d.surfaces.map(
      (s): CatalogSurface => ({
        id: q(s.id),
        system: d.id,
        label: s.label,
        kind: s.kind,
        location: s.location,
        urlPattern: s.urlPattern,
        selector: s.selector,
        requires: normalizeRequirement(qualifyRequirement(s.requires, d.id)),
      }),
    );
    const defaultRoles = d.defaultRoles.map(
      (r): CatalogDefaultRole => ({
        id: r.id,
        system: d.id,
        name: r.name,
        grants: r.grants.map(q),
        required: r.required.map(q),
        licenses: r.licenses.map(q),
        template: r.template,
      }),
    );
    systems.push({
      id: d.id,
      name: d.name,
      roleAdministration: d.roleAdministration.map(q),
      categories: d.categories.map((c) => ({ id: c.id, name: c.name })),
      licenses: systemLicenses,
      defaultRoles,
      permissions: systemPermissions,
      surfaces: systemSurfaces,
    });
    for (const p of systemPermissions) permissions.set(p.key, p);
    for (const l of systemLicenses) licenses.set(l.id, l);
    for (const s of systemSurfaces) surfaces.set(s.id, s);
  }
  return { systems, permissions, licenses, surfaces };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short description of a value for "got ..." in messages. */
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value === "" ? "an empty string" : `'${value}'`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Adds the line and column to V8's "at position N" so a person can find it in an editor. */
function jsonErrorWithLine(message: string, text: string): string {
  const match = /at position (\d+)/.exec(message);
  if (match === null || /line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.replace(/^\uFEFF/, "").slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `${message} (line ${line}, column ${column})`;
}

/** Relative to the working directory when inside it, so messages read `catalog/data/x.json`. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
